"""Transmission monitoring of a usage: its real period, its status, its gaps.

Pure and deterministic: the status history and the gaps are functions of the readings'
times, of when their uplinks were published, and of the processing horizon (the time up
to which every published uplink has been checked), so a replay after a restart finds the
same transitions with the same ids.
"""

from models.transmission.horizon import CatchUp, OffsetSnapshot, ProcessingHorizon
from models.transmission.monitor import (
    Gap,
    TransmissionState,
    next_silence_step,
    observe_silence,
    observe_transmission,
)
from models.transmission.period import PeriodEstimate
from models.transmission.status import TransmissionPolicy, TransmissionStatus

__all__ = [
    "CatchUp",
    "Gap",
    "OffsetSnapshot",
    "PeriodEstimate",
    "ProcessingHorizon",
    "TransmissionPolicy",
    "TransmissionState",
    "TransmissionStatus",
    "next_silence_step",
    "observe_silence",
    "observe_transmission",
]
