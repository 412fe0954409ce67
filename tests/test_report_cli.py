"""`smati report` end to end: PDF and HTML files, their text, their pages as images."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import report_fixture as fx
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from services.postgres import PostgresServer
from smati.cli import main

pytestmark = pytest.mark.integration

A4_RATIO = 297 / 210
RIGHT_MARGIN_MM, BOTTOM_MARGIN_MM = 12, 18


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[str]:
    with fx.loaded_database(postgres.url) as url:
        yield url


def _report(database: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", database, "report", *args])
    return result.exit_code, result.output


def _text(pdf: Path) -> str:
    """The PDF's text, its spaces (narrow, no-break) made plain."""
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    return re.sub(r"[\u202f\u00a0 ]+", " ", text)


def _pages_as_png(pdf: Path, folder: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def _right_margin_is_blank(png: Path) -> bool:
    """Nothing printed in the right margin above the footer: no table overflows."""
    image = Image.open(png).convert("L")
    width, height = image.size
    left = int(width * (1 - (RIGHT_MARGIN_MM - 2) / 210))
    bottom = int(height * (1 - BOTTOM_MARGIN_MM / 297))
    strip = image.crop((left, 0, width, bottom))
    darkest, _ = strip.getextrema()  # one band (L): its (lowest, highest)
    assert isinstance(darkest, int)
    return darkest > 200


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", ["Rapport énergétique", "Hotel Test", "février 2026", "1 235", "Page 1 sur"]),
        ("en", ["Energy report", "Hotel Test", "February 2026", "1,235", "Page 1 of"]),
    ],
)
def test_energy_pdf_text_and_pages(
    database: str, tmp_path: Path, lang: str, expected: list[str]
) -> None:
    pdf, csv_file = tmp_path / "energy.pdf", tmp_path / "decree.csv"
    code, output = _report(
        database, "energy", "--tenant", "t1", "--entity", "hotel", "--from", "2026-02",
        "--to", "2026-04", "--lang", lang, "--out", str(pdf), "--csv", str(csv_file),
    )  # fmt: skip
    assert code == 0, output
    text = _text(pdf)
    for phrase in expected:
        assert phrase in text
    assert "Tenant Two" not in text and "Other building" not in text
    pages = _pages_as_png(pdf, tmp_path)
    assert len(pages) == len(PdfReader(pdf).pages) >= 2
    for page in pages:
        width, height = Image.open(page).size
        assert height / width == pytest.approx(A4_RATIO, rel=0.01)
        assert _right_margin_is_blank(page), page
    assert csv_file.read_text(encoding="utf-8").splitlines() == [
        "entity_id,entity_name,energy,year,kwh",
        "hotel,Hotel Test,electricity,2026,3545.0",
        "hotel,Hotel Test,gas,2026,7455.0",
    ]


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (["monitoring", "--from", "2026-04-01", "--to", "2026-04-30"], "Suivi des transmissions"),
        (["diagnostic", "--usage", "hotel.elec", "--from", "2026-03-01"], "Diagnostic d'usage"),
        (["monitoring", "--lang", "en", "--entity", "hotel"], "Transmission monitoring"),
        (["diagnostic", "--lang", "en", "--usage", "hotel.gas"], "Usage diagnostic"),
    ],
)
def test_quality_reports_render_in_both_languages(
    database: str, tmp_path: Path, args: list[str], title: str
) -> None:
    pdf = tmp_path / "report.pdf"
    code, output = _report(database, *args, "--tenant", "t1", "--out", str(pdf))
    assert code == 0, output
    text = _text(pdf)
    assert title in text
    assert "&#39;" not in text  # the footer's title, written as CSS, not HTML
    assert all(_right_margin_is_blank(page) for page in _pages_as_png(pdf, tmp_path))


def test_html_is_one_self_contained_file(database: str, tmp_path: Path) -> None:
    html = tmp_path / "energy.html"
    code, output = _report(
        database, "energy", "--tenant", "t1", "--entity", "hotel", "--from", "2026-02",
        "--to", "2026-04", "--format", "html", "--out", str(html),
    )  # fmt: skip
    assert code == 0, output
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page and "<style>" in page
    assert not re.search(r'(src|href)="(?!#)', page)  # only references inside the page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["energy", "--tenant", "t2", "--entity", "hotel"], "tenant 't2' has no entity hotel"),
        (["diagnostic", "--tenant", "t2", "--usage", "hotel.gas"], "has no usage 'hotel.gas'"),
        (["energy", "--tenant", "t1", "--entity", "hotel", "--from", "2026-13"], "YYYY-MM"),
    ],
)
def test_expected_failures_are_one_line(database: str, args: list[str], message: str) -> None:
    code, output = _report(database, *args)
    assert code == 1
    assert output.strip().splitlines() == [f"Error: {output.strip().removeprefix('Error: ')}"]
    assert message in output and "Traceback" not in output
