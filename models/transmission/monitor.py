"""A usage's transmission state and how readings and silence move it.

Every transition is dated from the data, never from when it was computed: a silent usage
turns orange at `last reading + orange_after x period`, a gap starts at the last reading,
a usage turns green again at the reading that ends its silence. So the same readings give
the same events (and the same event ids) however late, or how many times, they are seen.

Silence itself is measured from when the usage was last *heard* (the time its last uplink
was published to Kafka), because the processing horizon it is compared with is a time of
publication too: a device that delivers readings older than their publication (a buffer,
a slow network server) is not silent, wherever in that backlog a worker stands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from models.detection import DetectionEvent, DetectionKind, Severity, event_id
from models.registry import UsageRef
from models.transmission.period import PeriodEstimate
from models.transmission.status import WORSENING, TransmissionPolicy, TransmissionStatus

Found = list[DetectionEvent]
NEVER_HEARD = datetime.min.replace(tzinfo=UTC)
"""The time the id of a never-heard usage's violet announcement derives from."""


class Gap(BaseModel):
    """A stretch with no reading, between two readings."""

    model_config = ConfigDict(frozen=True)

    start: AwareDatetime
    end: AwareDatetime

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


class TransmissionState(BaseModel):
    model_config = ConfigDict(frozen=True)

    RECENT_GAPS: ClassVar[int] = 4

    status: TransmissionStatus = TransmissionStatus.VIOLET
    status_since: AwareDatetime | None = None
    """None while a never-heard usage's violet status has not been announced."""
    period: PeriodEstimate = PeriodEstimate()
    open_gap_start: AwareDatetime | None = None
    recent_gaps: tuple[Gap, ...] = ()
    """The last closed gaps, which late readings may still fill."""
    last_heard: AwareDatetime | None = None
    """When the newest uplink with a reading of the usage was published (None: not known,
    the newest reading's own time stands in)."""

    def period_s(self, ref: UsageRef) -> float:
        """The estimated period once known, else the registered one."""
        return self.period.seconds or ref.usage.period_s


_RANK = {
    TransmissionStatus.GREEN: 0,
    TransmissionStatus.ORANGE: 1,
    TransmissionStatus.RED: 2,
    TransmissionStatus.VIOLET: 3,
}


def observe_transmission(
    state: TransmissionState,
    ref: UsageRef,
    previous: datetime | None,
    ts: datetime,
    policy: TransmissionPolicy,
    heard: datetime | None = None,
) -> tuple[TransmissionState, Found]:
    """A reading at `ts`, published at `heard`; `previous` is the newest reading time before
    it (None: the first)."""
    state = _heard(state, heard)
    if previous is None:
        return _resume(state, ref, ts)
    if ts < previous:
        return _fill_recent_gap(state, ref, ts, policy)
    if ts == previous:  # a duplicate or a replay
        return state, []
    period = state.period_s(ref)
    silence_s = (ts - previous).total_seconds()
    state, worsened = _worsen(state, ref, previous, silence_s / period, period, policy)
    state, gaps = _close_gap(state, ref, previous, ts, period, policy)
    state = state.model_copy(update={"period": state.period.observe(silence_s)})
    state, resumed = _resume(state, ref, ts)
    return state, worsened + gaps + resumed


def observe_silence(
    state: TransmissionState,
    ref: UsageRef,
    last: datetime | None,
    now: datetime,
    policy: TransmissionPolicy,
) -> tuple[TransmissionState, Found]:
    """The clock at `now`, the processing horizon: a silent usage worsens and its gap opens."""
    if last is None:
        if state.status_since is not None:
            return state, []
        # Dated when first seen silent, the one time not given by the data: its id does not
        # depend on it, so announcing it again (a state lost in a crash) stores it once.
        return _change(
            state, ref, TransmissionStatus.VIOLET, now, NEVER_HEARD, period_s=ref.usage.period_s
        )
    period = state.period_s(ref)
    silence = (now - _silent_since(state, last)).total_seconds() / period
    state, found = _worsen(state, ref, last, silence, period, policy)
    if state.open_gap_start is None and silence > policy.gap_after:
        found.append(_gap_event(DetectionKind.GAP_OPENED, ref, last, last, period_s=period))
        state = state.model_copy(update={"open_gap_start": last})
    return state, found


def next_silence_step(
    state: TransmissionState, ref: UsageRef, last: datetime | None, policy: TransmissionPolicy
) -> datetime | None:
    """The time up to which `observe_silence` changes nothing, None if nothing until a
    reading arrives: the clock skips a usage until then, instead of checking it."""
    if last is None:
        return None if state.status_since is not None else NEVER_HEARD
    steps = [policy.threshold(step) for step in WORSENING if _RANK[state.status] < _RANK[step]]
    if state.open_gap_start is None:
        steps.append(policy.gap_after)
    if not steps:
        return None
    return _silent_since(state, last) + timedelta(seconds=min(steps) * state.period_s(ref))


def _heard(state: TransmissionState, heard: datetime | None) -> TransmissionState:
    """The state with `heard` as its last publication time, if that is later."""
    if heard is None or (state.last_heard is not None and heard <= state.last_heard):
        return state
    return state.model_copy(update={"last_heard": heard})


def _silent_since(state: TransmissionState, last: datetime) -> datetime:
    """Since when the usage has said nothing, in the processing horizon's time: when its
    last uplink was published (or its last reading's time, if that is later or unknown)."""
    return last if state.last_heard is None else max(last, state.last_heard)


def _worsen(
    state: TransmissionState,
    ref: UsageRef,
    last: datetime,
    silence: float,
    period: float,
    policy: TransmissionPolicy,
) -> tuple[TransmissionState, Found]:
    """Every step (orange, then red) the silence crossed and that was not announced yet."""
    found: Found = []
    for step in WORSENING:
        threshold = policy.threshold(step)
        if silence > threshold and _RANK[state.status] < _RANK[step]:
            at = last + timedelta(seconds=threshold * period)
            state, events = _change(state, ref, step, at, last_reading=last.isoformat())
            found += events
    return state, found


def _resume(
    state: TransmissionState, ref: UsageRef, ts: datetime
) -> tuple[TransmissionState, Found]:
    """A reading arrived: green again, dated by it (or by the last change if that is later)."""
    if state.status is TransmissionStatus.GREEN:
        return state, []
    at = max(ts, state.status_since) if state.status_since else ts
    return _change(state, ref, TransmissionStatus.GREEN, at, reading=ts.isoformat())


def _change(
    state: TransmissionState,
    ref: UsageRef,
    status: TransmissionStatus,
    at: datetime,
    id_at: datetime | None = None,
    **details: Any,
) -> tuple[TransmissionState, Found]:
    event = DetectionEvent.of(
        DetectionKind.TRANSMISSION_STATUS,
        ref.tenant_id,
        ref.usage.id,
        at,
        status.severity,
        discriminator=status,
        status=status,
        previous=state.status if state.status_since else None,
        **details,
    )
    if id_at is not None:
        found_id = event_id(event.kind, event.tenant_id, event.usage_id, id_at, status)
        event = event.model_copy(update={"id": found_id})
    return state.model_copy(update={"status": status, "status_since": at}), [event]


def _close_gap(
    state: TransmissionState,
    ref: UsageRef,
    last: datetime,
    ts: datetime,
    period: float,
    policy: TransmissionPolicy,
) -> tuple[TransmissionState, Found]:
    """Readings resumed after a silence from `last` to `ts`: a long silence is a gap; an
    open gap that was not one is filled."""
    if (ts - last).total_seconds() > policy.gap_after * period:
        silence = Gap(start=last, end=ts)
        event = _gap_event(DetectionKind.GAP_CLOSED, ref, ts, last, silence)
        recent = (*state.recent_gaps, silence)[-state.RECENT_GAPS :]
        return state.model_copy(update={"open_gap_start": None, "recent_gaps": recent}), [event]
    if state.open_gap_start is not None:  # opened on silence, then late data came in time
        event = _gap_event(DetectionKind.GAP_FILLED, ref, ts, state.open_gap_start)
        return state.model_copy(update={"open_gap_start": None}), [event]
    return state, []


def _fill_recent_gap(
    state: TransmissionState, ref: UsageRef, ts: datetime, policy: TransmissionPolicy
) -> tuple[TransmissionState, Found]:
    """A late reading inside a closed gap splits it; what is left too short is no gap."""
    gap = next((g for g in state.recent_gaps if g.start < ts < g.end), None)
    if gap is None:
        return state, []
    shortest = policy.gap_after * state.period_s(ref)
    before, after = Gap(start=gap.start, end=ts), Gap(start=ts, end=gap.end)
    found: Found = []
    kept: list[Gap] = []
    if before.duration_s > shortest:
        found.append(_gap_event(DetectionKind.GAP_CORRECTED, ref, ts, gap.start, before))
        kept.append(before)
    else:
        found.append(_gap_event(DetectionKind.GAP_FILLED, ref, ts, gap.start))
    if after.duration_s > shortest:
        found.append(_gap_event(DetectionKind.GAP_CLOSED, ref, ts, ts, after))
        kept.append(after)
    recent = []
    for g in state.recent_gaps:
        recent += kept if g == gap else [g]
    return state.model_copy(update={"recent_gaps": tuple(recent)}), found


_GAP_SEVERITY = {
    DetectionKind.GAP_OPENED: Severity.WARNING,
    DetectionKind.GAP_CLOSED: Severity.WARNING,
    DetectionKind.GAP_CORRECTED: Severity.INFO,
    DetectionKind.GAP_FILLED: Severity.INFO,
}


def _gap_event(
    kind: DetectionKind,
    ref: UsageRef,
    at: datetime,
    start: datetime,
    gap: Gap | None = None,
    **details: Any,
) -> DetectionEvent:
    """A gap event; its row in the database is the gap starting at `start`."""
    if gap is not None:
        details |= {"end": gap.end.isoformat(), "duration_s": gap.duration_s}
    return DetectionEvent.of(
        kind,
        ref.tenant_id,
        ref.usage.id,
        at,
        _GAP_SEVERITY[kind],
        discriminator=start.isoformat(),
        start=start.isoformat(),
        **details,
    )
