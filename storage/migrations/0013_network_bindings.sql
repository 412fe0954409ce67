-- Network bindings (registry `bindings`): each The Things Stack application (with its
-- tenant id), ChirpStack application (UUID) and Sigfox device type bound to one SMATI
-- tenant; a device names the binding it is registered in, and its id on the network
-- server where it is neither its own nor its transceiver's (a TTS device id).
CREATE TABLE network_bindings (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    server          text NOT NULL CHECK (server IN ('tts', 'chirpstack', 'sigfox')),
    application     text NOT NULL,
    network_tenant  text,
    sort_order      integer NOT NULL DEFAULT 0
);

-- One SMATI tenant per application (NULL network tenants compare equal here).
CREATE UNIQUE INDEX network_bindings_application
    ON network_bindings (server, application, coalesce(network_tenant, ''));

ALTER TABLE devices
    ADD COLUMN binding_id text REFERENCES network_bindings (id),
    ADD COLUMN network_id text;

-- The same frame from several gateways or base stations (a Sigfox callback per base
-- station, two integrations of one network server) is one row: the receptions of a
-- repeated frame are merged into the row of its first, those of a gateway not yet there
-- appended.
CREATE FUNCTION merge_receptions(stored jsonb, more jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT stored || coalesce(jsonb_agg(reception ORDER BY position), '[]'::jsonb)
    FROM jsonb_array_elements(more) WITH ORDINALITY AS m (reception, position)
    WHERE NOT stored @> jsonb_build_array(
        jsonb_build_object('gateway_id', reception -> 'gateway_id')
    )
$$;
