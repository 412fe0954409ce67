"""The HTTP API's tokens in the database: issued per tenant, listed, revoked, and looked up
by the digest of the token a caller presents (models.api_tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import class_row

from models.api_tokens import NewToken, new_token, token_digest
from models.errors import SmatiError

__all__ = [
    "StoredToken",
    "TokenError",
    "TokenHolder",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_holder",
]


class TokenError(SmatiError, ValueError):
    """A token cannot be issued or revoked as asked (unknown tenant, name taken, unknown
    or revoked token)."""


@dataclass(frozen=True)
class TokenHolder:
    """Whom a valid token speaks for."""

    tenant_id: str
    name: str


@dataclass(frozen=True)
class StoredToken:
    id: str
    tenant_id: str
    name: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


def create_token(
    conn: psycopg.Connection, tenant_id: str, name: str, created_by: str
) -> tuple[StoredToken, NewToken]:
    """Issue a token for a tenant of the registry; what is stored, and the token whose text
    is to be shown once."""
    token = new_token()
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(StoredToken)) as cur:
            cur.execute(
                "INSERT INTO api_tokens (id, tenant_id, name, digest, created_by) "
                "SELECT %s, id, %s, %s, %s FROM tenants WHERE id = %s "
                "RETURNING id, tenant_id, name, created_at, created_by, revoked_at",
                (token.id, name, token.digest, created_by, tenant_id),
            )
            stored = cur.fetchone()
    except psycopg.errors.UniqueViolation as error:
        if error.diag.constraint_name != "api_tokens_live_name_idx":
            raise
        raise TokenError(
            f"tenant {tenant_id!r} already has a live token named {name!r}: "
            "revoke it or choose another name"
        ) from None
    if stored is None:
        raise TokenError(f"tenant {tenant_id!r} is not in the registry")
    return stored, token


def list_tokens(conn: psycopg.Connection, tenant_id: str | None = None) -> list[StoredToken]:
    """Tokens issued (revoked ones too), per tenant, oldest first; never their text."""
    with conn.cursor(row_factory=class_row(StoredToken)) as cur:
        cur.execute(
            "SELECT id, tenant_id, name, created_at, created_by, revoked_at FROM api_tokens "
            "WHERE %(tenant)s::text IS NULL OR tenant_id = %(tenant)s "
            "ORDER BY tenant_id, created_at, id",
            {"tenant": tenant_id},
        )
        return cur.fetchall()


def revoke_token(conn: psycopg.Connection, token_id: str) -> StoredToken:
    """Revoke a live token now: the API refuses it from the next request on."""
    with conn.transaction(), conn.cursor(row_factory=class_row(StoredToken)) as cur:
        cur.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL "
            "RETURNING id, tenant_id, name, created_at, created_by, revoked_at",
            (token_id,),
        )
        revoked = cur.fetchone()
    if revoked is None:
        raise TokenError(f"no live token {token_id!r} (see `smati tokens list`)")
    return revoked


def token_holder(conn: psycopg.Connection, text: str) -> TokenHolder | None:
    """Whom a presented token speaks for; None if it is unknown or revoked."""
    with conn.cursor(row_factory=class_row(TokenHolder)) as cur:
        cur.execute(
            "SELECT tenant_id, name FROM api_tokens WHERE digest = %s AND revoked_at IS NULL",
            (token_digest(text),),
        )
        return cur.fetchone()
