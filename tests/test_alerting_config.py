"""The registry's `notifications:` sections and the Alertmanager configuration made from
them: checked by the model, kept by the database, accepted by Alertmanager's own amtool
and by a running Alertmanager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError

from models.alerting import alertmanager_config
from models.registry import Registry
from models.registry_file import parse_registry
from services.alertmanager import Alertmanager
from smati.cli import main
from storage.registry_store import load_registry, save_registry

SITE = """
tenants:
  - id: acme
    entities: [{id: hotel}, {id: office}]
    notifications:
      receivers:
        - name: maintenance
          language: fr
          email: {to: [maintenance@acme.test], sender: smati@acme.test, smarthost: "127.0.0.1:2525"}
          teams: {url: "https://acme.example/workflows/maintenance"}
        - name: night-shift
          language: fr
          webhook: {url: "http://127.0.0.1:9999/night"}
        - name: managers
          language: en
          email: {to: [boss@acme.test], sender: smati@acme.test, smarthost: "127.0.0.1:2525"}
      default_receiver: maintenance
      routes:
        - receiver: night-shift
          entities: [hotel]
          severities: [critical]
          mute: [weekends]
          continue_matching: true
        - receiver: maintenance
          mute: [nights, maintenance-window]
      escalation:
        - {after_s: 1800, receiver: managers}
      mute_intervals:
        - name: nights
          times: [{start: "20:00", end: "07:00"}]
        - name: weekends
          weekdays: [saturday, sunday]
        - name: maintenance-window
          days_of_month: ["10:12"]
          months: ["december"]
          years: ["2026"]
          timezone: Europe/London
  - id: beta
    notifications:
      receivers: [{name: maintenance, language: en, webhook: {url: "http://127.0.0.1:9999/b"}}]
      default_receiver: maintenance
      inhibiting_alarm_types: []
  - id: gamma
"""


def _site() -> Registry:
    return parse_registry(SITE, "site.yaml")


def _walk(route: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for child in route.get("routes", []):
        yield child
        yield from _walk(child)


def test_every_route_matches_its_tenant_and_names_only_its_receivers() -> None:
    config = alertmanager_config(_site())
    tenants = config["route"]["routes"]
    assert [t["matchers"] for t in tenants] == [['tenant="acme"'], ['tenant="beta"']]
    for tenant in tenants:
        own = tenant["matchers"][0]
        name = own.removeprefix('tenant="').removesuffix('"')
        for route in [tenant, *_walk(tenant)]:
            assert own in route["matchers"]
            assert route["receiver"].startswith(f"{name}/")
            for interval in route.get("mute_time_intervals", []):
                assert interval.startswith(f"{name}/")
    names = [receiver["name"] for receiver in config["receivers"]]
    assert names == [
        "smati-nobody",
        "acme/maintenance",
        "acme/night-shift",
        "acme/managers",
        "beta/maintenance",
    ]
    assert config["receivers"][0] == {"name": "smati-nobody"}  # gamma's alarms go nowhere


def test_routes_escalation_grouping_and_reminders() -> None:
    acme = alertmanager_config(_site())["route"]["routes"][0]
    assert acme["group_by"] == ["tenant", "entity", "alarm_type"]
    assert (acme["group_wait"], acme["group_interval"], acme["repeat_interval"]) == (
        "30000ms",
        "300000ms",
        "14400000ms",
    )
    escalation, night, daytime = acme["routes"]
    assert escalation == {
        "receiver": "acme/managers",
        "matchers": ['tenant="acme"', 'escalation="1"'],
    }
    assert night == {
        "receiver": "acme/night-shift",
        "matchers": ['tenant="acme"', 'escalation=""', 'entity=~"hotel"', 'severity=~"critical"'],
        "continue": True,
        "mute_time_intervals": ["acme/weekends"],
    }
    assert daytime["mute_time_intervals"] == ["acme/nights", "acme/maintenance-window"]


def test_mute_intervals_nights_split_at_midnight() -> None:
    intervals = {
        i["name"]: i["time_intervals"] for i in alertmanager_config(_site())["time_intervals"]
    }
    assert intervals["acme/nights"] == [
        {
            "location": "Europe/Paris",
            "times": [
                {"start_time": "20:00", "end_time": "24:00"},
                {"start_time": "00:00", "end_time": "07:00"},
            ],
        }
    ]
    assert intervals["acme/weekends"][0]["weekdays"] == ["saturday", "sunday"]
    assert intervals["acme/maintenance-window"] == [
        {
            "location": "Europe/London",
            "days_of_month": ["10:12"],
            "months": ["december"],
            "years": ["2026"],
        }
    ]


def test_a_cut_device_inhibits_its_other_alarms_within_its_tenant_only() -> None:
    (rule,) = alertmanager_config(_site())["inhibit_rules"]  # beta asked for none
    assert rule == {
        "source_matchers": [
            'tenant="acme"',
            'alarm_type=~"transmission"',
            'severity=~"major|critical"',
            'device=~".+"',
        ],
        "target_matchers": ['tenant="acme"', 'alarm_type!~"transmission"', 'device=~".+"'],
        "equal": ["tenant", "device"],
    }


def test_receivers_speak_their_language() -> None:
    receivers = {r["name"]: r for r in alertmanager_config(_site())["receivers"]}
    email = receivers["acme/maintenance"]["email_configs"][0]
    assert email["headers"]["Subject"].startswith('{{ if eq .Status "firing" }}[ALARME]')
    assert "summary_fr" in email["text"] and "summary_fr" in email["html"]
    teams = receivers["acme/maintenance"]["msteamsv2_configs"][0]
    assert teams["webhook_url"] == "https://acme.example/workflows/maintenance"
    assert "[RÉSOLUE]" in teams["title"]
    assert "summary_en" in receivers["acme/managers"]["email_configs"][0]["text"]
    assert receivers["acme/managers"]["email_configs"][0]["headers"]["Subject"].count("[ALARM]")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"default_receiver": "nobody"}, "unknown receiver 'nobody'"),
        ({"routes": [{"receiver": "ops", "mute": ["lunch"]}]}, "unknown mute interval 'lunch'"),
        ({"receivers": [{"name": "ops"}]}, "receiver 'ops' has no email, teams nor webhook"),
        (
            {"routes": [{"receiver": "ops", "severities": ["urgent"]}]},
            "Input should be 'critical', 'major', 'minor' or 'warning'",
        ),
        (
            {
                "escalation": [
                    {"after_s": 60, "receiver": "ops"},
                    {"after_s": 30, "receiver": "ops"},
                ]
            },
            "in order of their delays",
        ),
    ],
)
def test_a_wrong_routing_section_is_refused(change: dict[str, Any], message: str) -> None:
    notifications = {
        "receivers": [{"name": "ops", "webhook": {"url": "http://127.0.0.1:1/"}}],
        "default_receiver": "ops",
        **change,
    }
    with pytest.raises(ValidationError, match=message):
        Registry.model_validate({"tenants": [{"id": "t", "notifications": notifications}]})


@pytest.mark.integration
def test_the_stored_registry_keeps_the_routing(database: str) -> None:
    with psycopg.connect(database) as conn:
        save_registry(conn, _site())
        stored = load_registry(conn)
    assert [t.notifications for t in stored.tenants] == [t.notifications for t in _site().tenants]


@pytest.mark.integration
def test_amtool_accepts_the_configuration(tmp_path: Path) -> None:
    site, out = tmp_path / "site.yaml", tmp_path / "alertmanager.yml"
    site.write_text(SITE)
    result = CliRunner().invoke(
        main, ["alerting", "config", "--registry", str(site), "--out", str(out), "--check"]
    )
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output
    assert yaml.safe_load(out.read_text()) == alertmanager_config(_site())


@pytest.mark.integration
def test_a_running_alertmanager_reloads_the_stored_configuration(database: str) -> None:
    with psycopg.connect(database) as conn:
        save_registry(conn, _site())
    with Alertmanager(alertmanager_config(Registry())) as alertmanager:
        result = CliRunner().invoke(
            main,
            [
                "--database-url", database, "alerting", "config",
                "--out", str(alertmanager.config_path), "--reload",
            ],
            env={"SMATI_ALERTMANAGER_URL": alertmanager.url},
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        status = httpx.get(f"{alertmanager.url}/api/v2/status").json()
    loaded = yaml.safe_load(status["config"]["original"])
    assert [r["name"] for r in loaded["receivers"]][1:] == [
        "acme/maintenance",
        "acme/night-shift",
        "acme/managers",
        "beta/maintenance",
    ]
