-- Radio health of LoRaWAN and Sigfox devices: one row per frame received (duplicates from
-- several gateways or integrations already dropped by the stream), and a per-device view.
--
-- The natural key (device, time of the frame at the network server) makes a replayed
-- frame a no-op: the stream writes with ON CONFLICT DO NOTHING.
CREATE TABLE radio_frames (
    device_id      text NOT NULL,
    ts             timestamptz NOT NULL,
    source         text NOT NULL,
    network_id     text NOT NULL,
    dev_eui        text,
    f_port         integer,
    f_cnt          bigint,
    -- [{"gateway_id": ..., "rssi": ..., "snr": ...}] of every gateway that received it
    gateways       jsonb NOT NULL DEFAULT '[]',
    gateway_count  integer NOT NULL,
    best_rssi      double precision,
    best_snr       double precision,
    -- frames missing between the previous one and this one (frame-counter gap)
    lost_before    integer NOT NULL DEFAULT 0,
    counter_reset  boolean NOT NULL DEFAULT false,
    origin         text NOT NULL,
    ingested_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, ts)
);

-- Per device: frames received against frames expected from the counters (loss rate),
-- counter resets, the last and average signal, and how many gateways hear it.
CREATE VIEW radio_quality AS
SELECT
    device_id,
    count(*) AS frames,
    sum(lost_before) AS frames_lost,
    sum(lost_before)::double precision / (count(*) + sum(lost_before)) AS loss_rate,
    count(*) FILTER (WHERE counter_reset) AS counter_resets,
    max(ts) AS last_seen,
    (array_agg(best_rssi ORDER BY ts DESC))[1] AS last_rssi,
    (array_agg(best_snr ORDER BY ts DESC))[1] AS last_snr,
    avg(best_rssi) AS avg_rssi,
    avg(best_snr) AS avg_snr,
    avg(gateway_count) AS avg_gateways
FROM radio_frames
GROUP BY device_id;
