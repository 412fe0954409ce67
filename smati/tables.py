"""Aligned columns for a person's terminal."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["aligned", "table"]


def aligned(lines: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each cell padded to its column's widest."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [[text.ljust(width) for text, width in zip(line, widths, strict=True)] for line in lines]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A header line and one line per row, in aligned columns."""
    return "\n".join("  ".join(cells).rstrip() for cells in aligned([header, *rows]))
