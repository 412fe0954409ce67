"""Runs detectors over a NAB corpus the way NAB asks, and scores them with its rules.

Each file starts from a fresh detector that sees one reading at a time (no look-ahead);
one parameter set serves every file; the threshold is optimised per profile over the
whole corpus. Only the detector's own calls are timed, not file reading or scoring.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from benchmarks.nab import scorer
from benchmarks.nab.corpus import Corpus, DataFile, Profile

Score = Callable[[datetime, float], float]
"""A detector's per-reading call: learns the reading, returns its anomaly score."""
DetectorFactory = Callable[[DataFile], Score]
"""Makes a fresh detector for a file (NAB allows giving it the file's min and max)."""


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    threshold: float
    score: float
    """Normalised: the null detector 0, the perfect one 100."""
    score_at_configured: float | None
    """With the detector's own configured threshold instead of the optimised one."""
    by_category: dict[str, float | None]
    """Each category normalised on its own; None where it has no window to find."""


@dataclass(frozen=True)
class DetectorResult:
    name: str
    profiles: list[ProfileResult]
    readings: int
    seconds: float

    @property
    def us_per_reading(self) -> float:
        return 1e6 * self.seconds / self.readings

    def score(self, profile: str) -> float:
        return next(result.score for result in self.profiles if result.profile == profile)


@dataclass(frozen=True)
class Detections:
    """A detector's scores over a corpus, as NAB scores them: the scorable rows per file."""

    rows: dict[str, list[scorer.ScorableRow]]
    readings: int
    seconds: float
    """In the detector's own calls only."""


def detect(corpus: Corpus, make: DetectorFactory) -> Detections:
    rows: dict[str, list[scorer.ScorableRow]] = {}
    seconds = 0.0
    for data in corpus.files:
        score = make(data)
        start = time.perf_counter()
        scores = [score(ts, value) for ts, value in zip(data.timestamps, data.values, strict=True)]
        seconds += time.perf_counter() - start
        rows[data.name] = scorer.scorable_rows(data, scores)
    readings = sum(len(data.values) for data in corpus.files)
    return Detections(rows, readings, seconds)


def run(
    corpus: Corpus, name: str, make: DetectorFactory, configured: float | None = None
) -> DetectorResult:
    return result_of(corpus, name, detect(corpus, make), configured)


def result_of(
    corpus: Corpus, name: str, detections: Detections, configured: float | None = None
) -> DetectorResult:
    profiles = [
        _profile_result(corpus, detections.rows, profile, configured) for profile in corpus.profiles
    ]
    return DetectorResult(name, profiles, detections.readings, detections.seconds)


def _profile_result(
    corpus: Corpus,
    rows: dict[str, list[scorer.ScorableRow]],
    profile: Profile,
    configured: float | None,
) -> ProfileResult:
    every_row = [row for data in corpus.files for row in rows[data.name]]
    threshold, total = scorer.best_threshold(every_row, profile)
    by_category: dict[str, float | None] = {}
    for category in sorted({data.category for data in corpus.files}):
        files = [data for data in corpus.files if data.category == category]
        category_rows = [row for data in files for row in rows[data.name]]
        by_category[category] = normalised(
            files, category_rows, profile, scorer.score_at(category_rows, profile, threshold)
        )
    score = normalised(corpus.files, every_row, profile, total)
    score_at_configured = (
        None
        if configured is None
        else normalised(
            corpus.files, every_row, profile, scorer.score_at(every_row, profile, configured)
        )
    )
    return ProfileResult(profile.name, threshold, score or 0.0, score_at_configured, by_category)


def normalised(
    files: list[DataFile], rows: list[scorer.ScorableRow], profile: Profile, score: float
) -> float | None:
    """NAB's normalisation of `score` over `files`, None where they have no window."""
    perfect = scorer.perfect_score(files, profile)
    if perfect == 0:
        return None
    return scorer.normalised(score, scorer.null_score(rows, profile), perfect)
