"""Alarm rules in the registry and alarms in PostgreSQL, as the stream writes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources

import psycopg
import pytest
from psycopg.rows import dict_row

from models.alarms import DEFAULT_ALARM_RULES, Alarm, AlarmChange, AlarmSeverity, Subject
from models.alarms import Transition as T
from models.registry_file import RegistryFileError, parse_registry
from storage.alarm_writer import write_alarm_changes
from storage.registry_store import load_registry, save_registry

DEMO = resources.files("smati").joinpath("examples/demo-building.yaml").read_text()
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
SUBJECT = Subject(tenant_id="t", entity_id="e", equipment_id="q", usage_id="u", device_id="d")
RULES = """
    alarm_rules:
      - type: boiler_hot
        tags: [boiler]
        create:
          - {severity: major, when: [threshold_high], repeat: 3}
          - {severity: critical, when: [threshold_high], duration_s: 1800}
        clear: {when: [threshold_cleared]}
        flapping: {start_percent: 40, stop_percent: 25}
"""


def with_rules(rules: str) -> str:
    """The demo registry with `rules` given to its first tenant."""
    head, tenant, rest = DEMO.partition("  - id: ")
    first_line, newline, tail = rest.partition("\n")
    indented = "\n".join("    " + line[4:] for line in rules.strip("\n").splitlines())
    return head + tenant + first_line + newline + indented + "\n" + tail


def test_a_tenant_without_rules_gets_the_defaults_and_one_with_rules_gets_its_own() -> None:
    registry = parse_registry(with_rules(RULES))
    (rule,) = registry.tenants[0].alarm_rules or ()
    assert rule.type == "boiler_hot" and rule.tags == ("boiler",)
    assert [(c.severity, c.repeat, c.duration_s) for c in rule.create] == [
        (AlarmSeverity.MAJOR, 3, 0),
        (AlarmSeverity.CRITICAL, 1, 1800),
    ]
    assert parse_registry(DEMO).tenants[0].alarm_rules is None
    assert {r.type for r in DEFAULT_ALARM_RULES} >= {"transmission", "threshold", "anomaly"}


def test_a_wrong_rule_in_the_registry_points_at_its_line() -> None:
    text = with_rules(RULES.replace("when: [threshold_cleared]", "when: [threshold_gone]"))
    with pytest.raises(RegistryFileError) as error:
        parse_registry(text, "site.yaml")
    ((line, message),) = error.value.problems
    assert line is not None and "threshold_gone" in text.splitlines()[line - 1]
    assert "unknown signal(s) threshold_gone" in message


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database) as connection:
        connection.execute("TRUNCATE alarm_history, alarms")
        connection.commit()
        yield connection


def test_alarm_rules_survive_the_database(conn: psycopg.Connection) -> None:
    registry = parse_registry(with_rules(RULES))
    save_registry(conn, registry)
    assert load_registry(conn).tenants[0].alarm_rules == registry.tenants[0].alarm_rules
    save_registry(conn, parse_registry(DEMO))  # back to the defaults
    assert load_registry(conn).tenants[0].alarm_rules is None


def change(alarm: Alarm, transition: T, minutes: float, **update: object) -> AlarmChange:
    ts = T0 + timedelta(minutes=minutes)
    return AlarmChange(alarm=alarm.model_copy(update=update), transition=transition, ts=ts)


def raised(alarm_type: str = "threshold", minutes: float = 0) -> Alarm:
    at = T0 + timedelta(minutes=minutes)
    return Alarm.raise_(SUBJECT, alarm_type, AlarmSeverity.MAJOR, at, {"observed": 31})


def rows(conn: psycopg.Connection) -> list[dict[str, object]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM alarms ORDER BY start_ts").fetchall()


def history(conn: psycopg.Connection) -> list[tuple[str, str]]:
    query = "SELECT transition, severity FROM alarm_history ORDER BY ts, recorded_at"
    return [(t, s) for t, s in conn.execute(query)]


def test_a_replayed_batch_writes_the_same_alarm_and_history_once(conn: psycopg.Connection) -> None:
    alarm = raised()
    batch = [
        change(alarm, T.RAISED, 0),
        change(alarm, T.SEVERITY_CHANGED, 5, severity=AlarmSeverity.CRITICAL),
    ]
    assert write_alarm_changes(conn, batch) == set()
    assert write_alarm_changes(conn, batch) == set()
    (row,) = rows(conn)
    assert row["severity"] == "critical" and row["status"] == "active_unack"  # the last wins
    assert row["details"] == {"observed": 31} and row["device_id"] == "d"
    assert history(conn) == [("raised", "major"), ("severity_changed", "critical")]


def test_the_stream_never_undoes_an_acknowledgement_or_a_clear_by_hand(
    conn: psycopg.Connection,
) -> None:
    acked, cleared = raised("threshold"), raised("anomaly")
    write_alarm_changes(conn, [change(acked, T.RAISED, 0), change(cleared, T.RAISED, 0)])
    conn.execute(
        "UPDATE alarms SET acknowledged = true, ack_ts = now(), ack_by = 'ann' WHERE id = %s",
        [acked.id],
    )
    conn.execute(
        "UPDATE alarms SET cleared = true, end_ts = now(), cleared_by = 'bob' WHERE id = %s",
        [cleared.id],
    )
    conn.commit()
    later = [
        change(acked, T.REPEATED, 10, occurrences=2),
        change(cleared, T.REPEATED, 10, occurrences=2),
    ]
    assert write_alarm_changes(conn, later) == {cleared.id}
    by_id = {row["id"]: row for row in rows(conn)}
    assert by_id[acked.id]["status"] == "active_ack" and by_id[acked.id]["occurrences"] == 2
    assert by_id[acked.id]["ack_by"] == "ann"
    assert by_id[cleared.id]["cleared_by"] == "bob" and by_id[cleared.id]["occurrences"] == 1


def test_an_alarm_cleared_and_raised_again_in_one_batch_keeps_one_open(
    conn: psycopg.Connection,
) -> None:
    first, second = raised(minutes=0), raised(minutes=20)
    write_alarm_changes(conn, [change(first, T.RAISED, 0)])
    end = T0 + timedelta(minutes=10)
    batch = [change(first, T.CLEARED, 10, cleared=True, end_ts=end), change(second, T.RAISED, 20)]
    write_alarm_changes(conn, batch)
    assert [(r["id"], r["cleared"]) for r in rows(conn)] == [(first.id, True), (second.id, False)]


def test_a_new_alarm_closes_an_open_one_the_stream_lost_track_of(conn: psycopg.Connection) -> None:
    lost, new = raised(minutes=0), raised(minutes=30)
    write_alarm_changes(conn, [change(lost, T.RAISED, 0)])
    write_alarm_changes(conn, [change(new, T.RAISED, 30)])
    old, current = rows(conn)
    assert old["cleared"] and old["end_ts"] == new.start_ts and old["cleared_by"] is None
    assert not current["cleared"]
