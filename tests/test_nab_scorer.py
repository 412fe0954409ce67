"""NAB's scoring rules and the robustness proofs on small hand-made files, and
`smati bench nab` on a tiny corpus."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.nab import robustness, scorer
from benchmarks.nab.baseline import WindowedGaussian
from benchmarks.nab.corpus import Corpus, DataFile, Profile, load_corpus
from benchmarks.nab.runner import Detections
from smati.cli import main

STANDARD = Profile("standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
ROWS = 200  # probationary: the first 30
WINDOW = (100, 119)
T0 = datetime(2015, 1, 1, tzinfo=UTC)


def data_file(windows: list[tuple[int, int]], rows: int = ROWS) -> DataFile:
    return DataFile(
        name="test/file.csv",
        timestamps=[T0 + timedelta(minutes=5 * i) for i in range(rows)],
        values=[0.0] * rows,
        windows=windows,
    )


def detections_at(*rows: int, length: int = ROWS) -> list[float]:
    return [1.0 if i in rows else 0.0 for i in range(length)]


def score(windows: list[tuple[int, int]], *detections: int, profile: Profile = STANDARD) -> float:
    data = data_file(windows)
    return scorer.score_at(scorer.scorable_rows(data, detections_at(*detections)), profile, 0.5)


def test_probationary_period_is_15_percent_capped_at_750() -> None:
    assert scorer.probationary_length(200) == 30
    assert scorer.probationary_length(4032) == 604
    assert scorer.probationary_length(22695) == 750


def test_early_detection_in_a_window_scores_more_than_a_late_one() -> None:
    start, end = WINDOW
    first_row = score([WINDOW], start)
    last_row = score([WINDOW], end)
    assert first_row == pytest.approx(1.0)  # the window's first row earns the full tp weight
    assert 0.0 < last_row < score([WINDOW], (start + end) // 2) < first_row


def test_only_the_first_detection_of_a_window_counts() -> None:
    start, end = WINDOW
    assert score([WINDOW], start + 5, start + 6, end) == score([WINDOW], start + 5)


def test_missed_window_costs_the_fn_weight() -> None:
    assert score([WINDOW]) == -1.0
    low_fn = Profile("reward_low_FN_rate", tp_weight=1.0, fp_weight=0.11, fn_weight=2.0)
    assert score([WINDOW], profile=low_fn) == -2.0


def test_false_positive_before_any_window_costs_the_full_fp_weight() -> None:
    assert score([WINDOW], 50) == pytest.approx(-1.0 - 0.11)
    assert score([], 50) == pytest.approx(-0.11)


def test_false_positive_costs_more_the_farther_it_is_past_a_window() -> None:
    """Its distance is counted in window lengths (here 19 rows from first to last)."""
    end = WINDOW[1]
    missed = -1.0
    just_after = score([WINDOW], end + 1) - missed
    one_length_after = score([WINDOW], end + 19) - missed
    far_after = score([WINDOW], end + 3 * 19) - missed
    assert just_after == pytest.approx(0.11 * (2 / (1 + math.exp(5 / 19)) - 1))
    assert one_length_after == pytest.approx(0.11 * (2 / (1 + math.exp(5)) - 1))
    assert far_after == pytest.approx(-0.11)
    assert far_after < one_length_after < just_after < 0


def test_probationary_detections_are_ignored() -> None:
    assert score([WINDOW], 10) == score([WINDOW])
    assert score([], 29) == 0.0
    assert score([], 30) == pytest.approx(-0.11)


def test_a_window_inside_the_probationary_period_is_neither_found_nor_missed() -> None:
    assert score([(5, 15)]) == 0.0


def test_threshold_is_chosen_to_maximise_the_corpus_score() -> None:
    data = data_file([WINDOW])
    scores = [0.0] * ROWS
    scores[WINDOW[0]] = 0.9  # a true detection
    scores[60] = 0.6  # a false positive scoring lower
    rows = scorer.scorable_rows(data, scores)
    threshold, best = scorer.best_threshold(rows, STANDARD)
    assert threshold == 0.9
    assert best == pytest.approx(1.0)


def test_null_detector_normalises_to_0_and_perfect_to_100() -> None:
    windows = [WINDOW, (150, 169)]
    data = data_file(windows)
    perfect_rows = scorer.scorable_rows(data, detections_at(100, 150))
    null = scorer.null_score(perfect_rows, STANDARD)
    perfect = scorer.perfect_score([data], STANDARD)
    assert null == -2.0 and perfect == 2.0
    assert scorer.normalised(scorer.best_threshold(perfect_rows, STANDARD)[1], null, perfect) == 100
    assert scorer.normalised(null, null, perfect) == 0


def write_corpus(root: Path) -> None:
    """Two files in NAB's layout, of two categories, a spike inside each one's only window."""
    windows: dict[str, list[list[str]]] = {}
    for name, spike in (("spiky/a.csv", 300), ("sharp/b.csv", 350)):
        path = root / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        times = [T0 + timedelta(hours=i) for i in range(500)]
        values = [10 + math.sin(i / 4) + (20 if i == spike else 0) for i in range(500)]
        lines = ["timestamp,value"] + [
            f"{t:%Y-%m-%d %H:%M:%S},{v}" for t, v in zip(times, values, strict=True)
        ]
        path.write_text("\n".join(lines) + "\n")
        limits = (times[spike - 20], times[spike + 20])
        windows[name] = [[f"{t:%Y-%m-%d %H:%M:%S}.000000" for t in limits]]
    (root / "labels").mkdir()
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    (root / "config").mkdir()
    costs = {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}
    profiles = {name: {"CostMatrix": costs} for name in ("standard", "reward_low_FP_rate")}
    (root / "config" / "profiles.json").write_text(json.dumps(profiles))


def test_corpus_windows_are_row_indexes(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    corpus = load_corpus(tmp_path)
    assert [data.windows for data in corpus.files] == [[(330, 370)], [(280, 320)]]
    assert [p.name for p in corpus.profiles] == ["standard", "reward_low_FP_rate"]


def test_bench_nab_json_on_a_tiny_corpus(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    result = CliRunner().invoke(
        main, ["bench", "nab", "--data", str(tmp_path), "--json", "--alternatives"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["detector"] == "anomaly"
    assert figures["files"] == 2
    assert set(figures["scores"]) == {"standard", "reward_low_fp"}
    assert figures["scores"]["standard"] > 80  # both spikes found, nothing else
    assert set(figures["baseline_windowed_gaussian"]) == {"standard", "reward_low_fp"}
    assert figures["us_per_sample"] > 0
    assert figures["same_scores_with_state"] is True
    assert set(figures["robustness"]) == {
        "compressed_60",
        "stretched_60",
        "first_3000_rows",
        "leave_one_category_out",
    }
    for scores in figures["robustness"].values():
        assert set(scores) == {"standard", "reward_low_fp"}
    assert set(figures["leave_one_category_out_choices"]["standard"]) == {"sharp", "spiky"}
    assert set(figures["alternatives"]) == {
        "river_half_space_trees",
        "river_standard_absolute_deviation",
    }


def test_bench_nab_time_scale_scores_the_corpus_on_a_slower_clock(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    base = ["bench", "nab", "--data", str(tmp_path), "--json"]
    plain = json.loads(CliRunner().invoke(main, base).output)
    stretched = CliRunner().invoke(main, [*base, "--time-scale", "60", "--no-robustness"])
    assert stretched.exit_code == 0, stretched.output
    figures = json.loads(stretched.output)
    assert figures["time_scale"] == 60.0 and figures["robustness"] == {}
    assert figures["scores"] == plain["robustness"]["stretched_60"]


def window_of_mean_11_and_deviation_1() -> WindowedGaussian:
    detector = WindowedGaussian()
    assert detector.score(T0, 10.0) == 0.0  # nothing to compare with yet
    detector.score(T0, 12.0)
    return detector


def test_windowed_gaussian_scores_the_tail_and_rounds_like_nab() -> None:
    assert window_of_mean_11_and_deviation_1().score(T0, 11.0) == pytest.approx(0.5)
    six_sigmas = window_of_mean_11_and_deviation_1().score(T0, 17.0)
    assert six_sigmas == pytest.approx(1 - 9.87e-10, abs=1e-12) and six_sigmas < 1.0
    # 1 - 7e-14 is 1.0 with NAB's 12 significant digits
    assert window_of_mean_11_and_deviation_1().score(T0, 18.4) == 1.0


def corpus_of(*files: DataFile) -> Corpus:
    return Corpus(files=list(files), profiles=[STANDARD])


def test_first_rows_keeps_windows_as_far_as_they_go() -> None:
    data = data_file([(100, 119), (150, 169)])
    cut = robustness.first_rows(corpus_of(data), 160).files[0]
    assert len(cut.values) == len(cut.timestamps) == 160
    assert cut.windows == [(100, 119), (150, 159)]
    assert robustness.first_rows(corpus_of(data), 110).files[0].windows == [(100, 109)]
    assert robustness.first_rows(corpus_of(data), 500).files[0] == data


@pytest.mark.parametrize("factor", [1 / 60, 60.0])
def test_rescaled_clock_keeps_the_first_time_values_and_windows(factor: float) -> None:
    data = data_file([(100, 119)])
    scaled = robustness.rescaled(corpus_of(data), factor).files[0]
    assert scaled.timestamps[0] == data.timestamps[0]
    assert scaled.timestamps[1] - scaled.timestamps[0] == timedelta(minutes=5) * factor
    assert (scaled.values, scaled.windows) == (data.values, data.windows)


def test_each_category_is_scored_with_the_parameters_chosen_without_it() -> None:
    """Two parameter sets, each finding only one category's anomaly: in-sample either
    scores 100 on its own category, left out each category gets the other's set: 0."""
    first = replace(data_file([(100, 119)]), name="first/a.csv")
    second = replace(data_file([(150, 169)]), name="second/b.csv")
    corpus = corpus_of(first, second)

    def detections(found: DataFile) -> Detections:
        rows = {
            data.name: scorer.scorable_rows(
                data, detections_at(data.windows[0][0]) if data is found else detections_at()
            )
            for data in (first, second)
        }
        return Detections(rows, readings=400, seconds=1.0)

    candidates = {"finds first": detections(first), "finds second": detections(second)}
    held_out = robustness.leave_one_category_out(corpus, candidates, STANDARD)
    assert [(held.category, held.parameters) for held in held_out] == [
        ("first", "finds second"),
        ("second", "finds first"),
    ]
    assert [held.score for held in held_out] == [0.0, 0.0]
