-- Cleansing and gap filling that never destroy data (issue 24).
--
-- An operation (a treatment or a gap filling applied to one usage) writes corrections
-- beside the readings: a reading excluded, replaced, or a value estimated where none was
-- measured. `readings` is never updated nor deleted by it. Undoing an operation marks it
-- and its corrections inactive: the corrected view is then what it was before.
CREATE TABLE cleansing_operations (
    id           text PRIMARY KEY,
    seq          bigserial NOT NULL UNIQUE,
    tenant_id    text NOT NULL,
    usage_id     text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('cleanse', 'fill')),
    treatment    text NOT NULL,
    parameters   jsonb NOT NULL DEFAULT '{}',
    corrections  integer NOT NULL,
    applied_by   text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    undone_by    text,
    undone_at    timestamptz,
    CHECK ((undone_by IS NULL) = (undone_at IS NULL))
);
CREATE INDEX cleansing_operations_usage_idx ON cleansing_operations (tenant_id, usage_id, seq);

CREATE TABLE reading_corrections (
    id            bigserial PRIMARY KEY,
    operation_id  text NOT NULL REFERENCES cleansing_operations (id),
    tenant_id     text NOT NULL,
    usage_id      text NOT NULL,
    ts            timestamptz NOT NULL,
    action        text NOT NULL CHECK (action IN ('exclude', 'replace', 'estimate')),
    value         double precision,
    -- The value the corrected view showed before (NULL where nothing was there).
    original      double precision,
    unit          text NOT NULL,
    reason        text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    UNIQUE (operation_id, usage_id, ts),
    CHECK ((action = 'exclude') = (value IS NULL))
);
CREATE INDEX reading_corrections_active_idx ON reading_corrections (usage_id, ts, id) WHERE active;

-- The correction in force at each (usage, time): the latest active one.
CREATE VIEW active_corrections AS
SELECT DISTINCT ON (usage_id, ts) usage_id, ts, tenant_id, unit, action, value, operation_id
FROM reading_corrections
WHERE active
ORDER BY usage_id, ts, id DESC;

-- The readings as corrected: excluded ones left out, replaced ones with their new value,
-- estimates added where nothing was measured (a measured value arriving later wins over
-- an estimate of the same time), each row saying whether it is an estimate.
CREATE VIEW corrected_readings AS
SELECT r.usage_id, r.ts, coalesce(c.value, r.value) AS value, r.unit, r.tenant_id,
       coalesce(c.action = 'estimate', false) AS estimated, c.operation_id
FROM readings r
LEFT JOIN active_corrections c ON c.usage_id = r.usage_id AND c.ts = r.ts
WHERE c.action IS DISTINCT FROM 'exclude'
UNION ALL
SELECT c.usage_id, c.ts, c.value, c.unit, c.tenant_id, true, c.operation_id
FROM active_corrections c
WHERE c.action = 'estimate'
  AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.usage_id = c.usage_id AND r.ts = c.ts);

-- The corrected view's local days, in `usage_daily`'s shape plus the estimates counted.
CREATE VIEW corrected_daily AS
SELECT x.usage_id, (x.ts AT TIME ZONE coalesce(e.timezone, 'UTC'))::date AS day,
       count(*)::integer AS readings, min(x.ts) AS first_ts,
       (array_agg(x.value ORDER BY x.ts))[1] AS first_value,
       max(x.ts) AS last_ts, (array_agg(x.value ORDER BY x.ts DESC))[1] AS last_value,
       min(x.value) AS min_value, max(x.value) AS max_value,
       sum(greatest(x.value, 0)) AS sum_value,
       (count(*) FILTER (WHERE x.value < 0))::integer AS negatives,
       (count(*) FILTER (WHERE x.estimated))::integer AS estimated
FROM corrected_readings x
LEFT JOIN usages u ON u.id = x.usage_id
LEFT JOIN entities e ON e.id = u.entity_id
GROUP BY x.usage_id, 2;

-- `usage_daily` becomes the corrected rollup, which the reports read by default, and
-- `usage_daily_raw` the readings' own, for the reports asked to show the raw data. Both
-- gain `estimated` (always 0 in the raw one). A usage without any active correction has
-- the same rows in both.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        EXECUTE 'ALTER VIEW usage_daily RENAME TO usage_daily_raw';
        EXECUTE $sql$
            CREATE OR REPLACE VIEW usage_daily_raw AS
            SELECT h.usage_id,
                   (h.hour AT TIME ZONE coalesce(e.timezone, 'UTC'))::date AS day,
                   sum(h.readings)::integer AS readings,
                   min(h.first_ts) AS first_ts,
                   (array_agg(h.first_value ORDER BY h.hour))[1] AS first_value,
                   max(h.last_ts) AS last_ts,
                   (array_agg(h.last_value ORDER BY h.hour DESC))[1] AS last_value,
                   min(h.min_value) AS min_value, max(h.max_value) AS max_value,
                   sum(h.sum_value) AS sum_value, sum(h.negatives)::integer AS negatives,
                   0 AS estimated
            FROM usage_hourly h
            LEFT JOIN usages u ON u.id = h.usage_id
            LEFT JOIN entities e ON e.id = u.entity_id
            GROUP BY h.usage_id, 2
        $sql$;
        -- Only the usages with corrections are grouped from the corrected readings.
        EXECUTE $sql$
            CREATE VIEW usage_daily AS
            SELECT d.* FROM usage_daily_raw d
            WHERE NOT EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = d.usage_id AND c.active
            )
            UNION ALL
            SELECT k.* FROM corrected_daily k
            WHERE EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = k.usage_id AND c.active
            )
        $sql$;
    ELSE
        ALTER TABLE usage_daily ADD COLUMN estimated integer NOT NULL DEFAULT 0;
        CREATE TABLE usage_daily_raw (LIKE usage_daily INCLUDING ALL);
        INSERT INTO usage_daily_raw SELECT * FROM usage_daily;

        -- A correction written or undone changes its usage's corrected days.
        CREATE TRIGGER reading_corrections_inserted AFTER INSERT ON reading_corrections
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();
        CREATE TRIGGER reading_corrections_updated AFTER UPDATE ON reading_corrections
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();

        -- As in 0007, for both rollups: the raw days from the readings; the corrected
        -- days copied from them for a usage without active corrections, else grouped
        -- from the corrected readings (the usage's readings are read through its key).
        CREATE OR REPLACE FUNCTION refresh_usage_daily() RETURNS integer LANGUAGE plpgsql AS $f$
        DECLARE
            ids text[];
            zones text[];
            first_days date[];
            last_days date[];
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('refresh_usage_daily'));
            WITH taken AS (
                DELETE FROM usage_daily_pending RETURNING usage_id, from_ts, to_ts
            ), ranges AS (
                SELECT t.usage_id, coalesce(e.timezone, 'UTC') AS tz,
                       min(t.from_ts) AS from_ts, max(t.to_ts) AS to_ts
                FROM taken t
                LEFT JOIN usages u ON u.id = t.usage_id
                LEFT JOIN entities e ON e.id = u.entity_id
                GROUP BY t.usage_id, e.timezone
            )
            SELECT array_agg(usage_id), array_agg(tz),
                   array_agg((from_ts AT TIME ZONE tz)::date),
                   array_agg((to_ts AT TIME ZONE tz)::date)
            INTO ids, zones, first_days, last_days
            FROM ranges;
            IF ids IS NULL THEN
                RETURN 0;
            END IF;
            DELETE FROM usage_daily_raw d
            USING unnest(ids, first_days, last_days) AS r (usage_id, first_day, last_day)
            WHERE d.usage_id = r.usage_id AND d.day BETWEEN r.first_day AND r.last_day;
            DELETE FROM usage_daily d
            USING unnest(ids, first_days, last_days) AS r (usage_id, first_day, last_day)
            WHERE d.usage_id = r.usage_id AND d.day BETWEEN r.first_day AND r.last_day;
            WITH days AS (
                SELECT x.usage_id, (x.ts AT TIME ZONE r.tz)::date AS day,
                       count(*) AS readings, min(x.ts) AS first_ts, max(x.ts) AS last_ts,
                       min(x.value) AS min_value, max(x.value) AS max_value,
                       sum(greatest(x.value, 0)) AS sum_value,
                       count(*) FILTER (WHERE x.value < 0) AS negatives
                FROM unnest(ids, zones, first_days, last_days)
                    AS r (usage_id, tz, first_day, last_day)
                JOIN readings x
                  ON x.usage_id = r.usage_id
                 AND x.ts >= (r.first_day::timestamp AT TIME ZONE r.tz)
                 AND x.ts < ((r.last_day + 1)::timestamp AT TIME ZONE r.tz)
                GROUP BY x.usage_id, 2
            )
            INSERT INTO usage_daily_raw
            SELECT d.usage_id, d.day, d.readings, d.first_ts, f.value, d.last_ts, l.value,
                   d.min_value, d.max_value, d.sum_value, d.negatives, 0
            FROM days d
            JOIN readings f ON f.usage_id = d.usage_id AND f.ts = d.first_ts
            JOIN readings l ON l.usage_id = d.usage_id AND l.ts = d.last_ts;
            INSERT INTO usage_daily
            SELECT d.* FROM usage_daily_raw d
            JOIN unnest(ids, first_days, last_days) AS r (usage_id, first_day, last_day)
              ON d.usage_id = r.usage_id AND d.day BETWEEN r.first_day AND r.last_day
            WHERE NOT EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = r.usage_id AND c.active
            );
            INSERT INTO usage_daily
            SELECT k.*
            FROM unnest(ids, first_days, last_days) AS r (usage_id, first_day, last_day)
            JOIN LATERAL (
                SELECT * FROM corrected_daily k
                WHERE k.usage_id = r.usage_id AND k.day BETWEEN r.first_day AND r.last_day
            ) k ON true
            WHERE EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = r.usage_id AND c.active
            );
            RETURN cardinality(ids);
        END
        $f$;
    END IF;
END
$$;
