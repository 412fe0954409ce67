"""The per-usage state table: read once and written back once per batch.

Values are `UsageState` objects in memory (dicts for those recovered from the changelog,
until first written) and JSON in the changelog (a compacted topic):
a usage's state costs one changelog record per batch that touches it, not one per reading,
and a restarted worker recovers it from the changelog, whose size follows the number of
usages, not the length of the stream.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from faust.serializers import codecs

from models.registry import UsageRef
from models.rules import UsageState
from models.settings import Settings
from storage.transmission import TransmissionRow
from stream.topics import CHANGELOG_CONFIG

_CODEC = "usage-state"


class _UsageStateCodec(codecs.Codec):
    def _dumps(self, obj: Any) -> bytes:
        return cast(UsageState, obj).model_dump_json().encode()

    def _loads(self, s: bytes) -> Any:
        return UsageState.model_validate_json(s)


codecs.register(_CODEC, _UsageStateCodec())


def usage_state_table(app: faust.App, settings: Settings) -> faust.types.TableT:
    # Written batch by batch, outside any single event's context, so the table partitions
    # keys itself (`use_partitioner`): raw usage-id bytes, hashed like the readings topic's
    # keys, so a usage's state lives on the changelog partition of its readings partition.
    table = app.Table(
        "usage-state",
        default=None,
        partitions=settings.topic_partitions,
        use_partitioner=True,
        key_type=bytes,
        extra_topic_configs=CHANGELOG_CONFIG,
    )
    cast(faust.Table, table).value_serializer = _CODEC  # the changelog topic is made later
    return table


class StateBatch:
    """The states one batch reads and changes; `write_back` stores each changed one once."""

    def __init__(self, table: faust.types.TableT) -> None:
        self._table = table
        self._states: dict[str, UsageState] = {}
        self._changed: set[str] = set()

    def get(self, usage_id: str) -> UsageState:
        state = self._states.get(usage_id)
        if state is None:
            state = _as_state(self._table.get(usage_id.encode()))
            self._states[usage_id] = state
        return state

    def put(self, usage_id: str, state: UsageState) -> None:
        if state is not self.get(usage_id):
            self._states[usage_id] = state
            self._changed.add(usage_id)

    def write_back(self) -> dict[str, UsageState]:
        """Write the changed states to the table (and its changelog); return them."""
        changed = {usage_id: self._states[usage_id] for usage_id in self._changed}
        for usage_id, state in changed.items():
            self._table[usage_id.encode()] = state
        self._changed.clear()
        return changed


def _as_state(stored: UsageState | dict[str, Any] | None) -> UsageState:
    """Faust recovers values from the changelog as plain JSON (dicts), not through the codec."""
    if stored is None:
        return UsageState()
    return stored if isinstance(stored, UsageState) else UsageState.model_validate(stored)


def transmission_row(ref: UsageRef, state: UsageState) -> TransmissionRow:
    transmission = state.transmission
    return TransmissionRow(
        usage_id=ref.usage.id,
        tenant_id=ref.tenant_id,
        last_reading_at=state.last_ts,
        period_registered_s=ref.usage.period_s,
        period_estimated_s=transmission.period.seconds,
        status=transmission.status,
        status_since=transmission.status_since,
        open_gap_start=transmission.open_gap_start,
    )
