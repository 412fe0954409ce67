"""A report is a page template and a list of components: rendered to HTML, then PDF.

The HTML is one self-contained file (styles inline, charts as inline SVG); WeasyPrint
turns it into an A4 PDF with page numbers.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reporting.components import ReportComponent
from reporting.locale import Formatter

__all__ = ["Report", "meta_lines", "render_component", "render_html", "render_pdf"]

_ENV = Environment(
    loader=PackageLoader("reporting"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _css_string(text: str) -> Markup:
    """`text` as a CSS string literal (page margin boxes), not HTML-escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3C ")
    return Markup(f'"{escaped}"')


_ENV.filters["css_string"] = _css_string


@dataclass(frozen=True)
class Report:
    title_key: str
    subject: str
    """What the report is about: the entities, the tenant, the usage."""
    meta: Sequence[tuple[str, str]]
    """(name, value) lines under the title: period, time zone, generation date..."""
    components: Sequence[ReportComponent]


def meta_lines(f: Formatter, span: str, zone: str, generated_at: datetime) -> list[tuple[str, str]]:
    """The lines under a report's title: its period, the zone of its times, its date."""
    return [
        (f.t("period"), span),
        (f.t("time_zone"), zone),
        (f.t("generated"), f.time(generated_at, zone)),
    ]


def render_component(component: ReportComponent, f: Formatter) -> Markup:
    template = _ENV.get_template(f"components/{component.template}")
    return Markup(template.render(f=f, **component.context(f)))


def render_html(
    report: Report, f: Formatter, advance: Callable[[int], None] = lambda _: None
) -> str:
    """The report's page; `advance(1)` after each component (a progress bar's)."""
    parts = []
    for component in report.components:
        parts.append(render_component(component, f))
        advance(1)
    page = _ENV.get_template("report.html")
    return page.render(
        f=f, title=f.t(report.title_key), subject=report.subject, meta=report.meta, parts=parts
    )


_INLINE_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def _svg_image(svg: re.Match[str]) -> str:
    data = base64.b64encode(svg.group(0).encode()).decode("ascii")
    return f'<img alt="" src="data:image/svg+xml;base64,{data}">'


def _charts_as_images(html: str) -> str:
    """The page with each inline SVG chart given as an image of the same SVG.

    WeasyPrint draws an inline SVG as an image all the same, but first cascades the
    page's CSS over each of its elements (hundreds per chart, a sixth of the energy
    report's PDF time); the image is drawn identically without that cascade."""
    return _INLINE_SVG.sub(_svg_image, html)


@functools.cache
def _fonts() -> Any:
    """Fontconfig's configuration and Pango's font map, loaded once per process.

    WeasyPrint makes a new one for each PDF unless given one: it reads the
    configuration again and reopens every font (0.1 s of the energy report's PDF)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(html: str) -> bytes:
    """An A4 PDF of a rendered page (WeasyPrint with Pango and the DejaVu fonts)."""
    # Its steps (its import's too) and its font subsetter's pruned tables are logged
    # at INFO.
    for chatty in ("weasyprint.progress", "fontTools"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from weasyprint import HTML  # loads Pango: only for the PDF

    pdf: bytes = HTML(string=_charts_as_images(html)).write_pdf(font_config=_fonts())
    return pdf
