"""Downlinks in PostgreSQL: queued by `smati downlink send`, moved on by the network's
events, taken by a Sigfox device's bidirectional callback."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from models.downlink import Downlink, DownlinkEvent, states_before
from models.errors import SmatiError

__all__ = [
    "DownlinksUnreachable",
    "SigfoxQueue",
    "downlinks_of",
    "insert_downlink",
    "record_event",
    "take_sigfox",
]

_INSERT = """
    INSERT INTO downlinks (
        id, tenant_id, device_id, server, application, network_tenant, network_device_id,
        f_port, payload, confirmed, state
    )
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'queued')
    ON CONFLICT (id) DO NOTHING
"""
# The event must come from the downlink's own server, application and device (EUIs and
# Sigfox ids in either case): an event naming another device's downlink changes nothing.
_ADVANCE = sql.SQL("""
    UPDATE downlinks
    SET state = %(state)s, detail = %(detail)s, {at} = coalesce({at}, now())
    WHERE id = %(id)s AND state = ANY(%(from)s)
      AND server = %(server)s AND upper(network_device_id) = upper(%(device)s)
      AND lower(application) = lower(%(application)s)
      AND network_tenant IS NOT DISTINCT FROM %(network_tenant)s
""")
# A retried callback of the same uplink gets the downlink it was given; else the oldest
# queued one is taken, once, even by concurrent callbacks.
_TAKE_SIGFOX = """
    WITH given AS (
        SELECT id, payload FROM downlinks
        WHERE server = 'sigfox' AND tenant_id = %(tenant)s
          AND upper(network_device_id) = upper(%(device)s) AND answered_uplink = %(uplink)s
    ), taken AS (
        UPDATE downlinks SET state = 'sent', sent_at = now(), answered_uplink = %(uplink)s
        WHERE id = (
            SELECT id FROM downlinks
            WHERE server = 'sigfox' AND state = 'queued' AND tenant_id = %(tenant)s
              AND upper(network_device_id) = upper(%(device)s)
              AND NOT EXISTS (SELECT 1 FROM given)
            ORDER BY queued_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id, payload
    )
    SELECT payload FROM given UNION ALL SELECT payload FROM taken
"""
_OF_DEVICE = """
    SELECT id, device_id, server, f_port, payload, confirmed, state, detail,
           queued_at, sent_at, acknowledged_at, failed_at
    FROM downlinks
    WHERE tenant_id = %s AND device_id = %s
    ORDER BY queued_at DESC, id
    LIMIT %s
"""


def insert_downlink(conn: psycopg.Connection, downlink: Downlink) -> bool:
    """Store `downlink` as queued; False if its id was stored already (nothing changes)."""
    route = downlink.route
    with conn.transaction():
        cursor = conn.execute(
            _INSERT,
            (
                downlink.id,
                downlink.tenant_id,
                downlink.device_id,
                route.server.value,
                route.application,
                route.network_tenant,
                route.network_device_id,
                downlink.f_port,
                downlink.payload,
                downlink.confirmed,
            ),
        )
    return cursor.rowcount == 1


def record_event(conn: psycopg.Connection, event: DownlinkEvent) -> bool:
    """Move the event's downlink to its state; False if that would not move it forward
    (a repeated or late event) or the downlink is not the event's device's."""
    route = event.route
    statement = _ADVANCE.format(at=sql.Identifier(f"{event.state.value}_at"))
    params: dict[str, Any] = {
        "state": event.state.value,
        "detail": event.detail,
        "id": event.downlink_id,
        "from": [state.value for state in states_before(event.state)],
        "server": route.server.value,
        "device": route.network_device_id,
        "application": route.application,
        "network_tenant": route.network_tenant,
    }
    with conn.transaction():
        return conn.execute(statement, params).rowcount == 1


def take_sigfox(conn: psycopg.Connection, tenant_id: str, device: str, uplink: str) -> bytes | None:
    """The payload answering the bidirectional callback of `uplink` from Sigfox `device`,
    marked sent; None when nothing is queued for it."""
    params = {"tenant": tenant_id, "device": device, "uplink": uplink}
    with conn.transaction():
        row = conn.execute(_TAKE_SIGFOX, params).fetchone()
    return None if row is None else bytes(row[0])


def downlinks_of(
    conn: psycopg.Connection, tenant_id: str, device_id: str, limit: int
) -> list[dict[str, Any]]:
    """A device's downlinks, newest first."""
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(_OF_DEVICE, (tenant_id, device_id, limit)).fetchall()


class DownlinksUnreachable(SmatiError, ConnectionError):
    """The database holding the downlinks cannot be reached."""


class SigfoxQueue:
    """The queued Sigfox downlinks, as the webhook connector takes them (off its loop)."""

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url

    async def reply_for(self, tenant_id: str, device: str, uplink: str) -> bytes | None:
        return await asyncio.to_thread(self._take, tenant_id, device, uplink)

    def _take(self, tenant_id: str, device: str, uplink: str) -> bytes | None:
        try:
            with psycopg.connect(self._database_url) as conn:
                return take_sigfox(conn, tenant_id, device, uplink)
        except psycopg.OperationalError as error:
            raise DownlinksUnreachable(str(error).strip().splitlines()[0]) from None
