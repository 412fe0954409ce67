"""Item 6 of issue 20: the alarm queries a person's CLI and the HTTP API share, on a real
PostgreSQL, over alarms stored as the stream writes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from alarm_rows import T0, insert_alarm, save_site_with_alarms

from models.alarm_status import AlarmSeverity, AlarmStatus, CountLevel
from storage.alarms import (
    AlarmConflict,
    AlarmFilter,
    AlarmNotFound,
    acknowledge_alarm,
    alarm_counts,
    alarm_with_history,
    clear_alarm,
    list_alarms,
)
from storage.migrate import migrate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(database: str) -> Iterator[psycopg.Connection]:
    """The site's alarms and `boiler-hot` (acme, major, raised at T0), never changed."""
    with psycopg.connect(database, autocommit=True) as conn:
        save_site_with_alarms(conn)
        insert_alarm(conn, "boiler-hot", "hotel.boiler-temperature", alarm_type="threshold_high")
        yield conn


@pytest.fixture
def fresh(empty_database: str) -> Iterator[psycopg.Connection]:
    """A migrated database of this test's own, with the site and its alarms."""
    migrate(empty_database)
    with psycopg.connect(empty_database, autocommit=True) as conn:
        save_site_with_alarms(conn)
        yield conn


def ids(
    conn: psycopg.Connection, chosen: AlarmFilter, limit: int = 100, offset: int = 0
) -> list[str]:
    return [row["id"] for row in list_alarms(conn, chosen, limit=limit, offset=offset)]


def test_a_tenants_alarms_latest_raised_first_none_of_another_tenant(
    site: psycopg.Connection,
) -> None:
    assert ids(site, AlarmFilter(tenant_id="acme")) == [
        "co2-high",
        "boiler-hot",
        "gas-cut",
        "co2-old",
    ]
    assert ids(site, AlarmFilter(tenant_id="globex")) == ["plant-cut"]
    assert ids(site, AlarmFilter()) == ["co2-high", "plant-cut", "boiler-hot", "gas-cut", "co2-old"]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (
            AlarmFilter(tenant_id="acme", entity_id="hotel"),
            ["co2-high", "boiler-hot", "gas-cut", "co2-old"],
        ),
        (AlarmFilter(tenant_id="acme", equipment_id="hotel.lobby"), ["co2-high", "co2-old"]),
        (AlarmFilter(usage_id="hotel.gas"), ["gas-cut"]),
        (AlarmFilter(type="threshold_high"), ["co2-high", "boiler-hot", "co2-old"]),
        (AlarmFilter(statuses=(AlarmStatus.CLEARED_UNACK,)), ["co2-old"]),
        (
            AlarmFilter(severities=(AlarmSeverity.CRITICAL, AlarmSeverity.WARNING)),
            ["co2-high", "gas-cut"],
        ),
        # active at some time in the range: raised before its end, not ended before its start
        (AlarmFilter(since=T0 - timedelta(minutes=90), until=T0), ["co2-old"]),
        (
            AlarmFilter(tenant_id="acme", since=T0 - timedelta(minutes=30)),
            ["co2-high", "boiler-hot", "gas-cut"],
        ),
        (AlarmFilter(until=T0 + timedelta(minutes=30)), ["boiler-hot", "gas-cut", "co2-old"]),
        (AlarmFilter(tenant_id="globex", usage_id="hotel.gas"), []),
    ],
)
def test_alarms_filtered(
    site: psycopg.Connection, chosen: AlarmFilter, expected: list[str]
) -> None:
    assert ids(site, chosen) == expected


def test_alarms_by_pages(site: psycopg.Connection) -> None:
    acme = AlarmFilter(tenant_id="acme")
    pages = [ids(site, acme, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert pages == [["co2-high", "boiler-hot", "gas-cut"], ["co2-old"], []]


def test_an_alarm_with_its_history_in_its_tenant_only(site: psycopg.Connection) -> None:
    alarm, history = alarm_with_history(site, "gas-cut", tenant_id="acme")
    assert (alarm["usage_id"], alarm["status"], alarm["timezone"]) == (
        "hotel.gas",
        "active_unack",
        "Europe/Paris",
    )
    assert [(h["ts"], h["transition"], h["actor"]) for h in history] == [(T0, "raised", "stream")]
    with pytest.raises(AlarmNotFound, match="no alarm 'gas-cut'"):
        alarm_with_history(site, "gas-cut", tenant_id="globex")


def test_open_alarms_counted_per_tenant_entity_and_equipment(site: psycopg.Connection) -> None:
    rows = alarm_counts(site, tenant_id="acme")
    assert [
        (r["level"], r["entity_id"], r["equipment_id"], r["open"], r["critical"], r["warning"])
        for r in rows
    ] == [
        ("tenant", None, None, 3, 1, 1),
        ("entity", "hotel", None, 3, 1, 1),
        ("equipment", "hotel", "hotel.boiler", 2, 1, 0),
        ("equipment", "hotel", "hotel.lobby", 1, 0, 1),
    ]
    entities = alarm_counts(site, tenant_id=None, level=CountLevel.ENTITY)
    assert [(r["tenant_id"], r["entity_id"], r["open"]) for r in entities] == [
        ("acme", "hotel", 3),
        ("globex", "plant", 1),
    ]


def test_an_acknowledgement_is_recorded_with_who_and_when_once(fresh: psycopg.Connection) -> None:
    acked = acknowledge_alarm(fresh, "gas-cut", "alice", tenant_id="acme")
    assert (acked["status"], acked["ack_by"], acked["acknowledged"]) == (
        "active_ack",
        "alice",
        True,
    )
    _, history = alarm_with_history(fresh, "gas-cut", tenant_id="acme")
    assert [(h["transition"], h["actor"], h["ts"]) for h in history] == [
        ("raised", "stream", T0),
        ("acknowledged", "alice", acked["ack_ts"]),
    ]
    with pytest.raises(AlarmConflict, match=r"alarm gas-cut is already acknowledged \(by alice at"):
        acknowledge_alarm(fresh, "gas-cut", "bob", tenant_id="acme")
    assert alarm_with_history(fresh, "gas-cut", tenant_id=None)[0]["ack_by"] == "alice"


def test_a_clear_by_hand_ends_the_alarm_with_who_once(fresh: psycopg.Connection) -> None:
    cleared = clear_alarm(fresh, "gas-cut", "bob", tenant_id="acme")
    assert (cleared["status"], cleared["cleared_by"]) == ("cleared_unack", "bob")
    assert cleared["end_ts"] == cleared["updated_at"]
    _, history = alarm_with_history(fresh, "gas-cut", tenant_id="acme")
    assert [(h["transition"], h["actor"]) for h in history] == [
        ("raised", "stream"),
        ("cleared", "bob"),
    ]
    with pytest.raises(AlarmConflict, match=r"alarm gas-cut is already cleared \(by bob at"):
        clear_alarm(fresh, "gas-cut", "carol", tenant_id="acme")


def test_an_alarm_the_data_cleared_is_not_cleared_again_but_may_be_acknowledged(
    fresh: psycopg.Connection,
) -> None:
    with pytest.raises(AlarmConflict, match=r"alarm co2-old is already cleared \(by the data at"):
        clear_alarm(fresh, "co2-old", "bob", tenant_id="acme")
    acked = acknowledge_alarm(fresh, "co2-old", "bob", tenant_id="acme")
    assert (acked["status"], acked["cleared_by"]) == ("cleared_ack", None)


def test_another_tenants_alarm_is_neither_acknowledged_nor_cleared(
    fresh: psycopg.Connection,
) -> None:
    before = alarm_with_history(fresh, "gas-cut", tenant_id="acme")
    with pytest.raises(AlarmNotFound):
        acknowledge_alarm(fresh, "gas-cut", "mallory", tenant_id="globex")
    with pytest.raises(AlarmNotFound):
        clear_alarm(fresh, "gas-cut", "mallory", tenant_id="globex")
    assert alarm_with_history(fresh, "gas-cut", tenant_id="acme") == before


def test_a_persons_change_is_notified_to_listeners(fresh: psycopg.Connection) -> None:
    """The notifier LISTENs on channel alarms: an ack made here reaches it at commit."""
    info = fresh.info
    with psycopg.connect(
        host=info.host, port=info.port, user=info.user, dbname=info.dbname, autocommit=True
    ) as listener:
        listener.execute("LISTEN alarms")
        acknowledge_alarm(fresh, "gas-cut", "alice", tenant_id="acme")
        heard = [(n.channel, n.payload) for n in listener.notifies(timeout=10, stop_after=1)]
    assert heard == [("alarms", "gas-cut")]
