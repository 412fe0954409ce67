"""Issue 24: the HTTP API's cleansing endpoints, which a review page builds on, over real
HTTP on loopback and a real PostgreSQL (the report tests' building): review, apply, list,
undo; another tenant's token is refused and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest
import report_fixture as fx
from api_server import serving_the_building

from services.postgres import PostgresServer
from storage.cleansing import list_operations, read_signal

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Api:
    url: str
    database: str
    analyst: str
    """A token of tenant t1 (the building's), named analyst."""
    stranger: str
    """A token of tenant t2."""

    def call(self, method: str, path: str, token: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, self.url + path, headers=headers, json=body, timeout=60)

    def heat(self) -> tuple[float, ...]:
        with psycopg.connect(self.database) as conn:
            return read_signal(conn, fx.TENANT, "hotel.heat").values


@pytest.fixture(scope="module")
def api(postgres: PostgresServer) -> Iterator[Api]:
    with serving_the_building(postgres.url) as served:
        yield Api(served.url, served.database, served.analyst, served.stranger)


NEGATIVES = {"treatment": "negative-consumption"}


def test_review_gives_the_three_rows_and_stores_nothing(api: Api) -> None:
    response = api.call("POST", "/usages/hotel.heat/review", api.analyst, NEGATIVES)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["usage_id"], body["unit"], body["timezone"]) == (
        "hotel.heat",
        "kWh",
        "Europe/Paris",
    )
    assert body["defects"] == [
        {"ts": "2026-04-16T23:00:00Z", "action": "exclude", "value": None, "original": -4.0,
         "reason": "negative consumption"}
    ]  # fmt: skip
    assert len(body["stored"]["values"]) == 356 and min(body["stored"]["values"]) == -4.0
    assert len(body["corrected"]["values"]) == 355 and min(body["corrected"]["values"]) == 3.0
    assert -4.0 in api.heat()


def test_review_of_a_gap_filling_marks_the_estimates(api: Api) -> None:
    body = {"treatment": "fill-gaps", "parameters": {"gap_periods": 2}}
    response = api.call("POST", "/usages/hotel.elec/review", api.analyst, body)
    assert response.status_code == 200, response.text
    corrected = response.json()["corrected"]
    assert sum(corrected["estimated"]) == len(fx.GAP)
    assert response.json()["parameters"] == {"gap_periods": 2.0, "max_hours": 6.0}


def test_a_treatment_that_cannot_run_is_a_400_with_its_reason(api: Api) -> None:
    body = {"treatment": "mad", "parameters": {"threshold": "high"}}
    response = api.call("POST", "/usages/hotel.outdoor/review", api.analyst, body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("treatment mad: threshold: Input should be")
    wrong_type = api.call("POST", "/usages/hotel.elec/review", api.analyst, {"treatment": "iqr"})
    assert wrong_type.status_code == 400
    assert "applies to usages of type consumption, instant" in wrong_type.json()["detail"]


def test_apply_list_and_undo_with_the_tenants_token(api: Api) -> None:
    applied = api.call("POST", "/usages/hotel.heat/operations", api.analyst, NEGATIVES)
    assert applied.status_code == 201, applied.text
    operation = applied.json()
    assert (operation["applied_by"], operation["corrections"], operation["kind"]) == (
        "api:analyst", 1, "cleanse"
    )  # fmt: skip
    assert -4.0 not in api.heat()
    listed = api.call("GET", "/usages/hotel.heat/operations", api.analyst).json()["operations"]
    assert [(o["id"], o["undone_at"]) for o in listed] == [(operation["id"], None)]

    undone = api.call("POST", f"/operations/{operation['id']}/undo", api.analyst)
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_by"] == "api:analyst"
    assert -4.0 in api.heat()
    again = api.call("POST", f"/operations/{operation['id']}/undo", api.analyst)
    assert again.status_code == 409 and "was undone by api:analyst" in again.json()["detail"]


def test_another_tenants_token_is_refused_and_changes_nothing(api: Api) -> None:
    applied = api.call("POST", "/usages/hotel.heat/operations", api.analyst, NEGATIVES).json()
    unknown_usage = "no usage 'hotel.heat' of tenant t2"
    for method, path, body, detail in [
        ("POST", "/usages/hotel.heat/review", NEGATIVES, unknown_usage),
        ("POST", "/usages/hotel.heat/operations", NEGATIVES, unknown_usage),
        ("GET", "/usages/hotel.heat/operations", None, unknown_usage),
        ("POST", f"/operations/{applied['id']}/undo", None, f"no operation {applied['id']!r}"),
    ]:
        response = api.call(method, path, api.stranger, body)
        assert (response.status_code, response.json()) == (404, {"detail": detail}), path
    with psycopg.connect(api.database) as conn:
        operations = list_operations(conn, "hotel.heat")
    assert [(o.id, o.undone_at) for o in operations if o.undone_at is None] == [
        (applied["id"], None)
    ]
    assert api.call("POST", f"/operations/{applied['id']}/undo", api.analyst).status_code == 200
