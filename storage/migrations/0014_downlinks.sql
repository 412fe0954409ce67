-- Downlinks: payloads sent to devices through their network server, with their state as
-- the network reports it. `id` is SMATI's (the correlation id The Things Stack echoes,
-- ChirpStack's queue item id): a repeated event finds its downlink and changes nothing
-- twice. Each state's time is set once, when the downlink reaches it.
CREATE TABLE downlinks (
    id               uuid PRIMARY KEY,
    tenant_id        text NOT NULL,
    device_id        text NOT NULL,
    server           text NOT NULL CHECK (server IN ('tts', 'chirpstack', 'sigfox')),
    application      text NOT NULL,
    network_tenant   text,
    network_device_id text NOT NULL,
    f_port           integer CHECK (f_port BETWEEN 1 AND 223),
    payload          bytea NOT NULL,
    confirmed        boolean NOT NULL DEFAULT false,
    state            text NOT NULL CHECK (state IN ('queued', 'sent', 'acknowledged', 'failed')),
    detail           text NOT NULL DEFAULT '',
    -- Sigfox: the uplink whose callback carried it, so a retried callback gets it again.
    answered_uplink  text,
    queued_at        timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    acknowledged_at  timestamptz,
    failed_at        timestamptz
);
CREATE INDEX downlinks_device_idx ON downlinks (tenant_id, device_id, queued_at);
-- The Sigfox queue: the oldest downlink still queued for a device answers its next callback.
CREATE INDEX downlinks_sigfox_queue_idx
    ON downlinks (tenant_id, upper(network_device_id), queued_at)
    WHERE server = 'sigfox' AND state = 'queued';
