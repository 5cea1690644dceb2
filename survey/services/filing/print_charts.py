"""The report's charts drawn for paper: no text smaller than 8 pt once printed on A4.

A chart is an SVG placed at the text width (165 mm), or narrower when it would be taller than a
page. Its text is printed at ``font-size × placed width / SVG width``; matplotlib sizes text in
points of the figure, and the figure (7.2 in) is wider than the text, so the web's 7–9 pt labels
would print at 5–7 pt. Each print chart is therefore drawn again with a larger base font
(``font.size``; the charts' smaller texts follow it) until its smallest text prints at 8 pt or
more. Long charts are split first: at most ``ROWS_PER_CHART`` agencies or questions each, so that
a chart of 75 agencies is three charts at a readable size rather than one shrunk onto a page.

The charts come from the dashboard's own code (``report_charts.build_charts``) given a report
that holds only the rows of one chart, so the printed charts draw what the page draws.
"""

from __future__ import annotations

import html
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import matplotlib.pyplot as plt

from survey.services.charts import DRAWING, raster_copies
from survey.services.filing.layout import (
    CHART_MAX_HEIGHT_MM,
    MIN_CHART_TEXT_PT,
    POINTS_PER_MM,
    TEXT_WIDTH_MM,
)
from survey.services.report_charts import ReportCharts, build_charts
from survey.services.reporting import REPORT_CACHE, IndexLine, ReportCache, ScopeReport

ROWS_PER_CHART = 25  # agencies or service points in one comparison chart
QUESTIONS_PER_CHART = 14  # questions in one distribution chart
PRINT_FONT_PT = 10.0  # the charts' base font for print; their smallest text is 2 pt less
PRINT_WIDTH_IN = TEXT_WIDTH_MM / 25.4  # start at the printed width; narrowed for the labels
MIN_WIDTH_IN = 2.8
MAX_TRIES = 6
Row = TypeVar("Row")


@dataclass(frozen=True, kw_only=True)
class PrintChart:
    """One chart of the printed report: its title (the SVG's), the SVG, and a PNG of the same
    figure for the Word document (when asked for)."""

    title: str
    svg: str
    png: bytes | None = None
    part: int = 1
    parts: int = 1


def svg_size_pt(svg: str) -> tuple[float, float]:
    """Width and height of the SVG's drawing in its own units (matplotlib: points)."""
    box = re.search(r'viewBox="\s*[-\d.]+\s+[-\d.]+\s+([\d.]+)\s+([\d.]+)\s*"', svg)
    if box:
        return float(box.group(1)), float(box.group(2))
    width = re.search(r'width="([\d.]+)(?:pt)?"', svg)
    height = re.search(r'height="([\d.]+)(?:pt)?"', svg)
    if not width or not height:
        raise ValueError("the SVG has no size")
    return float(width.group(1)), float(height.group(1))


def placement_mm(svg: str) -> tuple[float, float]:
    """Width and height (mm) the chart is printed at: the text width, or narrower so that it is
    at most ``CHART_MAX_HEIGHT_MM`` tall."""
    width, height = svg_size_pt(svg)
    aspect = height / width
    placed = TEXT_WIDTH_MM
    if placed * aspect > CHART_MAX_HEIGHT_MM:
        placed = CHART_MAX_HEIGHT_MM / aspect
    return placed, placed * aspect


def font_sizes(svg: str) -> list[float]:
    """Every font size in the SVG, in its own units (``font-size="9px"`` or ``font: 9px …``)."""
    sizes = re.findall(r'font-size[=:]\s*"?([\d.]+)(?:px|pt)?', svg)
    sizes += re.findall(r"font:\s*(?:[a-z]+\s+)*([\d.]+)px", svg)
    return [float(size) for size in sizes]


def smallest_printed_text_pt(svg: str, width_mm: float) -> float:
    """The size in points at which the chart's smallest text is printed when the chart is placed
    ``width_mm`` wide: font size × placed width / drawing width."""
    sizes = font_sizes(svg)
    if not sizes:
        return math.inf
    scale = width_mm * POINTS_PER_MM / svg_size_pt(svg)[0]
    return min(sizes) * scale


def _title(svg: str) -> str:
    found = re.search(r"<title>(.*?)</title>", svg, flags=re.S)
    return html.unescape(found.group(1)) if found else ""


def _draw(build: Callable[[], str | None], raster: bool) -> tuple[str, bytes | None] | None:
    """Draw one chart for print: base font ``PRINT_FONT_PT`` (its smallest text 2 pt less), on a
    figure narrowed until the drawing, labels included, is no wider than it is printed, so that
    no text shrinks below 8 pt; the font grows instead if the figure cannot narrow further."""
    width, size = PRINT_WIDTH_IN, PRINT_FONT_PT
    svg: str | None = None
    for _ in range(MAX_TRIES):
        with DRAWING, plt.rc_context({"font.size": size, "figure.figsize": (width, 4.8)}):
            svg = build()
        if svg is None:
            return None
        printed = smallest_printed_text_pt(svg, placement_mm(svg)[0])
        if printed >= MIN_CHART_TEXT_PT:
            break
        drawn_pt = svg_size_pt(svg)[0]
        wanted_pt = drawn_pt * printed / MIN_CHART_TEXT_PT  # the drawing's width to aim for
        narrower = width - (drawn_pt - wanted_pt) / 72 - 0.05
        if narrower >= MIN_WIDTH_IN:
            width = narrower
        else:
            width, size = MIN_WIDTH_IN, size * (MIN_CHART_TEXT_PT / printed) ** 2 + 0.25
    if svg is None or not raster:
        return (svg, None) if svg is not None else None
    with (
        DRAWING,
        plt.rc_context({"font.size": size, "figure.figsize": (width, 4.8)}),
        raster_copies() as rasters,
    ):
        drawn = build()
    if drawn is None:
        return None
    return drawn, rasters.get(drawn)


def _chunks(rows: Sequence[Row], most: int) -> list[list[Row]]:
    """Rows in balanced consecutive parts of at most ``most`` each."""
    if not rows:
        return []
    parts = math.ceil(len(rows) / most)
    size = math.ceil(len(rows) / parts)
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)]


def _shown(lines: list[IndexLine]) -> list[IndexLine]:
    return [
        line
        for line in lines
        if line.estimate.status == "ok" and line.estimate.estimate is not None
    ]


def _only(report: ScopeReport, **kept: object) -> ScopeReport:
    """The report with no rows but ``kept``: the dashboard's chart code then draws one chart."""
    empty: dict[str, object] = {
        "sectors": [],
        "agencies": [],
        "points": [],
        "quarters": [],
        "details": [],
    }
    return replace(report, **(empty | kept))  # type: ignore[arg-type]


def _charts(
    report: ScopeReport,
    language: str,
    raster: bool,
    pick: Callable[[ReportCharts], str | None],
    part: tuple[int, int] = (1, 1),
) -> PrintChart | None:
    drawn = _draw(lambda: pick(build_charts(report, language)), raster)
    if drawn is None:
        return None
    svg, png = drawn
    return PrintChart(title=_title(svg), svg=svg, png=png, part=part[0], parts=part[1])


def _distribution_of(sector: str) -> Callable[[ReportCharts], str | None]:
    return lambda charts: charts.distributions.get(sector)


def print_charts(report: ScopeReport, language: str, *, raster: bool = False) -> list[PrintChart]:
    """The report's charts for paper, in the order of the dashboard: sectors, agencies (or
    service points), the trend by quarter, then the answers of each sector's questionnaire.
    ``raster`` adds a PNG of each (for Word)."""
    found: list[PrintChart | None] = []
    if len(report.sectors) > 1:
        found.append(
            _charts(_only(report, sectors=report.sectors), language, raster, lambda c: c.sectors)
        )
    compared = "points" if report.scope_kind == "agency" else "agencies"
    chunks = _chunks(_shown(getattr(report, compared)), ROWS_PER_CHART)
    for number, chunk in enumerate(chunks, start=1):
        found.append(
            _charts(
                _only(report, **{compared: chunk}),
                language,
                raster,
                lambda c: c.comparison,
                (number, len(chunks)),
            )
        )
    if report.quarters:
        found.append(
            _charts(_only(report, quarters=report.quarters), language, raster, lambda c: c.trend)
        )
    for detail in report.details:
        parts = _chunks([d for d in detail.distributions if d.shares], QUESTIONS_PER_CHART)
        for number, questions in enumerate(parts, start=1):
            found.append(
                _charts(
                    _only(report, details=[replace(detail, distributions=questions)]),
                    language,
                    raster,
                    _distribution_of(detail.sector),
                    (number, len(parts)),
                )
            )
    return [chart for chart in found if chart is not None]


# Print charts per report version and language (the PDF's; Word's PNGs are drawn when asked),
# in the reports' shared store: the progress bar's "charts" step and the PDF that follows may be
# served by different workers or servers.
PRINT_CHART_CACHE: ReportCache = REPORT_CACHE
# One build at a time: a request that wants charts being drawn for another (the progress bar's
# "charts" step and the PDF that follows) waits for them instead of drawing them again.
_BUILDING = threading.Lock()


def print_charts_for(report: ScopeReport, language: str) -> list[PrintChart]:
    """The report's print charts (SVG only), drawn once per report version and language."""
    if not report.version:
        return print_charts(report, language)
    with _BUILDING:
        return PRINT_CHART_CACHE.get_or_build(
            ("print-charts", *report.version, language), lambda: print_charts(report, language)
        )
