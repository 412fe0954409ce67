"""The registry as a worker holds it: one shared set of field names per kind of entry."""

from __future__ import annotations

from models.registry import Usage
from smati.fleet import fleet_registry
from stream.registry_cache import share_fields_sets


def test_entries_setting_the_same_fields_share_one_set_and_behave_the_same() -> None:
    registry = fleet_registry(3, 60.0)
    usages = [usage for usage in registry.tenants[0].entities[0].equipment[0].usages]
    other = Usage(id="x", type="instant", unit="°C", period_s=60.0)  # fewer fields set
    dumped = [usage.model_dump(exclude_unset=True) for usage in [*usages, other]]
    share_fields_sets([*usages, other])

    first, *rest = usages
    assert all(usage.__pydantic_fields_set__ is first.__pydantic_fields_set__ for usage in rest)
    assert other.__pydantic_fields_set__ is not first.__pydantic_fields_set__
    assert [usage.model_dump(exclude_unset=True) for usage in [*usages, other]] == dumped
    changed = first.model_copy(update={"min": -10.0})
    assert changed.__pydantic_fields_set__ is not first.__pydantic_fields_set__
    assert rest[0].model_dump(exclude_unset=True) == dumped[1]
