"""The figures of `smati bench nab`: a table per profile and per category, or one JSON object."""

from __future__ import annotations

from typing import Any

from benchmarks.nab.baseline import PUBLISHED
from benchmarks.nab.runner import DetectorResult


def profile_key(profile: str) -> str:
    """profiles.json's `reward_low_FP_rate` is `reward_low_fp` in the JSON output."""
    return profile.lower().removesuffix("_rate")


def as_json(
    detector: DetectorResult, baseline: DetectorResult, files: int, configured_threshold: float
) -> dict[str, Any]:
    return {
        "detector": detector.name,
        "scores": _scores(detector),
        "baseline_windowed_gaussian": _scores(baseline),
        "baseline_published": {profile_key(name): score for name, score in PUBLISHED.items()},
        "us_per_sample": round(detector.us_per_reading, 2),
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
    }


def alternatives_as_json(others: list[DetectorResult]) -> dict[str, Any]:
    return {
        other.name: {"scores": _scores(other), "us_per_sample": round(other.us_per_reading, 2)}
        for other in others
    }


def alternatives_as_text(others: list[DetectorResult]) -> str:
    names = [p.profile for p in others[0].profiles]
    lines = [
        "",
        "alternatives (optimal thresholds)",
        f"{'':34}" + "".join(f"{profile_key(name):>16}" for name in names) + f"{'us/reading':>12}",
    ]
    lines += [
        f"{other.name:34}"
        + "".join(f"{p.score:16.2f}" for p in other.profiles)
        + f"{other.us_per_reading:12.1f}"
        for other in others
    ]
    return "\n".join(lines)


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 2)


def _scores(result: DetectorResult) -> dict[str, float]:
    return {profile_key(p.profile): round(p.score, 2) for p in result.profiles}


def as_text(
    detector: DetectorResult, baseline: DetectorResult, files: int, configured_threshold: float
) -> str:
    names = [p.profile for p in detector.profiles]
    header = f"{'':24}" + "".join(f"{profile_key(name):>16}" for name in names)
    lines = [
        f"NAB: {files} files, {detector.readings:,} readings; scores normalised "
        "(null detector 0, perfect 100), threshold optimised per profile over the corpus",
        "",
        f"detector {detector.name}",
        header,
        f"{'score':24}" + "".join(f"{p.score:16.2f}" for p in detector.profiles),
        f"{'optimal threshold':24}" + "".join(f"{p.threshold:16.4f}" for p in detector.profiles),
        f"{f'score at {configured_threshold}':24}"
        + "".join(_cell(p.score_at_configured) for p in detector.profiles),
        "by category, at the optimal threshold:",
    ]
    for category in detector.profiles[0].by_category:
        cells = [p.by_category[category] for p in detector.profiles]
        lines.append(f"  {category:22}" + "".join(_cell(cell) for cell in cells))
    lines += [
        f"cost: {detector.us_per_reading:.1f} us per reading (detector calls only)",
        "",
        f"baseline {baseline.name}: measured vs NAB's scoreboard",
        header,
        f"{'measured':24}" + "".join(f"{p.score:16.2f}" for p in baseline.profiles),
        f"{'published':24}" + "".join(_cell(PUBLISHED.get(name)) for name in names),
    ]
    return "\n".join(lines)


def _cell(score: float | None) -> str:
    return "-".rjust(16) if score is None else f"{score:16.2f}"
