-- Reports: the registry attributes they need, and a daily rollup of each usage's readings
-- in its entity's local days, which the reports read instead of the raw readings.

-- What KPIs relate consumption to (per m2, per occupant, per room), and the factor that
-- turns a meter's unit into kWh (gas: m3 -> kWh, about 10 to 11.5 kWh/m3 in France).
ALTER TABLE entities
    ADD COLUMN surface_m2 double precision CHECK (surface_m2 > 0),
    ADD COLUMN occupants  integer CHECK (occupants > 0),
    ADD COLUMN rooms      integer CHECK (rooms > 0);
ALTER TABLE usages ADD COLUMN kwh_per_unit double precision CHECK (kwh_per_unit > 0);

-- `usage_daily` has the same columns on both servers: one row per usage and local day
-- (the entity's zone, DST included) with the count of readings, the first and last
-- reading (an index meter's consumption is the difference of the last ones, corrected
-- by the stream's reset and rollover events), min, max, and for consumption usages the
-- sum of the non-negative values (a negative consumption is a defect, counted apart).
--
-- Plain PostgreSQL: a table, refreshed for the ranges readings touched. A statement
-- trigger notes (usage, first, last time) of every insert, update or delete in
-- `usage_daily_pending`: one small row per usage per batch, whatever the batch size, so
-- the stream's writes stay as fast as they were. `refresh_usage_daily()` (the reports
-- call it first) recomputes only the local days of those ranges, through the readings'
-- primary key. A row trigger updating the rollup instead would cost a rollup upsert per
-- reading inside the stream's transaction, and would serialise the workers on the hot
-- rows of the current day; a rollup recomputed from scratch would read 5 million rows at
-- every report.
--
-- TimescaleDB: hypertables take no transition tables. An hourly continuous aggregate
-- (real time: the last, not yet materialised hour is read from the readings) feeds a
-- view grouping its hours into the entity's local days; a zone whose offset is not a
-- whole number of hours (Asia/Kolkata) would need quarter-hour buckets.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW usage_hourly
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT usage_id, time_bucket(INTERVAL '1 hour', ts) AS hour,
                   count(*) AS readings,
                   min(ts) AS first_ts, first(value, ts) AS first_value,
                   max(ts) AS last_ts, last(value, ts) AS last_value,
                   min(value) AS min_value, max(value) AS max_value,
                   sum(greatest(value, 0)) AS sum_value,
                   sum(CASE WHEN value < 0 THEN 1 ELSE 0 END) AS negatives
            FROM readings
            GROUP BY usage_id, time_bucket(INTERVAL '1 hour', ts)
            WITH NO DATA
        $sql$;
        EXECUTE $sql$
            SELECT add_continuous_aggregate_policy('usage_hourly',
                start_offset => NULL, end_offset => INTERVAL '1 hour',
                schedule_interval => INTERVAL '15 minutes')
        $sql$;
        EXECUTE $sql$
            CREATE VIEW usage_daily AS
            SELECT h.usage_id,
                   (h.hour AT TIME ZONE coalesce(e.timezone, 'UTC'))::date AS day,
                   sum(h.readings)::integer AS readings,
                   min(h.first_ts) AS first_ts,
                   (array_agg(h.first_value ORDER BY h.hour))[1] AS first_value,
                   max(h.last_ts) AS last_ts,
                   (array_agg(h.last_value ORDER BY h.hour DESC))[1] AS last_value,
                   min(h.min_value) AS min_value, max(h.max_value) AS max_value,
                   sum(h.sum_value) AS sum_value, sum(h.negatives)::integer AS negatives
            FROM usage_hourly h
            LEFT JOIN usages u ON u.id = h.usage_id
            LEFT JOIN entities e ON e.id = u.entity_id
            GROUP BY h.usage_id, 2
        $sql$;
        EXECUTE $sql$
            CREATE FUNCTION refresh_usage_daily() RETURNS integer LANGUAGE sql
            AS 'SELECT 0'
        $sql$;
    ELSE
        CREATE TABLE usage_daily (
            usage_id     text NOT NULL,
            day          date NOT NULL,
            readings     integer NOT NULL,
            first_ts     timestamptz NOT NULL,
            first_value  double precision NOT NULL,
            last_ts      timestamptz NOT NULL,
            last_value   double precision NOT NULL,
            min_value    double precision NOT NULL,
            max_value    double precision NOT NULL,
            sum_value    double precision NOT NULL,
            negatives    integer NOT NULL,
            PRIMARY KEY (usage_id, day)
        );
        CREATE TABLE usage_daily_pending (
            usage_id  text NOT NULL,
            from_ts   timestamptz NOT NULL,
            to_ts     timestamptz NOT NULL
        );
        -- Every trigger names its transition table `changed_rows`: the new rows of an
        -- insert or update, the old rows of an update or delete.
        CREATE FUNCTION note_changed_readings() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            INSERT INTO usage_daily_pending
            SELECT usage_id, min(ts), max(ts) FROM changed_rows GROUP BY usage_id;
            RETURN NULL;
        END
        $f$;
        CREATE TRIGGER readings_inserted AFTER INSERT ON readings
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();
        CREATE TRIGGER readings_updated_to AFTER UPDATE ON readings
            REFERENCING NEW TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();
        CREATE TRIGGER readings_updated_from AFTER UPDATE ON readings
            REFERENCING OLD TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();
        CREATE TRIGGER readings_deleted AFTER DELETE ON readings
            REFERENCING OLD TABLE AS changed_rows
            FOR EACH STATEMENT EXECUTE FUNCTION note_changed_readings();

        -- Recomputes the local days of the pending ranges; returns how many usages.
        -- Serialised by a transaction lock: a range noted while it runs stays pending.
        CREATE FUNCTION refresh_usage_daily() RETURNS integer LANGUAGE plpgsql AS $f$
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
            INSERT INTO usage_daily
            SELECT d.usage_id, d.day, d.readings, d.first_ts, f.value, d.last_ts, l.value,
                   d.min_value, d.max_value, d.sum_value, d.negatives
            FROM days d
            JOIN readings f ON f.usage_id = d.usage_id AND f.ts = d.first_ts
            JOIN readings l ON l.usage_id = d.usage_id AND l.ts = d.last_ts;
            RETURN cardinality(ids);
        END
        $f$;
    END IF;
END
$$;
