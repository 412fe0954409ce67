"""Alarm rules wired to the stream: thin, the rules themselves are models.alarms.

The uplinks agent (per reading) and the transmission clock (per silent usage, at the
processing horizon) pass their detections here; the changes go with the batch, whose
commit stores them (storage.alarm_writer), publishes them on `<prefix>.alarms`, and tells
which alarms a person had cleared: their usages forget them at their next step.
"""

from __future__ import annotations

from models.alarms import AlarmChange, Step, Subject, observe_alarms
from models.registry import UsageRef
from models.rules import UsageState
from stream.registry_cache import RegistryCache


class AlarmRules:
    def __init__(self, registry: RegistryCache) -> None:
        self._registry = registry
        self._cleared_by_hand: set[str] = set()
        """Open alarms a person cleared, until their usage's state forgets them."""

    def cleared_by_hand(self, alarm_ids: set[str]) -> None:
        """Told by the commit (storage.alarm_writer.write_alarm_changes)."""
        self._cleared_by_hand |= alarm_ids

    def observe(
        self, state: UsageState, ref: UsageRef, step: Step, device_id: str | None = None
    ) -> tuple[UsageState, list[AlarmChange]]:
        alarms = state.alarms
        if not step.events and not alarms.tracks:  # most readings: nothing to do
            return state, []
        forgotten = alarms.open_ids() & self._cleared_by_hand
        if forgotten:
            alarms = alarms.forget(forgotten)
            self._cleared_by_hand -= forgotten
        usage = ref.usage
        subject = Subject(
            tenant_id=ref.tenant_id,
            entity_id=ref.entity_id,
            equipment_id=ref.equipment_id,
            usage_id=usage.id,
            device_id=device_id or self._registry.device_of.get(usage.id),
        )
        rules = self._registry.alarm_rules(ref.tenant_id)
        alarms, changes = observe_alarms(alarms, subject, (usage.type, usage.tags), rules, step)
        if alarms is state.alarms:
            return state, changes
        return state.model_copy(update={"alarms": alarms}), changes
