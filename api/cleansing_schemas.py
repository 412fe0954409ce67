"""What the cleansing endpoints take and return: a proposal's three rows (the data a
review page draws), operations. Times are UTC; each answer names the building's zone."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.cleansing import TREATMENTS, Correction, Signal
from storage.cleansing import FILL_GAPS, Operation, Proposal

__all__ = ["OperationOut", "OperationRequest", "Operations", "ReviewOut"]

TreatmentName = Literal[
    "decreasing-index",
    "negative-consumption",
    "thresholds",
    "iqr",
    "mad",
    "hampel",
    "anomaly-events",
    "fill-gaps",
]
assert set(get_args(TreatmentName)) == {*TREATMENTS, FILL_GAPS}, "every treatment is offered"


class OperationRequest(BaseModel):
    """A treatment (or `fill-gaps`) and its parameters (`smati cleanse --help` lists
    them), over the usage's data in [from, to) (all of it by default)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    treatment: TreatmentName
    parameters: dict[str, float | int | str | None] = Field(default_factory=dict, max_length=20)
    start: AwareDatetime | None = Field(None, alias="from")
    end: AwareDatetime | None = Field(None, alias="to")


class Series(BaseModel):
    times: list[AwareDatetime]
    values: list[float]
    estimated: list[bool]
    """True where gap filling estimated the value: never a measurement."""

    @classmethod
    def of(cls, signal: Signal) -> Series:
        return cls(
            times=list(signal.times), values=list(signal.values), estimated=list(signal.estimated)
        )


class Defect(BaseModel):
    ts: AwareDatetime
    action: Literal["exclude", "replace", "estimate"]
    value: float | None
    """The corrected value; None when the reading is excluded."""
    original: float | None
    """The value as it was; None for an estimate (nothing was there)."""
    reason: str

    @classmethod
    def of(cls, correction: Correction) -> Defect:
        return cls(
            ts=correction.ts,
            action=correction.action.value,
            value=correction.value,
            original=correction.original,
            reason=correction.reason,
        )


class Unfilled(BaseModel):
    before: AwareDatetime
    after: AwareDatetime
    reason: str


class ReviewOut(BaseModel):
    """The original product's three rows: the signal as stored (the data as corrected so
    far), the defects found and their corrections, the signal once corrected."""

    tenant_id: str
    usage_id: str
    unit: str
    timezone: str
    treatment: str
    parameters: dict[str, Any]
    """As understood, defaults filled in."""
    stored: Series
    defects: list[Defect]
    corrected: Series
    unfilled: list[Unfilled]
    """Gaps gap filling left, and why."""

    @classmethod
    def of(cls, proposal: Proposal) -> ReviewOut:
        usage, shown = proposal.usage, proposal.review
        return cls(
            tenant_id=proposal.tenant_id,
            usage_id=usage.usage_id,
            unit=usage.unit,
            timezone=usage.timezone.key,
            treatment=proposal.treatment,
            parameters=proposal.parameters,
            stored=Series.of(shown.stored),
            defects=[Defect.of(c) for c in shown.defects],
            corrected=Series.of(shown.corrected),
            unfilled=[
                Unfilled(before=gap.before, after=gap.after, reason=why)
                for gap, why in proposal.skipped
            ],
        )


class OperationOut(BaseModel):
    id: str
    tenant_id: str
    usage_id: str
    kind: Literal["cleanse", "fill"]
    treatment: str
    parameters: dict[str, Any]
    corrections: int
    applied_by: str
    applied_at: AwareDatetime
    undone_by: str | None
    undone_at: AwareDatetime | None

    @classmethod
    def of(cls, operation: Operation) -> OperationOut:
        return cls.model_validate(operation, from_attributes=True)


class Operations(BaseModel):
    operations: list[OperationOut]
    """The latest first, undone ones included."""
