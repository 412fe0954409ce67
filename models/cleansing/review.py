"""What an analyst reviews before applying an operation, in the original product's three
rows: the signal as stored, the defects found (with their corrections), and the signal
once corrected. The CLI draws it as a PNG; a review page can serve it as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.cleansing.signal import Action, Correction, Signal


@dataclass(frozen=True)
class Review:
    stored: Signal
    defects: list[Correction]
    corrected: Signal


def review(stored: Signal, corrections: Sequence[Correction]) -> Review:
    points = {
        ts: (value, estimated)
        for ts, value, estimated in zip(stored.times, stored.values, stored.estimated, strict=True)
    }
    for correction in corrections:
        if correction.action is Action.EXCLUDE or correction.value is None:
            points.pop(correction.ts, None)
        else:
            points[correction.ts] = (correction.value, correction.action is Action.ESTIMATE)
    times = sorted(points)
    corrected = Signal(
        tuple(times), tuple(points[t][0] for t in times), tuple(points[t][1] for t in times)
    )
    return Review(stored, sorted(corrections, key=lambda c: c.ts), corrected)
