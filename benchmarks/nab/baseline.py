"""NAB's windowed Gaussian detector, the baseline that proves the scorer.

As numenta/NAB `nab/detectors/gaussian/windowedGaussian_detector.py`: the score of a value
is 1 minus the Gaussian tail probability of its distance to the mean of a window of the
previous values (up to 6,400 of them, moved forward 100 values at a time).
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

WINDOW_SIZE = 6400
STEP_SIZE = 100
SIGNIFICANT_DIGITS = 12
"""NAB's published results were written by Python 2, which printed 12 significant digits,
so many scores became exactly 1.0; thresholds near 1.0 are sensitive to that, and rounding
to 12 digits gives back the published scores."""


def tail_probability(value: float, mean: float, std: float) -> float:
    """The probability of a Gaussian sample at least as far from the mean as `value`, on
    one side (the Q function)."""
    return 0.5 * math.erfc(abs(value - mean) / std / math.sqrt(2.0))


class WindowedGaussian:
    """The window and its pending step live in one buffer: the window is its last
    `WINDOW_SIZE` values once full, the buffer is shifted when a step is complete."""

    def __init__(self) -> None:
        self._values = np.empty(WINDOW_SIZE + STEP_SIZE)
        self._count = 0
        self._mean = 0.0
        self._std = 1.0

    def score(self, ts: datetime, value: float) -> float:
        score = 0.0 if self._count == 0 else 1.0 - tail_probability(value, self._mean, self._std)
        self._values[self._count] = value
        self._count += 1
        if self._count <= WINDOW_SIZE:
            self._update(self._values[: self._count])
        elif self._count == WINDOW_SIZE + STEP_SIZE:
            self._values[:WINDOW_SIZE] = self._values[STEP_SIZE:]
            self._count = WINDOW_SIZE
            self._update(self._values[:WINDOW_SIZE])
        return float(f"{score:.{SIGNIFICANT_DIGITS}g}")

    def _update(self, window: np.ndarray) -> None:
        self._mean = float(np.mean(window))
        self._std = float(np.std(window)) or 1e-6


PUBLISHED = {"standard": 39.6, "reward_low_FP_rate": 20.9, "reward_low_FN_rate": 47.4}
"""NAB's scoreboard for the windowed Gaussian detector, per profile."""
