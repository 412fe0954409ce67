-- The stream's own state, per usage and per radio device, written batch by batch with the
-- readings it comes from, before their offsets are committed: the stream's state lives
-- here, not in Kafka. A restarted worker reads back the rows it needs (the keys of a
-- batch, or the rows of its partitions for the transmission clock): recovery costs a
-- query, whatever the length of the stream. `raw_partition` is the raw-topic partition
-- that last fed the row (its device's): the worker that owns it watches its silence.
-- `state` is the JSON of the models' state types.

-- The current transmission of a usage is part of its state, in columns of their own so
-- that `smati status`, Grafana and reports query it without parsing the JSON.
DROP TABLE usage_transmission;
CREATE TABLE usage_states (
    usage_id            text PRIMARY KEY,
    raw_partition       integer NOT NULL,
    last_reading_at     timestamptz,
    status              text NOT NULL CHECK (status IN ('green', 'orange', 'red', 'violet')),
    status_since        timestamptz,
    period_estimated_s  double precision,
    open_gap_start      timestamptz,
    state               json NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_states_partition_idx ON usage_states (raw_partition);

-- What the stream knows of each usage's transmission, with the registered period.
CREATE VIEW usage_transmission AS
    SELECT s.usage_id, u.tenant_id, s.last_reading_at,
           u.period_s AS period_registered_s, s.period_estimated_s,
           s.status, s.status_since, s.open_gap_start, s.updated_at
    FROM usage_states s JOIN usages u ON u.id = s.usage_id;

CREATE TABLE radio_states (
    device_key     text PRIMARY KEY,
    raw_partition  integer NOT NULL,
    state          json NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX radio_states_partition_idx ON radio_states (raw_partition);
