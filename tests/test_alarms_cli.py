"""Item 6 of issue 20: `smati alarms list|show|ack|clear` and `smati tokens`, on a real
PostgreSQL, over alarms stored as the stream writes them. Times in each building's zone."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from alarm_rows import insert_alarm, save_site_with_alarms
from click.testing import CliRunner, Result

from smati.cli import main
from storage.tokens import token_holder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db(database: str) -> Iterator[str]:
    with psycopg.connect(database, autocommit=True) as conn:
        save_site_with_alarms(conn)
        for name in ("ack-me", "clear-me"):
            insert_alarm(conn, name, "hotel.boiler-temperature", alarm_type=name)
    yield database


def smati(db: str, *args: str, user: str = "alice") -> Result:
    return CliRunner().invoke(main, ["--database-url", db, *args], env={"USER": user})


def test_alarms_listed_latest_first_in_their_buildings_zone(db: str) -> None:
    result = smati(db, "alarms", "list", "--equipment", "hotel.lobby")
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["ID", "RAISED", "STATUS", "SEVERITY", "TYPE", "TENANT", "USAGE", "LAST", "SEEN"],
        ["co2-high", "2026-11-25", "11:00:00", "CET", "active_unack", "warning",
         "threshold_high", "acme", "hotel.lobby-co2", "2026-11-25", "11:00:00", "CET"],
        ["co2-old", "2026-11-25", "08:00:00", "CET", "cleared_unack", "minor",
         "threshold_high", "acme", "hotel.lobby-co2", "2026-11-25", "09:00:00", "CET"],
    ]  # fmt: skip
    usage = smati(db, "alarms", "list", "--usage", "plant.temperature")
    assert [line.split()[:4] for line in usage.stdout.splitlines()[1:]] == [
        ["plant-cut", "2026-11-25", "04:30:00", "EST"]
    ]


def test_alarms_filtered_by_tenant_status_and_severity(db: str) -> None:
    def ids(*filters: str) -> list[str]:
        result = smati(db, "alarms", "list", *filters)
        assert result.exit_code == 0, result.output
        return [line.split()[0] for line in result.stdout.splitlines()[1:]]

    assert ids("--tenant", "globex") == ["plant-cut"]
    assert ids("--tenant", "acme", "--severity", "critical", "--severity", "minor") == [
        "gas-cut", "co2-old"
    ]  # fmt: skip
    assert ids("--status", "cleared_unack") == ["co2-old"]
    assert ids("--entity", "hotel", "--type", "threshold_high", "--since", "2026-11-25T09:00Z") == [
        "co2-high"
    ]  # fmt: skip
    limited = smati(db, "alarms", "list", "--tenant", "acme", "--limit", "2", "--offset", "1")
    assert [line.split()[0] for line in limited.stdout.splitlines()[1:]] == ["ack-me", "clear-me"]
    assert "the first 2 shown" in limited.stderr


def test_alarms_as_json_lines_in_utc(db: str) -> None:
    result = smati(db, "alarms", "list", "--tenant", "globex", "--json")
    (alarm,) = map(json.loads, result.stdout.splitlines())
    assert (alarm["id"], alarm["start_ts"], alarm["status"], alarm["details"]) == (
        "plant-cut", "2026-11-25T09:30:00+00:00", "active_unack", {"kind": "transmission_cut"}
    )  # fmt: skip


def test_an_alarm_shown_with_its_history(db: str) -> None:
    result = smati(db, "alarms", "show", "co2-old")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "alarm         co2-old",
        "status        cleared_unack",
        "severity      minor",
    ]
    assert "ended         2026-11-25 09:00:00 CET" in lines
    assert "cleared       by the data" in lines
    assert lines[-2:] == [
        "TIME                     TRANSITION  SEVERITY  BY      DETAILS",
        "2026-11-25 08:00:00 CET  raised      minor     stream",
    ]
    shown = json.loads(smati(db, "alarms", "show", "co2-old", "--json").stdout)
    assert [h["transition"] for h in shown["history"]] == ["raised"]


def test_an_acknowledgement_by_the_user_then_a_second_refused_in_one_line(db: str) -> None:
    acked = smati(db, "alarms", "ack", "ack-me", user="alice")
    assert acked.exit_code == 0, acked.output
    assert acked.stdout.startswith("alarm ack-me acknowledged by alice at 2")
    assert acked.stdout.endswith(": now active_ack\n")
    again = smati(db, "alarms", "ack", "ack-me", "--by", "bob")
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: alarm ack-me is already acknowledged (by alice at ")
    assert len(again.stderr.splitlines()) == 1
    shown = smati(db, "alarms", "show", "ack-me").stdout
    assert "acknowledged  by alice at " in shown
    assert shown.splitlines()[-1].split()[3:6] == ["acknowledged", "major", "alice"]


def test_a_clear_by_hand_then_a_second_refused_in_one_line(db: str) -> None:
    cleared = smati(db, "alarms", "clear", "clear-me", "--by", "bob")
    assert cleared.exit_code == 0, cleared.output
    assert cleared.stdout.endswith(": now cleared_unack\n")
    assert "cleared       by bob" in smati(db, "alarms", "show", "clear-me").stdout
    again = smati(db, "alarms", "clear", "clear-me")
    assert again.exit_code == 1
    assert again.stderr.startswith("Error: alarm clear-me is already cleared (by bob at ")


def test_an_alarm_of_another_tenant_or_none_is_a_one_line_error(db: str) -> None:
    for args in (("show", "nope"), ("ack", "gas-cut", "--tenant", "globex"),
                 ("clear", "gas-cut", "--tenant", "globex")):  # fmt: skip
        result = smati(db, "alarms", *args)
        assert (result.exit_code, result.stderr) == (1, f"Error: no alarm {args[1]!r}\n")
    assert "active_unack" in smati(db, "alarms", "show", "gas-cut").stdout


def test_a_token_printed_once_listed_without_its_text_then_revoked(db: str) -> None:
    created = smati(db, "tokens", "create", "--tenant", "acme", "--name", "maintenance")
    assert created.exit_code == 0, created.output
    text = created.stdout.strip()
    token_id = text.split("_")[1]
    assert created.stderr.startswith(f"token {token_id} (maintenance) for tenant acme: keep it")
    with psycopg.connect(db) as conn:
        holder = token_holder(conn, text)
    assert holder is not None and (holder.tenant_id, holder.name) == ("acme", "maintenance")
    listed = smati(db, "tokens", "list", "--tenant", "acme")
    assert listed.stdout.splitlines()[0].split() == [
        "ID",
        "TENANT",
        "NAME",
        "CREATED",
        "BY",
        "REVOKED",
    ]
    row = listed.stdout.splitlines()[1].split()
    assert (row[:3], row[-2:]) == ([token_id, "acme", "maintenance"], ["alice", "-"])
    assert text not in listed.stdout
    revoked = smati(db, "tokens", "revoke", token_id)
    assert revoked.stdout == f"token {token_id} (maintenance) of tenant acme revoked\n"
    with psycopg.connect(db) as conn:
        assert token_holder(conn, text) is None
    again = smati(db, "tokens", "revoke", token_id)
    assert again.stderr == f"Error: no live token {token_id!r} (see `smati tokens list`)\n"


def test_a_token_for_an_unknown_tenant_or_a_taken_name_is_refused(db: str) -> None:
    unknown = smati(db, "tokens", "create", "--tenant", "initech", "--name", "ops")
    assert unknown.stderr == "Error: tenant 'initech' is not in the registry\n"
    assert smati(db, "tokens", "create", "--tenant", "globex", "--name", "ops").exit_code == 0
    taken = smati(db, "tokens", "create", "--tenant", "globex", "--name", "ops")
    assert taken.stderr == (
        "Error: tenant 'globex' already has a live token named 'ops': revoke it or choose "
        "another name\n"
    )
