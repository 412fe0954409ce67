"""Item 6 of issue 20: the HTTP API against its own served OpenAPI spec, property-based
(schemathesis): for any request the spec allows or forbids, every endpoint answers as the
spec says, never with a server error, and a token never sees another tenant's alarms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from alarm_rows import save_site_with_alarms
from api_server import serving
from hypothesis import given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.specs.openapi.checks import negative_data_rejection
from schemathesis.specs.openapi.schemas import OpenApiSchema

from storage.tokens import create_token

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(database: str) -> Iterator[tuple[str, str]]:
    """The API over alarms of acme and globex; its URL and a token of globex."""
    with psycopg.connect(database, autocommit=True) as conn:
        save_site_with_alarms(conn)
        _, token = create_token(conn, "globex", "fuzz", "test")
    with serving(database) as url:
        yield url, token.text


def tenants_in(body: Any) -> set[str]:
    """Every `tenant_id` anywhere in a JSON body."""
    if isinstance(body, dict):
        own = {body["tenant_id"]} if "tenant_id" in body else set()
        return own.union(*map(tenants_in, body.values()))
    if isinstance(body, list):
        return set().union(*map(tenants_in, body))
    return set()


def only_globex(ctx: Any, response: Any, case: Case[Any]) -> bool:
    """No alarm or count of a tenant other than the token's in any answer."""
    if response.status_code == 200 and case.path != "/openapi.json":
        seen = tenants_in(response.json())
        assert seen <= {"globex"}, f"{case.method} {case.formatted_path} showed {seen}"
    return True


OPERATIONS = [
    ("GET", "/health"),
    ("GET", "/alarms"),
    ("GET", "/alarms/counts"),
    ("GET", "/alarms/{alarm_id}"),
    ("POST", "/alarms/{alarm_id}/ack"),
    ("POST", "/alarms/{alarm_id}/clear"),
    ("POST", "/usages/{usage_id}/review"),
    ("POST", "/usages/{usage_id}/operations"),
    ("GET", "/usages/{usage_id}/operations"),
    ("POST", "/operations/{operation_id}/undo"),
    ("GET", "/usages"),
    ("GET", "/treatments"),
]


def served_spec(url: str) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


def test_every_operation_of_the_spec_is_tried(served: tuple[str, str]) -> None:
    paths = served_spec(served[0]).raw_schema["paths"]
    assert sorted((method.upper(), path) for path in paths for method in paths[path]) == sorted(
        OPERATIONS
    )


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [(*operation, GenerationMode.POSITIVE) for operation in OPERATIONS]
    # /health takes nothing that could be wrong
    + [(*operation, GenerationMode.NEGATIVE) for operation in OPERATIONS[1:]],
)
def test_every_operation_answers_as_the_spec_says(
    served: tuple[str, str], method: str, path: str, mode: GenerationMode
) -> None:
    """Requests that the spec allows (positive) or forbids (negative), with a token of
    globex: each answer has a documented status and shape, none is a server error.

    Whether a request the spec forbids is refused is not checked here: in a query string
    a "number" is text too (`usage=1e-99` is a valid usage id), so schemathesis' negative
    cases are often valid requests; test_api refuses the invalid ones that matter.
    """
    url, token = served
    operation = served_spec(url)[path][method]
    unsound: list[CheckFunction] = (
        [negative_data_rejection] if mode is GenerationMode.NEGATIVE else []
    )

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=50, deadline=None, database=None)
    def answers(case: Case[Any]) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            additional_checks=[only_globex],
            excluded_checks=unsound,
        )

    answers()
