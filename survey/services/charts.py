"""Charts as accessible SVG (matplotlib; text kept as text, so screen readers and PDF search see
it): the same image in the page, the PDF and a printout.

Every chart has a <title> and <desc> and ``role="img"``; the page shows its numbers as a table too.
Colours come from the Okabe–Ito palette (safe for colour blindness) and every verdict also has its
own marker shape, so a greyscale printout still tells them apart.
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

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

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
    if low is None:
        return
    if high is not None:
        span = ax.axvspan if vertical else ax.axhspan
        span(100 * low, 100 * high, color=ORANGE, alpha=0.18, label=label)
    else:
        line = ax.axvline if vertical else ax.axhline
        line(100 * low, color="black", linestyle=(0, (4, 3)), linewidth=1.2, label=label)


@_serialised
def forest_chart(
    rows: Sequence[Interval],
    target_low: float | None,
    target_high: float | None,
    title: str,
    description: str,
    target_label: str,
) -> str:
    """Estimates with intervals, one row each, against the target line or band (0–100%)."""
    shown = [r for r in rows if r.estimate is not None]
    height = 0.9 + 0.28 * max(len(shown), 1)
    fig, ax = plt.subplots(figsize=(_width(), height))
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
    ax.set_yticks(range(len(shown)), [r.label for r in reversed(shown)])
    _target_marks(ax, target_low, target_high, target_label, vertical=True)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if target_low is not None and target_label:
        ax.legend(loc="lower left", frameon=False, fontsize=_smaller(1))
    return _svg(fig, title, description)


@_serialised
def trend_chart(
    rows: Sequence[Interval],
    target_low: float | None,
    target_high: float | None,
    title: str,
    description: str,
    target_label: str,
) -> str:
    """The index per period with its interval, against the target."""
    fig, ax = plt.subplots(figsize=(_width(), 2.8))
    xs = range(len(rows))
    for x, row in zip(xs, rows, strict=True):
        if row.estimate is None:
            continue
        colour, marker = VERDICT_STYLE.get(row.verdict, VERDICT_STYLE[None])
        if row.low is not None and row.high is not None:
            ax.plot([x, x], [100 * row.low, 100 * row.high], color=colour, linewidth=2)
        ax.plot(
            x,
            100 * row.estimate,
            marker=marker,
            color=colour,
            markersize=7,
            markeredgecolor="black",
            markeredgewidth=0.5,
        )
    points = [
        (x, 100 * r.estimate) for x, r in zip(xs, rows, strict=True) if r.estimate is not None
    ]
    if len(points) > 1:
        ax.plot(*zip(*points, strict=True), color=BLUE, linewidth=1, alpha=0.6)
    _target_marks(ax, target_low, target_high, target_label, vertical=False)
    ax.set_xticks(list(xs), [r.label for r in rows])
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    if target_low is not None and target_label:
        ax.legend(loc="lower right", frameon=False, fontsize=_smaller(1))
    return _svg(fig, title, description)


@_serialised
def distribution_chart(
    rows: Sequence[tuple[str, dict[int, float]]],
    answer_labels: Sequence[str],
    title: str,
    description: str,
) -> str:
    """Stacked bars of the five answers per item (shares of valid answers)."""
    height = 0.9 + 0.34 * max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(_width(), height))
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
                    f"{width:.0f}",
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
            bbox_to_anchor=(0.5, -0.25 - 0.5 / height),
            ncol=5 if _width() >= 6 else 3,  # a narrow (printed) chart: two rows
            frameon=False,
            fontsize=_smaller(2),
        )
    return _svg(fig, title, description)
