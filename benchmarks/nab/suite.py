"""Everything `smati bench nab` measures, in one run: the stream's detector on the corpus,
its cost with and without its state's round trip, NAB's baseline, river's alternatives,
and the robustness proofs (other time scales, short files, leave-one-category-out)."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.nab import robustness
from benchmarks.nab.alternatives import ALTERNATIVES
from benchmarks.nab.baseline import WindowedGaussian
from benchmarks.nab.corpus import Corpus
from benchmarks.nab.detector import neighbours, stream_detector, with_state_round_trip
from benchmarks.nab.runner import Detections, DetectorResult, detect, result_of, run
from models.anomaly import AnomalyConfig

DETECTOR = "anomaly"
CONFIGURED = "as configured"


@dataclass(frozen=True)
class Figures:
    detector: DetectorResult
    baseline: DetectorResult
    us_per_sample_with_state: float
    same_scores_with_state: bool
    """The state's round trip changes no score (as a restarted worker's detector)."""
    alternatives: list[DetectorResult] = field(default_factory=list)
    variants: dict[str, DetectorResult] = field(default_factory=dict)
    """The corpus compressed, stretched, cut short: scored as the original."""
    held_out: dict[str, list[robustness.HeldOut]] = field(default_factory=dict)
    """Per profile, each category scored with parameters chosen without it."""


def measure(
    corpus: Corpus, config: AnomalyConfig, with_robustness: bool, with_alternatives: bool
) -> Figures:
    plain = detect(corpus, stream_detector(config))
    stateful = detect(corpus, with_state_round_trip(config))
    return Figures(
        detector=result_of(corpus, DETECTOR, plain, config.threshold),
        baseline=run(corpus, "windowed_gaussian", lambda _: WindowedGaussian().score),
        us_per_sample_with_state=1e6 * stateful.seconds / stateful.readings,
        same_scores_with_state=stateful.rows == plain.rows,
        alternatives=[run(corpus, name, make) for name, make in ALTERNATIVES.items()]
        if with_alternatives
        else [],
        variants=_variants(corpus, config) if with_robustness else {},
        held_out=_held_out(corpus, config, plain) if with_robustness else {},
    )


def _variants(corpus: Corpus, config: AnomalyConfig) -> dict[str, DetectorResult]:
    variants = {
        "compressed_60": robustness.rescaled(corpus, robustness.COMPRESSED),
        "stretched_60": robustness.rescaled(corpus, robustness.STRETCHED),
        f"first_{robustness.SHORT_FILE_ROWS}_rows": robustness.first_rows(
            corpus, robustness.SHORT_FILE_ROWS
        ),
    }
    make = stream_detector(config)
    return {name: run(variant, name, make, config.threshold) for name, variant in variants.items()}


def _held_out(
    corpus: Corpus, config: AnomalyConfig, plain: Detections
) -> dict[str, list[robustness.HeldOut]]:
    candidates = {CONFIGURED: plain}
    for name, candidate in neighbours(config).items():
        candidates[name] = detect(corpus, stream_detector(candidate))
    return {
        profile.name: robustness.leave_one_category_out(corpus, candidates, profile)
        for profile in corpus.profiles
    }
