-- Tokens of the HTTP API (`smati serve`), one tenant each: a caller sees and changes only
-- its token's tenant's alarms. Only a token's SHA-256 digest is kept: the token itself is
-- printed once, at its creation (`smati tokens create`), and cannot be read back.
CREATE TABLE api_tokens (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    digest      bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    revoked_at  timestamptz
);
-- A name tells a tenant's live tokens apart (it is the actor of their acks and clears).
CREATE UNIQUE INDEX api_tokens_live_name_idx ON api_tokens (tenant_id, name)
    WHERE revoked_at IS NULL;

-- A tenant's alarms listed latest raised first, a page at a time (the CLI and the API),
-- without sorting all of them for each page.
CREATE INDEX alarms_tenant_start_idx ON alarms (tenant_id, start_ts DESC, id);
