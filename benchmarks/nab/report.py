"""The figures of `smati bench nab`: a table per profile and per category, or one JSON object."""

from __future__ import annotations

from statistics import mean
from typing import Any

from benchmarks.nab.baseline import PUBLISHED
from benchmarks.nab.robustness import HeldOut
from benchmarks.nab.runner import DetectorResult
from benchmarks.nab.suite import Figures


def profile_key(profile: str) -> str:
    """profiles.json's `reward_low_FP_rate` is `reward_low_fp` in the JSON output."""
    return profile.lower().removesuffix("_rate")


def as_json(figures: Figures, files: int, configured_threshold: float) -> dict[str, Any]:
    detector, baseline = figures.detector, figures.baseline
    return {
        "detector": detector.name,
        "scores": _scores(detector),
        "baseline_windowed_gaussian": _scores(baseline),
        "baseline_published": {profile_key(name): score for name, score in PUBLISHED.items()},
        "us_per_sample": round(detector.us_per_reading, 2),
        "us_per_sample_with_state": round(figures.us_per_sample_with_state, 2),
        "same_scores_with_state": figures.same_scores_with_state,
        "files": files,
        "samples": detector.readings,
        "thresholds": {profile_key(p.profile): p.threshold for p in detector.profiles},
        "configured_threshold": configured_threshold,
        "scores_at_configured_threshold": {
            profile_key(p.profile): _rounded(p.score_at_configured) for p in detector.profiles
        },
        "by_category": {
            profile_key(p.profile): {
                category: _rounded(score) for category, score in p.by_category.items()
            }
            for p in detector.profiles
        },
        "mean_of_categories": {
            profile_key(p.profile): _rounded(_category_mean(p.by_category))
            for p in detector.profiles
        },
        "robustness": _robustness(figures),
        "leave_one_category_out_choices": {
            profile_key(profile): {
                held.category: {
                    "parameters": held.parameters,
                    "threshold": held.threshold,
                    "score": round(held.score, 2),
                }
                for held in held_out
            }
            for profile, held_out in figures.held_out.items()
        },
        "alternatives": {
            other.name: {"scores": _scores(other), "us_per_sample": round(other.us_per_reading, 2)}
            for other in figures.alternatives
        },
    }


def _robustness(figures: Figures) -> dict[str, dict[str, float]]:
    robustness = {name: _scores(result) for name, result in figures.variants.items()}
    if figures.held_out:
        robustness["leave_one_category_out"] = {
            profile_key(profile): round(_held_out_mean(held), 2)
            for profile, held in figures.held_out.items()
        }
    return robustness


def _held_out_mean(held_out: list[HeldOut]) -> float:
    return mean(held.score for held in held_out) if held_out else 0.0


def _category_mean(by_category: dict[str, float | None]) -> float | None:
    scores = [score for score in by_category.values() if score is not None]
    return mean(scores) if scores else None


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 2)


def _scores(result: DetectorResult) -> dict[str, float]:
    return {profile_key(p.profile): round(p.score, 2) for p in result.profiles}


def _row(label: str, cells: list[float | None]) -> str:
    return f"{label:34}" + "".join(_cell(cell) for cell in cells)


def _cell(score: float | None) -> str:
    return "-".rjust(16) if score is None else f"{score:16.2f}"


def as_text(figures: Figures, files: int, configured_threshold: float) -> str:
    detector, baseline = figures.detector, figures.baseline
    names = [p.profile for p in detector.profiles]
    header = f"{'':34}" + "".join(f"{profile_key(name):>16}" for name in names)
    lines = [
        f"NAB: {files} files, {detector.readings:,} readings; scores normalised "
        "(null detector 0, perfect 100), threshold optimised per profile over the corpus",
        "",
        f"detector {detector.name}",
        header,
        _row("score", [p.score for p in detector.profiles]),
        f"{'optimal threshold':34}" + "".join(f"{p.threshold:16.4f}" for p in detector.profiles),
        _row(
            f"score at {configured_threshold}", [p.score_at_configured for p in detector.profiles]
        ),
        "by category, at the optimal threshold:",
    ]
    for category in detector.profiles[0].by_category:
        lines.append(_row(f"  {category}", [p.by_category[category] for p in detector.profiles]))
    lines.append(
        _row("  mean of categories", [_category_mean(p.by_category) for p in detector.profiles])
    )
    lines += _robustness_lines(figures, names)
    lines += [
        f"cost: {detector.us_per_reading:.1f} us per reading (detector calls only), "
        f"{figures.us_per_sample_with_state:.1f} us with its state restored and saved "
        f"(same scores: {'yes' if figures.same_scores_with_state else 'NO'})",
        "",
        f"baseline {baseline.name}: measured vs NAB's scoreboard",
        header,
        _row("measured", [p.score for p in baseline.profiles]),
        _row("published", [PUBLISHED.get(name) for name in names]),
    ]
    if figures.alternatives:
        lines += ["", "alternatives (optimal thresholds)", header + f"{'us/reading':>12}"]
        lines += [
            _row(other.name, [p.score for p in other.profiles]) + f"{other.us_per_reading:12.1f}"
            for other in figures.alternatives
        ]
    return "\n".join(lines)


def _robustness_lines(figures: Figures, names: list[str]) -> list[str]:
    if not figures.variants:
        return []
    lines = ["robustness, each at its own optimal threshold:"]
    for name, result in figures.variants.items():
        lines.append(_row(f"  {name}", [result.score(profile) for profile in names]))
    if figures.held_out:
        held = [_held_out_mean(figures.held_out[profile]) for profile in names]
        lines.append(_row("  leave one category out (mean)", list(held)))
    return lines
