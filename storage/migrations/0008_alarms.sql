-- Alarms (ThingsBoard's model): raised from detection events by alarm rules
-- (models.alarms), at most one open per usage and type. The stream writes them with the
-- batch that changed them (upserts on the deterministic id: a replay finds the same
-- alarm); a person acknowledges or clears them by hand (CLI, HTTP API), which the
-- stream's upserts never undo. Times are the data's, like every transition of the stream.
CREATE TABLE alarms (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL,
    entity_id     text NOT NULL,
    equipment_id  text NOT NULL,
    usage_id      text NOT NULL,
    device_id     text,
    type          text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
    start_ts      timestamptz NOT NULL,
    last_seen_ts  timestamptz NOT NULL,
    end_ts        timestamptz,
    cleared       boolean NOT NULL DEFAULT false,
    -- NULL when the data cleared it, else who cleared it by hand.
    cleared_by    text,
    acknowledged  boolean NOT NULL DEFAULT false,
    ack_ts        timestamptz,
    ack_by        text,
    flapping      boolean NOT NULL DEFAULT false,
    occurrences   integer NOT NULL DEFAULT 1 CHECK (occurrences > 0),
    details       jsonb NOT NULL DEFAULT '{}',
    status        text GENERATED ALWAYS AS (
        CASE WHEN cleared THEN 'cleared' ELSE 'active' END
        || '_' || CASE WHEN acknowledged THEN 'ack' ELSE 'unack' END
    ) STORED,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (cleared = (end_ts IS NOT NULL)),
    CHECK (acknowledged = (ack_ts IS NOT NULL))
);
CREATE UNIQUE INDEX alarms_one_open_idx ON alarms (usage_id, type) WHERE NOT cleared;
CREATE INDEX alarms_tenant_idx ON alarms (tenant_id, cleared, start_ts);

-- Every transition of an alarm: raised, severity_changed, repeated, flapping_started,
-- flapping_stopped, acknowledged, cleared, escalated, ... with who made it ('stream' for
-- the data). The key makes a replayed transition a no-op.
CREATE TABLE alarm_history (
    alarm_id    text NOT NULL REFERENCES alarms (id),
    ts          timestamptz NOT NULL,
    transition  text NOT NULL,
    severity    text NOT NULL,
    actor       text NOT NULL DEFAULT 'stream',
    details     jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alarm_id, ts, transition)
);

-- Open alarms counted per tenant, entity and equipment (`level` says which), by status
-- and severity: what a maintenance dashboard shows first.
CREATE VIEW alarm_counts AS
    SELECT CASE
               WHEN GROUPING(entity_id) = 1 THEN 'tenant'
               WHEN GROUPING(equipment_id) = 1 THEN 'entity'
               ELSE 'equipment'
           END AS level,
           tenant_id, entity_id, equipment_id,
           count(*) AS open,
           count(*) FILTER (WHERE NOT acknowledged) AS unacknowledged,
           count(*) FILTER (WHERE severity = 'critical') AS critical,
           count(*) FILTER (WHERE severity = 'major') AS major,
           count(*) FILTER (WHERE severity = 'minor') AS minor,
           count(*) FILTER (WHERE severity = 'warning') AS warning,
           count(*) FILTER (WHERE flapping) AS flapping
    FROM alarms
    WHERE NOT cleared
    GROUP BY GROUPING SETS ((tenant_id), (tenant_id, entity_id), (tenant_id, entity_id, equipment_id));

-- Whoever changes an alarm (the stream, a person through the CLI or the HTTP API), its
-- notifier hears it at once: NOTIFY on channel `alarms` with the alarm's id, sent when
-- the writing transaction commits.
CREATE FUNCTION notify_alarm_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('alarms', NEW.id);
    RETURN NULL;
END;
$$;
CREATE TRIGGER alarms_notify AFTER INSERT OR UPDATE ON alarms
    FOR EACH ROW EXECUTE FUNCTION notify_alarm_change();
