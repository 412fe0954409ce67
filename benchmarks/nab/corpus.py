"""NAB's layout on disk: `data/<category>/<file>.csv`, `labels/combined_windows.json`,
`config/profiles.json`. Loaded once, in memory (the whole corpus is 365,558 rows)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Profile:
    """An application profile: the weights of NAB's cost matrix."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


@dataclass(frozen=True)
class DataFile:
    """One labelled series. `windows` are (first row, last row) index pairs, both inclusive."""

    name: str
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[int, int]]

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True)
class Corpus:
    files: list[DataFile]
    profiles: list[Profile]


def load_corpus(root: Path, limit_files: int | None = None) -> Corpus:
    """Read every file that has an entry in the label windows, in a stable (sorted) order."""
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    names = sorted(windows)[:limit_files]
    files = [_load_file(root / "data", name, windows[name]) for name in names]
    return Corpus(files=files, profiles=load_profiles(root / "config" / "profiles.json"))


def load_profiles(path: Path) -> list[Profile]:
    raw = json.loads(path.read_text())
    return [
        Profile(
            name=name,
            tp_weight=spec["CostMatrix"]["tpWeight"],
            fp_weight=spec["CostMatrix"]["fpWeight"],
            fn_weight=spec["CostMatrix"]["fnWeight"],
        )
        for name, spec in raw.items()
    ]


def parse_time(text: str) -> datetime:
    """NAB's times are naive local strings; they are read as UTC (only their order and
    calendar position matter)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _load_file(data_dir: Path, name: str, limits: list[list[str]]) -> DataFile:
    with (data_dir / name).open(newline="") as f:
        rows = list(csv.DictReader(f))
    timestamps = [parse_time(row["timestamp"]) for row in rows]
    index = {ts: i for i, ts in enumerate(timestamps)}
    try:
        windows = [(index[parse_time(start)], index[parse_time(end)]) for start, end in limits]
    except KeyError as missing:
        raise ValueError(f"{name}: window limit {missing} is not a timestamp of the file") from None
    return DataFile(
        name=name,
        timestamps=timestamps,
        values=[float(row["value"]) for row in rows],
        windows=windows,
    )
