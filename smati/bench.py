"""`smati bench`: benchmarks that print figures measured in one run."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click

from models.settings import Settings

NAB_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "nab"


@click.group()
def bench() -> None:
    """Benchmarks; print ratios and figures measured in one run on this machine."""


@bench.command()
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=lambda: os.environ.get("SMATI_NAB_DATA", str(NAB_DATA)),
    show_default=f"{NAB_DATA}, or env SMATI_NAB_DATA",
    help="a labelled corpus in NAB's layout: data/, labels/combined_windows.json, "
    "config/profiles.json",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--limit-files", type=int, help="only the first N files (a quick run)")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0.0, min_open=True),
    default=1.0,
    show_default=True,
    help="run every file's clock this many times slower (1/60: a minute becomes a second)",
)
@click.option(
    "--robustness/--no-robustness",
    default=True,
    show_default=True,
    help="also score the corpus compressed and stretched 60 times, cut to 3,000 rows a "
    "file, and leave-one-category-out (about 15 corpus runs)",
)
@click.option(
    "--alternatives",
    is_flag=True,
    help="also run river's HalfSpaceTrees and StandardAbsoluteDeviation (about 15 s more)",
)
def nab(
    data: Path,
    as_json: bool,
    limit_files: int | None,
    time_scale: float,
    robustness: bool,
    alternatives: bool,
) -> None:
    """Score the stream's anomaly detector on the Numenta Anomaly Benchmark.

    Runs models.anomaly.AnomalyDetector, with its default configuration, as for an instant
    usage, a fresh instance per file, and NAB's windowed Gaussian baseline over every file,
    scores both with NAB's rules (windows, scaled sigmoid, probationary period, the three
    profiles, threshold optimised per profile, normalisation) and prints the scores per
    profile and category, the baseline next to its published scores, the detector's cost
    per reading, and its robustness: the same files with clocks compressed and stretched
    60 times, cut to their first 3,000 rows, and each category scored with the parameters
    (among the configured ones and each tuned one halved or doubled) and the threshold
    that did best on the other categories.
    """
    from benchmarks.nab import report
    from benchmarks.nab.corpus import load_corpus
    from benchmarks.nab.robustness import rescaled
    from benchmarks.nab.suite import measure
    from models.anomaly import AnomalyConfig

    started = time.perf_counter()
    corpus = load_corpus(data, limit_files)
    if time_scale != 1.0:
        corpus = rescaled(corpus, time_scale)
    config = AnomalyConfig()
    figures = measure(corpus, config, robustness, alternatives)
    files = len(corpus.files)
    if as_json:
        output = report.as_json(figures, files, config.threshold)
        output["time_scale"] = time_scale
        output["wall_seconds"] = round(time.perf_counter() - started, 1)
        click.echo(json.dumps(output, indent=2))
    else:
        click.echo(report.as_text(figures, files, config.threshold))
        click.echo(f"\nwall time: {time.perf_counter() - started:.1f} s")


@bench.command()
@click.option("--usages", type=int, default=100_000, show_default=True, help="usages (M)")
@click.option("--uplinks", type=int, default=200_000, show_default=True, help="raw uplinks (N)")
@click.option("--probes", type=int, default=1000, show_default=True, help="latency probes")
@click.option(
    "--workers",
    type=click.IntRange(1),
    default=lambda: min(os.cpu_count() or 1, Settings.model_fields["topic_partitions"].default),
    show_default="one per core, at most the raw topic's partitions",
    help="worker processes sharing the partitions, as a deployment scales out (the "
    "baseline stays one bare agent)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def pipeline(usages: int, uplinks: int, probes: int, workers: int, as_json: bool) -> None:
    """Measure the whole stream against a bare Faust agent, in one run on Apache Kafka.

    Starts Apache Kafka and PostgreSQL, registers M usages, preloads N raw uplinks, then
    times a bare Faust agent that only deserialises them and `smati worker` processes
    (every detector on) until the last reading is committed in PostgreSQL. Then: latency from a
    reading's publication to its detection event, the worker's peak RSS, and its recovery
    after kill -9 with the state of all M usages. See benchmarks/pipeline/run.py.
    """
    from benchmarks.pipeline.run import run_benchmark

    say = (lambda _: None) if as_json else (lambda text: click.echo(f"-- {text}", err=True))
    figures = run_benchmark(usages, uplinks, probes, say, workers).as_dict()
    _echo_figures(figures, as_json)


@bench.command("report")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def report_bench(as_json: bool) -> None:
    """The energy report (HTML and PDF) of a building with 50 meters and two years of
    10-minute readings (5.3 million rows, loaded by COPY), from the rollups, against the
    same report from every raw reading aggregated in pandas, in one run. See
    benchmarks/report/run.py.
    """
    from benchmarks.report.run import run_benchmark

    say = (lambda _: None) if as_json else (lambda text: click.echo(f"-- {text}", err=True))
    figures = run_benchmark(say=say).as_dict()
    _echo_figures(figures, as_json)


@bench.command("codecs")
@click.option("--uplinks", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--batch", type=click.IntRange(1), default=500, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def codecs_bench(uplinks: int, batch: int, as_json: bool) -> None:
    """The cost per uplink of a JavaScript codec (a `decodeUplink` file in the embedded
    engine, per call and per batch) beside the native codec of the same EM300-TH frame,
    alone and through the stream's decoding step, and the maker's Adeunis TEMP codec from
    npm, measured in one run. See benchmarks/codecs/run.py.
    """
    from benchmarks.codecs.run import run_benchmark

    figures = run_benchmark(uplinks, batch).as_dict()
    _echo_figures(figures, as_json)


@bench.command("alarms")
@click.option("--usages", type=click.IntRange(1), default=2000, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=2000,
    show_default=True,
    help="readings per second offered",
)
@click.option("--seconds", type=click.FloatRange(min=1), default=30, show_default=True)
@click.option(
    "--defects",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="usages given a defect (each one alarm, so one notification)",
)
@click.option(
    "--defect-readings",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="readings in a row above the usage's max, per defect",
)
@click.option("--workers", type=click.IntRange(1), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def alarms_bench(
    usages: int,
    rate: float,
    seconds: float,
    defects: int,
    defect_readings: int,
    workers: int,
    as_json: bool,
) -> None:
    """Readings with injected defects at RATE/s through Kafka, the workers, the notifier and
    Alertmanager to a loopback webhook: the latency from the raw uplink's Kafka timestamp
    to the notification received, and whether every expected notification came, once.
    See benchmarks/alarms/run.py.
    """
    from benchmarks.alarms.run import Load, run_benchmark

    say = (lambda _: None) if as_json else (lambda text: click.echo(f"-- {text}", err=True))
    load = Load(usages, rate, seconds, min(defects, usages), defect_readings)
    figures = run_benchmark(load, workers, say).as_dict()
    _echo_figures(figures, as_json)


@bench.command()
@click.option(
    "--readings", type=click.IntRange(1), default=1_000_000, show_default=True, help="readings sent"
)
@click.option(
    "--usages", type=click.IntRange(1), default=10_000, show_default=True, help="usages (devices)"
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def soak(readings: int, usages: int, as_json: bool) -> None:
    """Soak under faults: readings over MQTT through the connector, Kafka and two workers
    into PostgreSQL, while a worker is killed with -9 and restarted (at 30% and 60% of the
    readings sent) and the connector is restarted (at 45%); then counts the readings
    missing or stored twice, the lag left, and the recoveries. Starts its own Apache
    Kafka, PostgreSQL and Mosquitto. See benchmarks/soak/run.py.
    """
    from benchmarks.soak.run import SoakPlan, soak_on_own_services

    say = (lambda _: None) if as_json else (lambda text: click.echo(f"-- {text}", err=True))
    figures = soak_on_own_services(SoakPlan(readings=readings, usages=usages), say).as_dict()
    _echo_figures(figures, as_json)


def _echo_figures(figures: dict[str, Any], as_json: bool) -> None:
    """A benchmark's figures: one JSON object, or one `name value` line each."""
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    width = max(map(len, figures), default=0) + 2
    for name, value in figures.items():
        click.echo(f"{name:<{width}} {value}")
