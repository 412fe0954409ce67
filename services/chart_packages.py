"""The charting library of the cleansing review page, uPlot, from the npm registry
(``services/charts/package.json`` pins it), installed into the cache folder by ``make
setup`` (or at first use). `smati serve` hands its folder to the HTTP API, which serves
the files itself: the page loads nothing from a CDN.

Run ``python -m services.chart_packages`` to install it and print where its files are.
"""

from __future__ import annotations

from pathlib import Path

from services._process import ServiceNotInstalledError
from services.npm import NpmPackages

__all__ = ["CHART_FILES", "CHART_PACKAGES", "chart_assets"]

CHART_PACKAGES = NpmPackages(
    Path(__file__).parent / "charts",
    ("package.json", "package-lock.json"),
    "the review page's charts",
    "charts",
)
CHART_FILES = ("uPlot.iife.min.js", "uPlot.min.css")
"""What the page loads of the package's `dist` folder."""


def chart_assets() -> Path:
    """The folder holding `CHART_FILES`; installs the package first if it is not yet."""
    folder = CHART_PACKAGES.ensure() / "node_modules" / "uplot" / "dist"
    missing = [name for name in CHART_FILES if not (folder / name).is_file()]
    if missing:
        raise ServiceNotInstalledError(f"uplot: missing {', '.join(missing)} in {folder}")
    return folder


if __name__ == "__main__":
    print(chart_assets())
