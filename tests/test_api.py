"""Item 6 of issue 20: the HTTP API over real HTTP on loopback and a real PostgreSQL; each
token sees and changes only its tenant's alarms."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
from alarm_rows import insert_alarm, save_site_with_alarms
from api_server import serving

from storage.alarms import alarm_with_history
from storage.tokens import create_token, revoke_token

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Api:
    url: str
    database: str
    acme: str
    """A token of tenant acme, named maintenance."""
    globex: str
    """A token of tenant globex."""

    def call(self, method: str, path: str, token: str | None, **params: Any) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.url + path, headers=headers, params=params, timeout=30)

    def stored(self, alarm_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with psycopg.connect(self.database) as conn:
            return alarm_with_history(conn, alarm_id, tenant_id=None)


@pytest.fixture(scope="module")
def api(database: str) -> Iterator[Api]:
    """Alarms of acme and globex, a token of each, the API serving them."""
    with psycopg.connect(database, autocommit=True) as conn:
        save_site_with_alarms(conn)
        for name in ("ack-me", "clear-me", "acme-only"):
            insert_alarm(
                conn, name, "hotel.boiler-temperature", alarm_type=name, start_minutes=-300
            )
        _, acme = create_token(conn, "acme", "maintenance", "test")
        _, globex = create_token(conn, "globex", "globex-ops", "test")
    with serving(database) as url:
        yield Api(url, database, acme.text, globex.text)


def alarm_ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [alarm["id"] for alarm in response.json()["alarms"]]


def test_health_answers_without_a_token(api: Api) -> None:
    response = api.call("GET", "/health", None)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_spec_and_its_pages_are_served_without_a_cdn(api: Api) -> None:
    spec = api.call("GET", "/openapi.json", None).json()
    assert set(spec["paths"]) == {
        "/health",
        "/alarms",
        "/alarms/counts",
        "/alarms/{alarm_id}",
        "/alarms/{alarm_id}/ack",
        "/alarms/{alarm_id}/clear",
        "/usages/{usage_id}/review",
        "/usages/{usage_id}/operations",
        "/operations/{operation_id}/undo",
        "/entities/{entity_id}/operations",
        "/usages",
        "/treatments",
    }
    page = api.call("GET", "/docs", None)
    assert page.status_code == 200 and "cdn" not in page.text
    assert api.call("GET", "/static-offline-docs/swagger-ui-bundle.js", None).status_code == 200


@pytest.mark.parametrize("token", [None, "smati_00000000_not-a-token"])
def test_alarms_refused_without_a_live_token(api: Api, token: str | None) -> None:
    response = api.call("GET", "/alarms", token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"detail": "a live bearer token is required (smati tokens create)"}


def test_a_revoked_token_is_refused_from_the_next_request(api: Api) -> None:
    with psycopg.connect(api.database) as conn:
        stored, token = create_token(conn, "acme", "temporary", "test")
    assert api.call("GET", "/alarms", token.text).status_code == 200
    with psycopg.connect(api.database) as conn:
        revoke_token(conn, stored.id)
    assert api.call("GET", "/alarms", token.text).status_code == 401


def test_a_token_lists_its_tenants_alarms_only(api: Api) -> None:
    assert alarm_ids(api.call("GET", "/alarms", api.acme)) == [
        "co2-high",
        "gas-cut",
        "co2-old",
        "ack-me",
        "acme-only",
        "clear-me",
    ]
    assert alarm_ids(api.call("GET", "/alarms", api.globex)) == ["plant-cut"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"equipment": "hotel.lobby"}, ["co2-high", "co2-old"]),
        ({"entity": "hotel", "type": "threshold_high"}, ["co2-high", "co2-old"]),
        ({"usage": "hotel.gas"}, ["gas-cut"]),
        ({"usage": "plant.temperature"}, []),  # globex's usage: nothing, not refused
        ({"severity": ["critical", "minor"]}, ["gas-cut", "co2-old"]),
        ({"status": "cleared_unack"}, ["co2-old"]),
        (
            {
                "since": "2026-11-25T07:30:00Z",
                "until": "2026-11-25T09:00:00Z",
                "equipment": "hotel.lobby",
            },
            ["co2-old"],
        ),
        ({"since": "2026-11-25T10:00:00+01:00", "equipment": "hotel.lobby"}, ["co2-high"]),
    ],
)
def test_alarms_filtered(api: Api, params: dict[str, Any], expected: list[str]) -> None:
    assert alarm_ids(api.call("GET", "/alarms", api.acme, **params)) == expected


def test_alarms_by_pages(api: Api) -> None:
    first = api.call("GET", "/alarms", api.acme, limit=4).json()
    assert (len(first["alarms"]), first["next_offset"]) == (4, 4)
    last = api.call("GET", "/alarms", api.acme, limit=4, offset=4).json()
    assert ([a["id"] for a in last["alarms"]], last["next_offset"]) == (
        ["acme-only", "clear-me"],
        None,
    )


def test_a_time_without_its_zone_is_refused(api: Api) -> None:
    response = api.call("GET", "/alarms", api.acme, since="2026-11-25T10:00:00")
    assert response.status_code == 422
    assert "timezone" in response.text


def test_an_alarm_shown_with_its_history(api: Api) -> None:
    response = api.call("GET", "/alarms/gas-cut", api.acme)
    assert response.status_code == 200
    alarm = response.json()
    assert (alarm["status"], alarm["severity"], alarm["timezone"]) == (
        "active_unack",
        "critical",
        "Europe/Paris",
    )
    assert alarm["history"] == [
        {
            "ts": "2026-11-25T09:00:00Z",
            "transition": "raised",
            "severity": "critical",
            "actor": "stream",
            "details": {},
        }
    ]


def test_an_acknowledgement_through_the_api_then_a_second_one_refused(api: Api) -> None:
    response = api.call("POST", "/alarms/ack-me/ack", api.acme)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["ack_by"]) == (
        "active_ack",
        "api:maintenance",
    )
    again = api.call("POST", "/alarms/ack-me/ack", api.acme)
    assert again.status_code == 409
    assert again.json()["detail"].startswith(
        "alarm ack-me is already acknowledged (by api:maintenance at"
    )
    _, history = api.stored("ack-me")
    assert [(h["transition"], h["actor"]) for h in history] == [
        ("raised", "stream"),
        ("acknowledged", "api:maintenance"),
    ]


def test_a_clear_through_the_api_then_a_second_one_refused(api: Api) -> None:
    response = api.call("POST", "/alarms/clear-me/clear", api.acme)
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert (cleared["status"], cleared["cleared_by"], cleared["cleared"]) == (
        "cleared_unack",
        "api:maintenance",
        True,
    )
    assert api.call("POST", "/alarms/clear-me/clear", api.acme).status_code == 409


def test_open_alarms_counted_for_the_tokens_tenant(api: Api) -> None:
    counts = api.call("GET", "/alarms/counts", api.globex, level="entity").json()
    assert counts == [
        {
            "level": "entity",
            "tenant_id": "globex",
            "entity_id": "plant",
            "equipment_id": None,
            "open": 1,
            "unacknowledged": 1,
            "critical": 0,
            "major": 1,
            "minor": 0,
            "warning": 0,
            "flapping": 0,
        }
    ]
    tenant = api.call("GET", "/alarms/counts", api.acme, level="tenant").json()
    assert [(c["tenant_id"], c["critical"], c["warning"]) for c in tenant] == [("acme", 1, 1)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/alarms/acme-only"),
        ("POST", "/alarms/acme-only/ack"),
        ("POST", "/alarms/acme-only/clear"),
    ],
)
def test_another_tenants_alarm_is_not_found_and_left_as_it_was(
    api: Api, method: str, path: str
) -> None:
    before = api.stored("acme-only")
    response = api.call(method, path, api.globex)
    assert (response.status_code, response.json()) == (404, {"detail": "no alarm 'acme-only'"})
    assert api.stored("acme-only") == before


def test_another_tenants_alarms_are_neither_listed_nor_counted(api: Api) -> None:
    for params in ({}, {"entity": "hotel"}, {"usage": "hotel.gas"}, {"type": "acme-only"}):
        assert alarm_ids(api.call("GET", "/alarms", api.globex, **params)) in (["plant-cut"], [])
    counts = api.call("GET", "/alarms/counts", api.globex).json()
    assert {c["tenant_id"] for c in counts} == {"globex"}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/alarms", {"usage": "hotel\x00gas"}),
        ("/alarms/gas%00cut", {}),
        ("/alarms", {"stauts": "active_ack"}),
    ],
)
def test_what_cannot_name_an_alarm_is_refused_as_a_bad_request(
    api: Api, path: str, params: dict[str, str]
) -> None:
    """A NUL (PostgreSQL's text cannot hold one) or a misspelt filter, which would
    otherwise list every alarm."""
    assert api.call("GET", path, api.acme, **params).status_code == 422
