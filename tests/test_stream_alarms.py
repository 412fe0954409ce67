"""The stream's alarm wiring on a real PostgreSQL: the tenant's rules from the stored
registry, and an alarm a person cleared forgotten, so the next detection opens another."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg

from benchmarks.fleet import device_id, fleet_registry, usage_id
from models.alarms import DEFAULT_ALARM_RULES, Step, Transition
from models.detection import DetectionEvent, DetectionKind, Severity
from models.registry import Registry
from models.rules import UsageState
from storage.alarm_writer import write_alarm_changes
from storage.registry_store import save_registry
from stream.alarms import AlarmRules
from stream.registry_cache import RegistryCache

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def loaded(database: str, registry: Registry) -> RegistryCache:
    with psycopg.connect(database) as conn:
        save_registry(conn, registry)
    cache = RegistryCache(database)
    asyncio.run(cache.reload())
    return cache


def high(minutes: float, kind: DetectionKind = DetectionKind.THRESHOLD_HIGH) -> Step:
    at = T0 + timedelta(minutes=minutes)
    return Step(at, [DetectionEvent.of(kind, "fleet", usage_id(0), at, Severity.MAJOR)])


def test_the_clock_s_alarm_names_the_device_and_the_tenant_s_rules_apply(database: str) -> None:
    document = fleet_registry(1, 60.0).model_dump(mode="json", exclude_defaults=True)
    hot = {"type": "too_hot", "create": [{"severity": "critical", "when": ["threshold_high"]}]}
    document["tenants"][0]["alarm_rules"] = [hot | {"clear": {"when": ["threshold_cleared"]}}]
    cache = loaded(database, Registry.model_validate(document))
    rules = AlarmRules(cache)
    ref = cache.usages[usage_id(0)]
    clock_step = Step(high(0).at, high(0).events, reading=False)
    _, (change,) = rules.observe(UsageState(), ref, clock_step)
    assert (change.alarm.type, change.alarm.severity) == ("too_hot", "critical")
    assert change.alarm.device_id == device_id(0)
    assert cache.alarm_rules("another-tenant") == DEFAULT_ALARM_RULES


def test_an_alarm_cleared_by_hand_is_forgotten_and_the_next_detection_opens_another(
    database: str,
) -> None:
    cache = loaded(database, fleet_registry(1, 60.0))
    rules, ref = AlarmRules(cache), cache.usages[usage_id(0)]
    state, (raised,) = rules.observe(UsageState(), ref, high(0), device_id(0))
    with psycopg.connect(database) as conn:
        assert write_alarm_changes(conn, [raised]) == set()
        conn.execute(
            "UPDATE alarms SET cleared = true, end_ts = now(), cleared_by = 'ann' WHERE id = %s",
            [raised.alarm.id],
        )
        conn.commit()
        state, (repeated,) = rules.observe(state, ref, high(10, DetectionKind.THRESHOLD_LOW))
        assert repeated.transition is Transition.REPEATED  # the stream did not know yet
        rules.cleared_by_hand(write_alarm_changes(conn, [repeated]))
    state, (again,) = rules.observe(state, ref, high(20))
    assert again.transition is Transition.RAISED and again.alarm.id != raised.alarm.id
    assert state.alarms.open_ids() == {again.alarm.id}
