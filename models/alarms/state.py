"""What a usage's alarm rules remember between readings, saved with the usage's state.

Per alarm type: the create conditions holding (since when, how many readings, when they
are or were met), the readings in a row without the rule's signals, the open alarm as
last written, and the last states for flap detection. A type with nothing open, holding
or recent is dropped, so a quiet usage carries nothing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from models.alarm_status import AlarmSeverity
from models.alarms.model import Alarm


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Holding(_Frozen):
    """A create condition holding since `since`; met at `met_at` once long and often
    enough (a duration timer while `met_at` is ahead and not `fired`)."""

    since: AwareDatetime
    count: int = 1
    met_at: AwareDatetime | None = None
    fired: bool = False


class AlarmTrack(_Frozen):
    holding: dict[AlarmSeverity, Holding] = {}
    normal: int = 0
    open: Alarm | None = None
    history: str = ""
    """The last states, oldest first: '1' while the rule's problem holds (flapping)."""
    flapping: bool = False

    @property
    def idle(self) -> bool:
        """Nothing to remember: nothing open, holding, flapping, nor a recent problem."""
        return not (self.open or self.holding or self.flapping or "1" in self.history)


class UsageAlarms(_Frozen):
    tracks: dict[str, AlarmTrack] = {}
    """By alarm type."""

    def next_due(self) -> datetime | None:
        """When a duration timer is next met (None: no timer runs)."""
        timers = [
            h.met_at
            for track in self.tracks.values()
            for h in track.holding.values()
            if h.met_at is not None and not h.fired
        ]
        return min(timers, default=None)

    def open_ids(self) -> set[str]:
        return {t.open.id for t in self.tracks.values() if t.open is not None}

    def forget(self, cleared_by_hand: set[str]) -> UsageAlarms:
        """Forget the open alarms a person cleared: the next detection opens a new one."""
        tracks = {
            kind: AlarmTrack(history=t.history)
            if t.open is not None and t.open.id in cleared_by_hand
            else t
            for kind, t in self.tracks.items()
        }
        return UsageAlarms(tracks=tracks)
