-- A usage's own plausible range (registry `plausible: {min, max}`), where its unit's
-- physical bounds do not fit it: values outside are dead letters `implausible_value`.
ALTER TABLE usages
    ADD COLUMN plausible_min double precision,
    ADD COLUMN plausible_max double precision,
    ADD CONSTRAINT usages_plausible_ordered CHECK (plausible_min < plausible_max);
