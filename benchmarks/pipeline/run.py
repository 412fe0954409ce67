"""The pipeline benchmark, all phases in one run on this machine's Apache Kafka and PostgreSQL.

1. Preload: a fleet of M usages (one thermometer each) is registered and N raw uplinks are
   put on the raw topic, a few readings per usage, the last ones about now.
2. Bare Faust: an agent that only deserialises those uplinks, in its own process:
   readings/s from its first event to its N-th. It runs twice, before the pipeline and
   after the last phase (the workers stopped), and the baseline is the mean: on these
   shared machines one run may come out a third faster than the next.
3. Pipeline: a `smati worker` with every detector on (rules, transmission, anomaly)
   decodes, checks and stores them: readings/s from the first to the last batch committed
   in PostgreSQL (`ingested_at`, the readings of the first batch left out: their time is
   not in that span); the ratio is pipeline / bare.
4. Latency: probes published one by one at a steady pace once the backlog is gone, each
   above its usage's max; p50/p99 from the raw record's creation to its detection event's
   (both Kafka CreateTime, set by the producers).
5. Recovery: the worker, holding the state of all M usages, is killed with -9; a new one
   is started: seconds from its start to its first reading stored. Its log tells how long
   reading the states of its partitions back from PostgreSQL took (its clock does it once
   per assignment), for every usage the restarted worker watches.
Peak RSS is each worker's high-water mark (VmHWM) before the kill: the highest, and the sum.
The share of the machine's CPU time stolen by its hypervisor during the bare agent's runs
and the pipeline phase is printed too: on a shared machine it can reach a quarter, and
it slows the pipeline, which needs both cores, more than the bare agent.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg
from confluent_kafka import Message, Producer

from benchmarks.fleet import device_id, fleet_registry, raw_uplink, usage_id
from models.detection import DetectionEvent, DetectionKind
from models.kafka import produce
from models.settings import Settings
from services import ApacheKafka, PostgresServer, free_port, spawn, stop_process
from services.processes import RoleProcess
from storage.migrate import migrate
from storage.registry_store import save_registry
from stream.topics import ensure_topics, read_records

PERIOD_S = 3600.0
"""The fleet's period: long enough that the preloaded history, an hour or more old, does
not age past orange while it is processed (which would add a burst of status changes)."""
Say = Callable[[str], None]
Found = TypeVar("Found")


@dataclass(frozen=True)
class PipelineFigures:
    bare_faust_rps: float
    """The mean of the two runs of the bare agent."""
    bare_faust_runs_rps: tuple[float, float]
    """Before the pipeline, and after the recovery phase."""
    pipeline_rps: float
    ratio: float
    usages: int
    uplinks: int
    workers: int
    """`smati worker` processes sharing the partitions in the pipeline phase."""
    peak_rss_mb: float
    """The highest of the workers'."""
    peak_rss_total_mb: float
    """The workers' together: what holding the state of all M usages takes."""
    latency_p50_ms: float
    latency_p99_ms: float
    recovery_s: float
    state_load_s: float | None
    steal_pct_bare: float
    steal_pct_pipeline: float
    """The restarted worker reading back the states of all its usages."""

    def as_dict(self) -> dict[str, float | int | tuple[float, float] | None]:
        return asdict(self)


def run_benchmark(
    usages: int, uplinks: int, probes: int, say: Say, workers: int = 1
) -> PipelineFigures:
    work = tempfile.mkdtemp(prefix="smati-bench-")  # kept: the processes' logs
    say(f"logs in {work}")
    with _services(say) as (kafka, database):
        run = uuid.uuid4().hex[:8]
        settings = Settings(
            kafka_bootstrap=kafka,
            database_url=database,
            topic_prefix=f"bench-{run}",
            app_id=f"smati-bench-{run}",
            state_dir=Path(work) / "state",
        )
        say(f"registering {usages} usages")
        migrate(database)
        with psycopg.connect(database) as conn:
            save_registry(conn, fleet_registry(usages, PERIOD_S))
        ensure_topics(settings)
        say(f"preloading {uplinks} raw uplinks")
        _preload(settings, usages, uplinks)
        steal_bare = StealMeter()
        bare_before = _bare_faust(settings, uplinks, Path(work) / "bare-before.log", say)
        steal_bare.pause()
        started = [_worker(settings, Path(work) / f"worker-{n}.log") for n in range(workers)]
        try:
            steal_pipeline = StealMeter()
            pipeline = _pipeline(database, uplinks, started, say)
            steal_pipeline.pause()
            latencies = _latencies(settings, min(probes, usages), started, say)
            peaks = [_peak_rss_mb(worker) for worker in started]
        finally:
            for worker in started:
                if worker.process.poll() is None:
                    os.kill(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
        recovery_s, load_s = _recovery(settings, database, Path(work) / "restarted.log", say)
        steal_bare.resume()
        bare_after = _bare_faust(settings, uplinks, Path(work) / "bare-after.log", say)
        steal_bare.pause()
    bare = (bare_before + bare_after) / 2
    return PipelineFigures(
        bare_faust_rps=round(bare, 1),
        bare_faust_runs_rps=(round(bare_before, 1), round(bare_after, 1)),
        pipeline_rps=round(pipeline, 1),
        ratio=round(pipeline / bare, 3),
        usages=usages,
        uplinks=uplinks,
        workers=workers,
        peak_rss_mb=round(max(peaks), 1),
        peak_rss_total_mb=round(sum(peaks), 1),
        latency_p50_ms=round(statistics.median(latencies), 1),
        latency_p99_ms=round(statistics.quantiles(latencies, n=100)[98], 1),
        recovery_s=round(recovery_s, 2),
        state_load_s=load_s,
        steal_pct_bare=steal_bare.percent(),
        steal_pct_pipeline=steal_pipeline.percent(),
    )


class StealMeter:
    """The machine's CPU time stolen by the hypervisor while running, in % of all of it
    (Linux /proc/stat: user nice system idle iowait irq softirq steal ...)."""

    def __init__(self) -> None:
        self._all = self._stolen = 0
        self._since: tuple[int, int] | None = None
        self.resume()

    def resume(self) -> None:
        self._since = _cpu_times()

    def pause(self) -> None:
        if self._since is not None:
            now = _cpu_times()
            self._all += now[0] - self._since[0]
            self._stolen += now[1] - self._since[1]
            self._since = None

    def percent(self) -> float:
        return round(100 * self._stolen / self._all, 1) if self._all else 0.0


def _cpu_times() -> tuple[int, int]:
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[7]


@contextmanager
def _services(say: Say) -> Iterator[tuple[str, str]]:
    with ApacheKafka() as kafka, PostgresServer() as postgres:
        say(f"Apache Kafka on {kafka.bootstrap}, PostgreSQL on {postgres.url}")
        yield kafka.bootstrap, postgres.url


def _preload(settings: Settings, usages: int, uplinks: int) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 50})
    steps = -(-uplinks // usages)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=steps * PERIOD_S)
    for k in range(uplinks):
        step, n = divmod(k, usages)
        at = start + timedelta(seconds=step * PERIOD_S)
        value = 20.0 + (n * 7 + step) % 10
        produce(producer, settings.topic("raw"), raw_uplink(n, at, value), device_id(n))
        producer.poll(0)
    producer.flush(60)


def _bare_faust(settings: Settings, uplinks: int, log: Path, say: Say) -> float:
    """Its first `uplinks` records, whatever was published after them, in a group of its own."""
    say("bare Faust agent: deserialising the raw topic")
    group = f"{settings.app_id}-{log.stem}"
    args = [settings.kafka_bootstrap, settings.topic("raw"), group, str(uplinks)]
    process = spawn([sys.executable, "-m", "benchmarks.pipeline.bare_agent", *args], log)
    try:
        seconds = _wait_for(lambda: _consumed_seconds(log), 600, "the bare agent to finish")
    finally:
        stop_process(process, timeout=10)
    return uplinks / seconds


def _consumed_seconds(log: Path) -> float | None:
    match = re.search(r"consumed \d+ in ([\d.]+)", log.read_text(errors="replace"))
    return float(match.group(1)) if match else None


def _worker(settings: Settings, log: Path) -> RoleProcess:
    env = {
        **os.environ,
        "SMATI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SMATI_DATABASE_URL": settings.database_url.get_secret_value(),
        "SMATI_TOPIC_PREFIX": settings.topic_prefix,
        "SMATI_APP_ID": settings.app_id,
        "SMATI_STATE_DIR": str(settings.state_dir),
        "SMATI_WEB_PORT": str(free_port()),
        "SMATI_LOG_LEVEL": "info",
    }
    return RoleProcess(["worker"], env, log)


def _pipeline(database: str, uplinks: int, workers: list[RoleProcess], say: Say) -> float:
    say(f"pipeline: {len(workers)} smati worker(s) decoding, checking and storing every reading")

    def stored() -> tuple[int, float] | None:
        """Readings stored after the first batch's commit, and the seconds they took.

        Counting the table at every poll would take a good part of a core from the workers
        being measured: the statistics' count of inserted rows tells when to count."""
        _raise_if_dead(workers)
        with psycopg.connect(database) as conn:
            (inserted,) = conn.execute(
                "SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables"
                " WHERE relname = 'readings'"
            ).fetchone() or (0,)
            if inserted < uplinks:
                return None
            count, first, last = conn.execute(
                "SELECT count(*), min(ingested_at), max(ingested_at) FROM readings"
            ).fetchone() or (0, None, None)
            if count < uplinks:
                return None
            (in_first,) = conn.execute(
                "SELECT count(*) FROM readings WHERE ingested_at = %s", [first]
            ).fetchone() or (0,)
        return count - in_first, (last - first).total_seconds()

    count, seconds = _wait_for(stored, 1800, "every reading to be stored")
    if not count:
        raise ValueError("every reading was stored in one batch: too few uplinks to time")
    return count / seconds


def _latencies(
    settings: Settings, probes: int, workers: list[RoleProcess], say: Say
) -> list[float]:
    say(f"latency: {probes} probes, one every 10 ms")
    created: dict[tuple[str, datetime], int] = {}
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 0})
    at = datetime.now(UTC).replace(microsecond=0)

    def delivered(n: int, when: datetime) -> Callable[[object, Message], None]:
        def record(error: object, message: Message) -> None:
            created[(usage_id(n), when)] = message.timestamp()[1]

        return record

    for n in range(probes):
        producer.produce(
            settings.topic("raw"),
            raw_uplink(n, at, 150.0),  # above the fleet's max: a threshold_high event
            device_id(n),
            on_delivery=delivered(n, at),
        )
        producer.poll(0)
        time.sleep(0.01)
    producer.flush(30)

    def detected() -> list[float] | None:
        _raise_if_dead(workers)
        found = []
        for record in read_records(settings.kafka_bootstrap, settings.topic("events")):
            event = DetectionEvent.from_json(record.value)
            sent = created.get((event.usage_id, event.ts))
            if event.kind is DetectionKind.THRESHOLD_HIGH and sent is not None:
                found.append(float(record.timestamp_ms - sent))
        return found if len(found) >= probes else None

    return _wait_for(detected, 300, "every probe's detection event")


def _raise_if_dead(workers: list[RoleProcess]) -> None:
    for worker in workers:
        worker.raise_if_dead()


def _peak_rss_mb(worker: RoleProcess) -> float:
    status = Path(f"/proc/{worker.process.pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def _recovery(settings: Settings, database: str, log: Path, say: Say) -> tuple[float, float]:
    say("recovery: worker killed with -9, a new one started")
    with psycopg.connect(database) as conn:
        (before,) = conn.execute("SELECT count(*) FROM readings").fetchone() or (0,)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    for n in range(100):
        producer.produce(settings.topic("raw"), raw_uplink(n, at, 21.0), device_id(n))
    producer.flush(30)
    started = time.monotonic()
    worker = _worker(settings, log)

    def first_stored() -> float | None:
        worker.raise_if_dead()
        with psycopg.connect(database) as conn:
            (count,) = conn.execute("SELECT count(*) FROM readings").fetchone() or (0,)
        return time.monotonic() - started if count > before else None

    try:
        seconds = _wait_for(first_stored, 600, "the restarted worker's first reading")
        load_s = _wait_for(lambda: _state_load_s(worker.log()), 600, "its states to be read")
    finally:
        worker.stop()
    return seconds, load_s


def _state_load_s(log: str) -> float | None:
    """From the clock's log line once it has read the states of its partitions."""
    match = re.search(r"states of raw partitions .* read in ([\d.]+) s", log)
    return float(match.group(1)) if match else None


def _wait_for(probe: Callable[[], Found | None], timeout_s: float, what: str) -> Found:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout_s} s waiting for {what}")
        time.sleep(0.2)
