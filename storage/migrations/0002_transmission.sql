-- Transmission monitoring: the current transmission of each usage, the history of its
-- status, and its gaps. All three are written by the stream, idempotently: a replay
-- after a restart rewrites the same rows.

-- One row per usage heard of or announced violet; the worker owning the usage's
-- partition upserts it after each batch of readings and each change of status.
CREATE TABLE usage_transmission (
    usage_id             text PRIMARY KEY,
    tenant_id            text NOT NULL,
    last_reading_at      timestamptz,
    period_registered_s  double precision NOT NULL,
    period_estimated_s   double precision,
    status               text NOT NULL CHECK (status IN ('green', 'orange', 'red', 'violet')),
    status_since         timestamptz,
    open_gap_start       timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_transmission_tenant_idx ON usage_transmission (tenant_id);

-- Each change of status, from its transmission_status detection event (same id).
CREATE TABLE status_history (
    event_id    text PRIMARY KEY,
    usage_id    text NOT NULL,
    tenant_id   text NOT NULL,
    ts          timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('green', 'orange', 'red', 'violet')),
    previous    text
);
CREATE INDEX status_history_usage_ts_idx ON status_history (usage_id, ts);

-- A gap is known by its usage and start (the last reading before the silence). It is
-- 'open' while the silence lasts, 'closed' once readings resumed (late readings may
-- still shorten it), 'filled' when late readings showed it was no gap.
CREATE TABLE gaps (
    usage_id    text NOT NULL,
    start_ts    timestamptz NOT NULL,
    tenant_id   text NOT NULL,
    end_ts      timestamptz,
    duration_s  double precision,
    state       text NOT NULL CHECK (state IN ('open', 'closed', 'filled')),
    event_id    text NOT NULL,
    PRIMARY KEY (usage_id, start_ts),
    CHECK ((state = 'open') = (end_ts IS NULL) OR state = 'filled')
);
