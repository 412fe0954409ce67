-- Notifications of alarms through Alertmanager (models.alerting).
-- Each tenant's routing section of the registry: receivers, routes, escalation, mute
-- intervals, as the registry file gave it (checked by models.alerting.routing).
ALTER TABLE tenants ADD COLUMN notifications jsonb;

-- What the notifier has sent for each alarm, so that a restarted notifier doubles
-- nothing: the labels last posted to Alertmanager (a severity change is a new alert, the
-- old one is resolved), the escalation level reached, whether the resolved alert went,
-- and the silence that holds an acknowledged alarm's reminders until it clears.
-- Times are the notifier's clock: escalation counts from the first notification.
-- No foreign key to alarms: purging alarms (TRUNCATE included) stays the alarms' own
-- business; a row whose alarm is gone is never read (the notifier joins from alarms).
CREATE TABLE alarm_notifications (
    alarm_id      text PRIMARY KEY,
    labels        jsonb NOT NULL,
    first_sent_at timestamptz NOT NULL,
    last_sent_at  timestamptz NOT NULL,
    level         integer NOT NULL DEFAULT 0 CHECK (level >= 0),
    resolved      boolean NOT NULL DEFAULT false,
    silence_id    text
);
-- The notifier's periodic pass: what is not finished with (resolved and silence gone).
CREATE INDEX alarm_notifications_pending_idx ON alarm_notifications (alarm_id)
    WHERE NOT resolved OR silence_id IS NOT NULL;
