-- A tenant's alarm rules (registry `alarm_rules:`, models.alarms.rules) as JSON; NULL:
-- the built-in defaults.
ALTER TABLE tenants ADD COLUMN alarm_rules jsonb;
