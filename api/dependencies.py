"""What the routes receive: a database connection from the app's pool, and the tenant of
the request's bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg_pool import ConnectionPool

from storage.tokens import TokenHolder, token_holder

__all__ = ["Actor", "Connection", "Holder", "actor", "database_connection", "tenant_token"]

_bearer = HTTPBearer(auto_error=False, description="a tenant's token, from `smati tokens create`")


def database_connection(request: Request) -> Iterator[psycopg.Connection]:
    """A connection of the app's pool (in autocommit) for this request."""
    pool = request.app.state.pool
    assert isinstance(pool, ConnectionPool), "build_app puts the pool in the app's state"
    with pool.connection() as conn:
        yield conn


Connection = Annotated[psycopg.Connection, Depends(database_connection)]


def tenant_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    conn: Connection,
) -> TokenHolder:
    """Whom the request's live token speaks for; 401 without one."""
    holder = None if credentials is None else token_holder(conn, credentials.credentials)
    if holder is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a live bearer token is required (smati tokens create)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return holder


Holder = Annotated[TokenHolder, Depends(tenant_token)]


def actor(holder: TokenHolder, person: str | None = None) -> str:
    """Who a token's changes are recorded as: `api:` and the token's name, after the
    person's name when the request gives it (a review page's analyst)."""
    token = f"api:{holder.name}"
    return token if person is None else f"{person} ({token})"


def acting(
    holder: Holder,
    by: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            pattern=r"^[^\x00]+$",
            description="the person acting with the token, recorded before the token's name",
        ),
    ] = None,
) -> str:
    return actor(holder, by)


Actor = Annotated[str, Depends(acting)]
"""Who the request's change is recorded as."""
