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

-- The corrected readings' local days, in `usage_daily`'s shape plus the estimates counted.
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

-- `usage_daily_corrected`: `usage_daily`'s days of the readings as corrected, which the
-- reports read by default (`usage_daily` stays the readings' own, for --raw), with the
-- estimates counted. A usage without any active correction has the same days in both.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        -- Only the usages with corrections are grouped from the corrected readings.
        EXECUTE $sql$
            CREATE VIEW usage_daily_corrected AS
            SELECT d.*, 0 AS estimated FROM usage_daily d
            WHERE NOT EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = d.usage_id AND c.active
            )
            UNION ALL
            SELECT k.* FROM corrected_daily k
            WHERE EXISTS (
                SELECT 1 FROM reading_corrections c WHERE c.usage_id = k.usage_id AND c.active
            )
        $sql$;
        EXECUTE $sql$
            CREATE FUNCTION refresh_usage_daily_corrected() RETURNS integer LANGUAGE sql
            AS 'SELECT 0'
        $sql$;
    ELSE
        CREATE TABLE usage_daily_corrected (LIKE usage_daily INCLUDING ALL);
        ALTER TABLE usage_daily_corrected ADD COLUMN estimated integer NOT NULL DEFAULT 0;
        INSERT INTO usage_daily_corrected SELECT *, 0 FROM usage_daily;
        CREATE TABLE usage_daily_corrected_pending (LIKE usage_daily_pending);
        -- Ranges the raw rollup has yet to recompute are the corrected one's too.
        INSERT INTO usage_daily_corrected_pending SELECT * FROM usage_daily_pending;

        -- The readings' statement triggers now note their ranges for both rollups, from
        -- one pass over the changed rows; corrections, for the corrected one only.
        CREATE OR REPLACE FUNCTION note_changed_readings() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            WITH ranges AS (
                SELECT usage_id, min(ts), max(ts) FROM changed_rows GROUP BY usage_id
            ), raw AS (
                INSERT INTO usage_daily_pending SELECT * FROM ranges
            )
            INSERT INTO usage_daily_corrected_pending SELECT * FROM ranges;
            RETURN NULL;
        END
        $f$;
        CREATE FUNCTION note_changed_corrections() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            INSERT INTO usage_daily_corrected_pending
            SELECT usage_id, min(ts), max(ts) FROM changed_rows GROUP BY usage_id;
            RETURN NULL;
        END
        $f$;
        CREATE TRIGGER reading_corrections_inserted AFTER INSERT ON reading_corrections
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_corrections();
        CREATE TRIGGER reading_corrections_updated AFTER UPDATE ON reading_corrections
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_corrections();

        -- Recomputes the corrected local days of the pending ranges (after
        -- refresh_usage_daily(), whose days it copies for the usages without active
        -- corrections); returns how many usages. The other usages' days are grouped from
        -- the corrected readings (read through the usage's key).
        CREATE FUNCTION refresh_usage_daily_corrected() RETURNS integer LANGUAGE plpgsql AS $f$
        DECLARE
            touched integer;
            usage record;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('refresh_usage_daily_corrected'));
            CREATE TEMPORARY TABLE corrected_days ON COMMIT DROP AS
            WITH taken AS (
                DELETE FROM usage_daily_corrected_pending RETURNING usage_id, from_ts, to_ts
            )
            SELECT t.usage_id, bool_or(c.usage_id IS NOT NULL) AS corrected,
                   min((t.from_ts AT TIME ZONE coalesce(e.timezone, 'UTC'))::date) AS first_day,
                   max((t.to_ts AT TIME ZONE coalesce(e.timezone, 'UTC'))::date) AS last_day
            FROM taken t
            LEFT JOIN usages u ON u.id = t.usage_id
            LEFT JOIN entities e ON e.id = u.entity_id
            LEFT JOIN LATERAL (
                SELECT c.usage_id FROM reading_corrections c
                WHERE c.usage_id = t.usage_id AND c.active LIMIT 1
            ) c ON true
            GROUP BY t.usage_id;
            DELETE FROM usage_daily_corrected d USING corrected_days r
            WHERE d.usage_id = r.usage_id AND d.day BETWEEN r.first_day AND r.last_day;
            INSERT INTO usage_daily_corrected
            SELECT d.*, 0 FROM corrected_days r
            JOIN usage_daily d
              ON d.usage_id = r.usage_id AND d.day BETWEEN r.first_day AND r.last_day
            WHERE NOT r.corrected;
            -- One usage at a time: its id a plain parameter, the planner reads its
            -- readings and corrections through their keys (a lateral join read them all).
            FOR usage IN SELECT * FROM corrected_days WHERE corrected LOOP
                INSERT INTO usage_daily_corrected
                SELECT * FROM corrected_daily k
                WHERE k.usage_id = usage.usage_id
                  AND k.day BETWEEN usage.first_day AND usage.last_day;
            END LOOP;
            SELECT count(*) INTO touched FROM corrected_days;
            DROP TABLE corrected_days;
            RETURN touched;
        END
        $f$;
    END IF;
END
$$;
