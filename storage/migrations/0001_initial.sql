-- The initial schema: the asset registry, the readings and the detection events.
--
-- `sort_order` columns keep the order of the registry file, so that a registry
-- loaded back from the database equals the one that was saved.

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    sort_order  integer NOT NULL DEFAULT 0
);

CREATE TABLE entities (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT '',
    timezone    text NOT NULL DEFAULT 'Europe/Paris',
    sort_order  integer NOT NULL DEFAULT 0
);
CREATE INDEX entities_tenant_idx ON entities (tenant_id);

CREATE TABLE equipment (
    id          text PRIMARY KEY,
    entity_id   text NOT NULL REFERENCES entities (id),
    name        text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT '',
    sort_order  integer NOT NULL DEFAULT 0
);
CREATE INDEX equipment_entity_idx ON equipment (entity_id);

CREATE TABLE usages (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    entity_id     text NOT NULL REFERENCES entities (id),
    equipment_id  text NOT NULL REFERENCES equipment (id),
    name          text NOT NULL DEFAULT '',
    type          text NOT NULL CHECK (type IN ('index', 'consumption', 'instant')),
    unit          text NOT NULL,
    period_s      double precision NOT NULL CHECK (period_s > 0),
    min_value     double precision,
    max_value     double precision,
    index_max     double precision CHECK (index_max > 0),
    tags          text[] NOT NULL DEFAULT '{}',
    sort_order    integer NOT NULL DEFAULT 0
);
CREATE INDEX usages_equipment_idx ON usages (equipment_id);

CREATE TABLE gateways (
    id          text PRIMARY KEY,
    network     text NOT NULL CHECK (network IN ('mqtt', 'lorawan', 'sigfox')),
    entity_id   text REFERENCES entities (id),
    sort_order  integer NOT NULL DEFAULT 0
);

CREATE TABLE transceivers (
    id          text PRIMARY KEY,
    network     text NOT NULL CHECK (network IN ('mqtt', 'lorawan', 'sigfox')),
    gateway_id  text REFERENCES gateways (id),
    sort_order  integer NOT NULL DEFAULT 0
);

CREATE TABLE devices (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    model           text NOT NULL,
    transceiver_id  text REFERENCES transceivers (id),
    sort_order      integer NOT NULL DEFAULT 0
);

CREATE TABLE device_channels (
    device_id   text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    usage_id    text NOT NULL REFERENCES usages (id),
    sort_order  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, channel)
);
CREATE INDEX device_channels_usage_idx ON device_channels (usage_id);

-- No foreign key to usages (nor to tenants or devices) on purpose: readings are
-- written by the stream with the registry it had in memory, and a registry reload
-- (or a usage removed by hand) must never block or roll back ingestion.
CREATE TABLE readings (
    usage_id     text NOT NULL,
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    unit         text NOT NULL,
    tenant_id    text NOT NULL,
    source       text NOT NULL,
    device_id    text NOT NULL,
    -- The raw uplink (topic/partition/offset) the reading was decoded from: the same
    -- origin on a second write is a replay, a different one a real duplicate.
    origin       text NOT NULL,
    flags        text[] NOT NULL DEFAULT '{}',
    ingested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (usage_id, ts)
);
CREATE INDEX readings_tenant_ts_idx ON readings (tenant_id, ts);

-- Ids are deterministic (models.detection.event_id): a replayed finding is stored once.
CREATE TABLE detection_events (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    tenant_id   text NOT NULL,
    usage_id    text NOT NULL,
    ts          timestamptz NOT NULL,
    severity    text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX detection_events_usage_ts_idx ON detection_events (usage_id, ts);

-- `readings` becomes a hypertable only where TimescaleDB can be loaded, so the same
-- migration runs on plain PostgreSQL. On a server the extension must be preloaded
-- (shared_preload_libraries): without it CREATE EXTENSION is a FATAL error that ends
-- the connection, so it cannot just be tried and caught. PGlite (PostgreSQL built to
-- WASM by Emscripten) loads its TimescaleDB build on CREATE EXTENSION, no preloading.
-- EXECUTE keeps plain PostgreSQL from resolving TimescaleDB functions.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
       OR (EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
           AND (current_setting('shared_preload_libraries') LIKE '%timescaledb%'
                OR version() LIKE '%Emscripten%'))
    THEN
        EXECUTE 'CREATE EXTENSION IF NOT EXISTS timescaledb';
        EXECUTE $sql$
            SELECT create_hypertable(
                'readings', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE
            )
        $sql$;
    END IF;
END
$$;
