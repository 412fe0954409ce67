"""The cleansing review page (/review) and what it asks of the API besides the cleansing
endpoints: the token's tenant's usages, and the treatments with their parameters.

The page is static (HTML, JavaScript, CSS beside this module; the charting library from
the folder `smati serve` is given): it keeps the tenant's token in the browser's session
storage and sends it as a bearer token, never in a URL.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Literal, get_args

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from api.dependencies import Connection, Holder
from api.schemas import Problem
from models.cleansing import TREATMENTS, FillParams
from models.reading import UsageType
from storage.cleansing import FILL_GAPS
from storage.report_registry import usages_of

__all__ = ["mount_page", "router"]

PAGE_FOLDER = Path(__file__).parent / "static"
FILL_GAPS_SUMMARY = (
    "missing values estimated, marked as estimates: an index along its usual hour and "
    "weekday profile, a consumption by that profile, an instant value linearly"
)
CONTENT_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
"""The page runs only its own files: nothing from another origin, no inline script."""


class Usage(BaseModel):
    id: str
    name: str
    type: UsageType
    unit: str
    entity_id: str
    entity_name: str
    equipment_name: str
    timezone: str


class Usages(BaseModel):
    usages: list[Usage]
    """In registry order: entity, equipment, usage."""


class Parameter(BaseModel):
    name: str
    kind: Literal["integer", "number"]
    default: float | None
    """None: the usage's registered value (thresholds' min and max)."""
    description: str


class Treatment(BaseModel):
    name: str
    summary: str
    usage_types: list[UsageType]
    parameters: list[Parameter]


class Treatments(BaseModel):
    treatments: list[Treatment]
    """The cleansing treatments, then gap filling (`fill-gaps`)."""


router = APIRouter(
    tags=["review"],
    responses={401: {"model": Problem, "description": "no live bearer token"}},
)


@router.get("/usages", summary="List usages")
def list_usages(holder: Holder, conn: Connection) -> Usages:
    """The token's tenant's usages, with their entity, equipment, type, unit and zone."""
    found = usages_of(conn, holder.tenant_id)
    return Usages(usages=[Usage.model_validate(u, from_attributes=True) for u in found])


@router.get("/treatments", summary="List treatments")
def list_treatments(_: Holder) -> Treatments:
    """What can be reviewed and applied to a usage, by usage type, with its parameters."""
    treatments = [
        Treatment(
            name=t.name,
            summary=t.summary,
            usage_types=sorted(t.types),
            parameters=_parameters(t.params.model_fields),
        )
        for t in TREATMENTS.values()
    ]
    filling = Treatment(
        name=FILL_GAPS,
        summary=FILL_GAPS_SUMMARY,
        usage_types=list(UsageType),
        parameters=_parameters(FillParams.model_fields),
    )
    return Treatments(treatments=[*treatments, filling])


def _parameters(fields: dict[str, FieldInfo]) -> list[Parameter]:
    return [
        Parameter(
            name=name,
            kind="integer" if int in _types(field) else "number",
            default=field.default,
            description=field.description or "",
        )
        for name, field in fields.items()
    ]


def _types(field: FieldInfo) -> set[object]:
    """`float | None` -> {float, NoneType}."""
    annotation = field.annotation
    return set(get_args(annotation)) if isinstance(annotation, UnionType) else {annotation}


def mount_page(app: FastAPI, chart_folder: Path) -> None:
    """Serve the page at /review, its files and the charting library's from `chart_folder`."""

    @app.get("/review", include_in_schema=False)
    def review_page() -> FileResponse:
        headers = {"Content-Security-Policy": CONTENT_POLICY, "Cache-Control": "no-store"}
        return FileResponse(PAGE_FOLDER / "review.html", headers=headers)

    app.mount("/review/static", StaticFiles(directory=PAGE_FOLDER), name="review-static")
    app.mount("/review/charts", StaticFiles(directory=chart_folder), name="review-charts")
