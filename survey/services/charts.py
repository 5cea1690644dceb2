"""Charts as accessible SVG (matplotlib; text kept as text, so screen readers and PDF search see
it): the same image in the page, the PDF and a printout.

Every chart has a <title> and <desc> and ``role="img"``; the page shows its numbers as a table too.
Colours come from the Okabe–Ito palette (safe for colour blindness) and every verdict also has its
own marker shape, so a greyscale printout still tells them apart.

Honest by construction: a target is drawn as a dashed line, a target band as a shaded band with
both edges dashed, each with an SVG id starting ``target`` (tests look for them); row and tick
labels must be distinct (``LabelClash`` otherwise) — callers shorten names without making two
alike (survey/services/report_charts.py).
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from survey.formatting import number

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "svg.hashsalt": "survey",
        "figure.figsize": (7.2, 4.8),  # the width of every chart (a printed report narrows it)
    }
)

BLUE, ORANGE, GREEN, GREY, VERMILION = "#0072B2", "#E69F00", "#009E73", "#555555", "#D55E00"
VERDICT_STYLE = {  # colour, marker
    "met": (GREEN, "^"),
    "above_band": (GREEN, "^"),
    "within_band": (BLUE, "D"),
    "not_met": (VERMILION, "v"),
    "below_band": (VERMILION, "v"),
    "undetermined": (GREY, "o"),
    None: (BLUE, "o"),
}
# Five answers, very unhappy → very happy: a diverging scale with distinct lightness in greyscale.
ANSWER_COLOURS = ("#b2182b", "#ef8a62", "#e0e0e0", "#67a9cf", "#2166ac")


# pyplot and its rcParams are process-wide: one chart is drawn at a time (a printed report draws
# with other rcParams inside this lock, survey/services/filing/print_charts.py).
DRAWING = threading.RLock()


def _serialised(draw: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(draw)
    def drawn(*args: object, **kwargs: object) -> str:
        with DRAWING:
            return draw(*args, **kwargs)

    return drawn


# Inside ``raster_copies()``: every chart drawn also keeps a PNG of itself, keyed by its SVG text.
_RASTERS: ContextVar[dict[str, bytes] | None] = ContextVar("chart_rasters", default=None)
RASTER_DPI = 200


@contextmanager
def raster_copies() -> Iterator[dict[str, bytes]]:
    """Charts drawn inside this block also leave a PNG of the same figure (for Word documents,
    which take no SVG) in the dict yielded, keyed by the chart's SVG text."""
    rasters: dict[str, bytes] = {}
    token = _RASTERS.set(rasters)
    try:
        yield rasters
    finally:
        _RASTERS.reset(token)


def _width() -> float:
    """The charts' width in inches (``figure.figsize``; a printed report draws them narrower)."""
    return float(plt.rcParams["figure.figsize"][0])


def _smaller(points: float) -> float:
    """A font size ``points`` below the base size (``font.size``; a printed report raises it)."""
    return float(plt.rcParams["font.size"]) - points


@dataclass(frozen=True)
class Interval:
    label: str
    estimate: float | None
    low: float | None
    high: float | None
    verdict: str | None = None
    target_low: float | None = None  # the row's own target, drawn when the chart has no common one
    target_high: float | None = None


class LabelClash(ValueError):
    """Two rows or ticks of one chart would carry the same label: a reader could not tell them
    apart, so the chart is refused rather than drawn."""


def require_distinct(labels: Sequence[str]) -> None:
    """Raise :class:`LabelClash` when two labels read the same (line breaks and spacing aside)."""
    seen: dict[str, str] = {}
    for label in labels:
        plain = " ".join(label.split())
        if plain in seen:
            raise LabelClash(f"two chart labels read the same: {plain!r}")
        seen[plain] = label


def _margins(fig: Figure, height: float, *, top: float = 0.15, bottom: float) -> None:
    """Margins in inches (not shares of the height), so tall charts give their rows the room."""
    fig.subplots_adjust(top=1 - top / height, bottom=min(bottom / height, 0.4))


def _lines(labels: Sequence[str]) -> int:
    """Extra text lines of wrapped labels (each needs room)."""
    return sum(label.count("\n") for label in labels)


def _presentation_attributes(match: re.Match[str]) -> str:
    declarations = (d.split(":", 1) for d in match.group(1).split(";") if ":" in d)
    return " ".join(
        f'{name.strip()}="{value.strip().strip(chr(39))}"' for name, value in declarations
    )


def _svg(fig: Figure, title: str, description: str) -> str:
    """The figure as inline SVG that a strict Content-Security-Policy (no inline styles) allows:
    style attributes become presentation attributes, the <style> element goes."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    rasters, png = _RASTERS.get(), io.BytesIO()
    if rasters is not None:
        fig.savefig(png, format="png", dpi=RASTER_DPI, bbox_inches="tight", metadata={})
    plt.close(fig)
    svg = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = re.sub(r'style="([^"]*)"', _presentation_attributes, svg)
    svg = svg[svg.index("<svg") :]
    accessible = (
        f'<svg role="img" aria-label="{escape(title)}" stroke-linejoin="round" '
        'stroke-linecap="butt" '
    )
    svg = svg.replace("<svg ", accessible, 1)
    head_end = svg.index(">") + 1
    svg = (
        svg[:head_end]
        + f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        + svg[head_end:]
    )
    if rasters is not None:
        rasters[svg] = png.getvalue()
    return svg


def _target_marks(
    ax: plt.Axes, low: float | None, high: float | None, label: str, vertical: bool
) -> None:
    """The target: a dashed line, or a shaded band with both edges dashed."""
    if low is None:
        return
    line = ax.axvline if vertical else ax.axhline
    dashed: dict[str, Any] = {"color": "black", "linestyle": (0, (4, 3)), "linewidth": 1.2}
    if high is not None:
        span = ax.axvspan if vertical else ax.axhspan
        band = span(100 * low, 100 * high, color=ORANGE, alpha=0.18, label=label)
        band.set_gid("target-band")
        line(100 * low, gid="target-low", **dashed)
        line(100 * high, gid="target-high", **dashed)
    else:
        line(100 * low, label=label, gid="target-line", **dashed)


def _row_targets(ax: plt.Axes, rows: Sequence[Interval], label: str) -> bool:
    """Each row's own target as a short dashed tick across the row (both edges for a band), when
    the rows have no target in common; True when any was drawn."""
    drawn = False
    for y, row in enumerate(rows):
        for edge, value in (("low", row.target_low), ("high", row.target_high)):
            if value is None:
                continue
            ax.plot(
                [100 * value, 100 * value],
                [y - 0.4, y + 0.4],
                color="black",
                linestyle=(0, (2, 1.5)),
                linewidth=1.2,
                gid=f"target-row-{y}-{edge}",
            )
            drawn = True
    if drawn:
        ax.add_line(
            Line2D([], [], color="black", linestyle=(0, (2, 1.5)), linewidth=1.2, label=label)
        )
    return drawn


@_serialised
def forest_chart(
    rows: Sequence[Interval],
    target_low: float | None,
    target_high: float | None,
    title: str,
    description: str,
    target_label: str,
) -> str:
    """Estimates with intervals, one row each, against the target line or band (0–100%); without
    a common target (``target_low`` None), each row's own target is marked on its row."""
    shown = [r for r in rows if r.estimate is not None]
    labels = [r.label for r in reversed(shown)]
    require_distinct(labels)
    height = 0.9 + 0.28 * max(len(shown), 1) + 0.2 * _lines(labels)
    fig, ax = plt.subplots(figsize=(_width(), height))
    _margins(fig, height, bottom=0.6)
    for y, row in enumerate(reversed(shown)):
        if row.estimate is None:  # not shown (narrows the type)
            continue
        colour, marker = VERDICT_STYLE.get(row.verdict, VERDICT_STYLE[None])
        if row.low is not None and row.high is not None:
            ax.plot([100 * row.low, 100 * row.high], [y, y], color=colour, linewidth=2)
        ax.plot(
            100 * row.estimate,
            y,
            marker=marker,
            color=colour,
            markersize=6,
            markeredgecolor="black",
            markeredgewidth=0.5,
        )
    ax.set_yticks(range(len(shown)), labels)
    ax.set_ylim(-0.6, max(len(shown), 1) - 0.4)
    _target_marks(ax, target_low, target_high, target_label, vertical=True)
    per_row = target_low is None and _row_targets(ax, list(reversed(shown)), target_label)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if (target_low is not None or per_row) and target_label:
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1), frameon=False, fontsize=_smaller(1))
    return _svg(fig, title, description)


@_serialised
def trend_chart(
    rows: Sequence[Interval],
    target_low: float | None,
    target_high: float | None,
    title: str,
    description: str,
    target_label: str,
    earlier: Sequence[Interval | None] = (),
    series_labels: tuple[str, str] = ("", ""),
) -> str:
    """The index per period with its interval, against the target; with ``earlier`` (one per
    row, None where missing) the same periods a year before, hollow and grey beside each, and a
    legend naming the two series (``series_labels``: this period's, the year before's)."""
    labels = [r.label for r in rows]
    require_distinct(labels)
    fig, ax = plt.subplots(figsize=(_width(), 2.8))
    xs = range(len(rows))
    shift = 0.12 if any(e is not None for e in earlier) else 0.0
    for x, row in zip(xs, rows, strict=True):
        if row.estimate is None:
            continue
        colour, marker = VERDICT_STYLE.get(row.verdict, VERDICT_STYLE[None])
        if row.low is not None and row.high is not None:
            ax.plot([x + shift] * 2, [100 * row.low, 100 * row.high], color=colour, linewidth=2)
        ax.plot(
            x + shift,
            100 * row.estimate,
            marker=marker,
            color=colour,
            markersize=7,
            markeredgecolor="black",
            markeredgewidth=0.5,
        )
    points = [
        (x + shift, 100 * r.estimate)
        for x, r in zip(xs, rows, strict=True)
        if r.estimate is not None
    ]
    if len(points) > 1:
        ax.plot(*zip(*points, strict=True), color=BLUE, linewidth=1, alpha=0.6)
    before = [(x, e) for x, e in zip(xs, earlier, strict=False) if e and e.estimate is not None]
    for x, row in before:
        if row.low is not None and row.high is not None:
            ax.plot([x - shift] * 2, [100 * row.low, 100 * row.high], color=GREY, linewidth=1.5)
        ax.plot(
            x - shift,
            100 * (row.estimate or 0.0),
            marker="o",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor=GREY,
            color=GREY,
            gid=f"year-before-{x}",
        )
    if before and all(series_labels):
        ax.add_line(Line2D([], [], color=BLUE, marker="o", label=series_labels[0]))
        ax.add_line(
            Line2D(
                [],
                [],
                color=GREY,
                marker="o",
                markerfacecolor="white",
                label=series_labels[1],
            )
        )
    _target_marks(ax, target_low, target_high, target_label, vertical=False)
    ax.set_xticks(list(xs), labels)
    ax.set_xlim(-0.5, max(len(rows), 1) - 0.5)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if (target_low is not None and target_label) or (before and all(series_labels)):
        ax.legend(
            loc="lower right", bbox_to_anchor=(1, 1), ncol=3, frameon=False, fontsize=_smaller(1)
        )
    return _svg(fig, title, description)


@_serialised
def distribution_chart(
    rows: Sequence[tuple[str, dict[int, float]]],
    answer_labels: Sequence[str],
    title: str,
    description: str,
    language: str = "vi",
) -> str:
    """Stacked bars of the five answers per item (shares of valid answers)."""
    require_distinct([label for label, _ in rows])
    height = 0.9 + 0.34 * max(len(rows), 1) + 0.2 * _lines([label for label, _ in rows])
    fig, ax = plt.subplots(figsize=(_width(), height))
    _margins(fig, height, bottom=0.6)
    for y, (_label, shares) in enumerate(reversed(rows)):
        left = 0.0
        for value, colour in zip(range(1, 6), ANSWER_COLOURS, strict=True):
            width = 100 * shares.get(value, 0.0)
            ax.barh(
                y,
                width,
                left=left,
                color=colour,
                edgecolor="white",
                linewidth=0.5,
                label=answer_labels[value - 1] if y == 0 else None,
            )
            if width >= 7:
                ax.text(
                    left + width / 2,
                    y,
                    number(width, language),
                    ha="center",
                    va="center",
                    fontsize=_smaller(2),
                    color="white" if value in (1, 5) else "black",
                )
            left += width
    ax.set_yticks(range(len(rows)), [label for label, _ in reversed(rows)])
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.spines[["top", "right"]].set_visible(False)
    if rows:
        ax.legend(
            loc="upper center",
            # Just below the axis title: 0.45 inch under the axes, whatever their height.
            bbox_to_anchor=(0.5, -0.45 / (height - 0.75)),
            ncol=5 if _width() >= 6 else 3,  # a narrow (printed) chart: two rows
            frameon=False,
            fontsize=_smaller(2),
        )
    return _svg(fig, title, description)
