"""The registry as a worker holds it: one shared set of field names per kind of entry."""

from __future__ import annotations

from benchmarks.fleet import fleet_registry
from models.registry import Usage


def test_entries_setting_the_same_fields_share_one_set_and_behave_the_same() -> None:
    registry = fleet_registry(3, 60.0)
    first, *rest = registry.tenants[0].entities[0].equipment[0].usages
    other = Usage(id="x", type="instant", unit="°C", period_s=60.0)  # fewer fields set
    refs = registry.usage_refs()

    assert all(usage.__pydantic_fields_set__ is first.__pydantic_fields_set__ for usage in rest)
    assert refs[0].__pydantic_fields_set__ is refs[1].__pydantic_fields_set__
    assert other.__pydantic_fields_set__ is not first.__pydantic_fields_set__
    assert set(first.model_dump(exclude_unset=True)) == {
        "id",
        "type",
        "unit",
        "period_s",
        "min",
        "max",
    }
    assert set(other.model_dump(exclude_unset=True)) == {"id", "type", "unit", "period_s"}
    changed = first.model_copy(update={"name": "renamed"})
    assert "name" in changed.model_dump(exclude_unset=True)
    assert "name" not in rest[0].model_dump(exclude_unset=True)
