"""NAB's scoring rules (v1.1, `nab/sweeper.py` and `nab/runner.py` of numenta/NAB),
implemented here.

- A detection is a row whose anomaly score is at least the threshold.
- The first rows of each file, 15% capped at 750, are probationary: not scored at all, and
  a window made only of probationary rows is neither found nor missed.
- In a window, only the earliest detection counts: the scaled sigmoid of its relative
  position, 1 at the window's first row, falling towards 0 at its end, times the profile's
  tp weight. A window without a detection costs the fn weight.
- Every detection outside a window costs the fp weight, times the scaled sigmoid of its
  distance past the closest preceding window (in that window's lengths), or the full fp
  weight before any window.
- One threshold per profile, the one that maximises the total over the whole corpus.
- Normalised score: 100 x (score - null) / (perfect - null); the null detector never
  detects anything (a constant score), the perfect one finds each window at its first row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchmarks.nab.corpus import DataFile, Profile

PROBATIONARY_FRACTION = 0.15
PROBATIONARY_CAP = 750
NOTHING_DETECTED = math.inf
"""The threshold no score reaches: the sweep starts from it."""


def scaled_sigmoid(position: float) -> float:
    """2 sigmoid(-5 x) - 1, and -1 from 3 window lengths past a window on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probationary_length(rows: int) -> int:
    return min(math.floor(PROBATIONARY_FRACTION * rows), PROBATIONARY_CAP)


@dataclass(frozen=True)
class ScorableRow:
    """A scored row past the probationary period, with the reward it would earn detected.

    `window` identifies its window across the corpus, None outside any window. `reward`
    is profile-free: multiply by the tp weight in a window, by the fp weight outside.
    """

    score: float
    reward: float
    window: tuple[str, int] | None


def scorable_rows(data: DataFile, scores: Sequence[float]) -> list[ScorableRow]:
    if len(scores) != len(data.values):
        raise ValueError(f"{data.name}: {len(scores)} scores for {len(data.values)} rows")
    first_scored = probationary_length(len(scores))
    rows: list[ScorableRow] = []
    starts = {left: (w, right) for w, (left, right) in enumerate(data.windows)}
    current: tuple[int, int, int] | None = None  # (window, right row, width)
    previous: tuple[int, int] | None = None  # (right row, width) of the last window passed
    for i, score in enumerate(scores):
        if current is None and i in starts:
            w, right = starts[i]
            current = (w, right, right - i + 1)
        window: tuple[str, int] | None = None
        if current is not None:
            w, right, width = current
            reward = scaled_sigmoid(-(right - i + 1) / width) / MAX_TP
            window = (data.name, w)
            if i == right:
                current, previous = None, (right, width)
        elif previous is None:
            reward = scaled_sigmoid(3.0)
        else:
            right, width = previous
            reward = scaled_sigmoid(abs(right - i) / max(width - 1, 1))
        if i >= first_scored:
            rows.append(ScorableRow(score, reward, window))
    return rows


def _weighted(row: ScorableRow, profile: Profile) -> float:
    return row.reward * (profile.fp_weight if row.window is None else profile.tp_weight)


def threshold_sweep(rows: Iterable[ScorableRow], profile: Profile) -> list[tuple[float, float]]:
    """(threshold, total score) for every distinct score, from the highest threshold down."""
    ordered = sorted(rows, key=lambda row: row.score, reverse=True)
    best = {row.window: -profile.fn_weight for row in ordered if row.window is not None}
    total = sum(best.values())
    threshold = NOTHING_DETECTED
    sweep: list[tuple[float, float]] = []
    for row in ordered:
        if row.score != threshold:
            sweep.append((threshold, total))
            threshold = row.score
        gain = _weighted(row, profile)
        if row.window is None:
            total += gain
        elif gain > best[row.window]:
            total += gain - best[row.window]
            best[row.window] = gain
    sweep.append((threshold, total))
    return sweep


def best_threshold(rows: Iterable[ScorableRow], profile: Profile) -> tuple[float, float]:
    """The (threshold, score) of the best total; on a tie, the highest threshold."""
    return max(threshold_sweep(rows, profile), key=lambda point: point[1])


def score_at(rows: Iterable[ScorableRow], profile: Profile, threshold: float) -> float:
    fp = 0.0
    best: dict[tuple[str, int], float] = {}
    for row in rows:
        if row.window is not None:
            best.setdefault(row.window, -profile.fn_weight)
            if row.score >= threshold:
                best[row.window] = max(best[row.window], _weighted(row, profile))
        elif row.score >= threshold:
            fp += _weighted(row, profile)
    return fp + sum(best.values())


def null_score(rows: Sequence[ScorableRow], profile: Profile) -> float:
    """The score of NAB's null detector (a constant score), threshold optimised like any."""
    constant = [ScorableRow(0.5, row.reward, row.window) for row in rows]
    return best_threshold(constant, profile)[1]


def perfect_score(files: Iterable[DataFile], profile: Profile) -> float:
    """NAB counts every labelled window here, probationary or not."""
    return profile.tp_weight * sum(len(data.windows) for data in files)


def normalised(score: float, null: float, perfect: float) -> float:
    return 100.0 * (score - null) / (perfect - null)
