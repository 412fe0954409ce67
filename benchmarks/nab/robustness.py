"""The proofs that the detector holds on data it was not tuned on, built from NAB's own
files: the same corpus at other time scales, cut short, and scored category by category
with parameters chosen without that category."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from benchmarks.nab import scorer
from benchmarks.nab.corpus import Corpus, DataFile, Profile
from benchmarks.nab.runner import Detections, normalised

COMPRESSED = 1 / 60
"""A minute becomes a second."""
STRETCHED = 60.0
"""A minute becomes an hour."""
SHORT_FILE_ROWS = 3000


def rescaled(corpus: Corpus, factor: float) -> Corpus:
    """Every file's clock runs `factor` times slower from its first reading on (1/60: a
    minute becomes a second); values and windows unchanged."""
    return replace(corpus, files=[_rescaled(data, factor) for data in corpus.files])


def _rescaled(data: DataFile, factor: float) -> DataFile:
    start = data.timestamps[0]
    return replace(data, timestamps=[start + (ts - start) * factor for ts in data.timestamps])


def first_rows(corpus: Corpus, rows: int) -> Corpus:
    """Each file cut to its first `rows` rows; its windows kept as far as they go."""
    return replace(corpus, files=[_cut(data, rows) for data in corpus.files])


def _cut(data: DataFile, rows: int) -> DataFile:
    if len(data.values) <= rows:
        return data
    return replace(
        data,
        timestamps=data.timestamps[:rows],
        values=data.values[:rows],
        windows=[(left, min(right, rows - 1)) for left, right in data.windows if left < rows],
    )


@dataclass(frozen=True)
class HeldOut:
    """A category scored with the parameters and threshold that did best without it."""

    category: str
    parameters: str
    threshold: float
    score: float


def leave_one_category_out(
    corpus: Corpus, candidates: Mapping[str, Detections], profile: Profile
) -> list[HeldOut]:
    """Every category that has a window to find, in turn. On a tie between parameter sets,
    the first candidate wins: put the configured set first."""
    held_out = []
    for category in sorted({data.category for data in corpus.files}):
        files = [data for data in corpus.files if data.category == category]
        others = [data for data in corpus.files if data.category != category]
        if not others or not scorer.perfect_score(files, profile):
            continue
        chosen = {
            name: scorer.best_threshold(_rows(others, detections), profile)
            for name, detections in candidates.items()
        }
        name = max(chosen, key=lambda candidate: chosen[candidate][1])
        threshold = chosen[name][0]
        rows = _rows(files, candidates[name])
        score = normalised(files, rows, profile, scorer.score_at(rows, profile, threshold))
        held_out.append(HeldOut(category, name, threshold, score or 0.0))
    return held_out


def _rows(files: list[DataFile], detections: Detections) -> list[scorer.ScorableRow]:
    return [row for data in files for row in detections.rows[data.name]]
