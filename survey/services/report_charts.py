"""The charts of a report, in one language, cached beside the report they draw.

Labels stay honest: a retired unit says so ("(đã giải thể)" / "(retired)"); a long name is wrapped
onto two lines and, only beyond that, cut in the middle so that its start (the agency) and its end
(the service point) both stay; names that would still read alike are given in full, and the
charts refuse two identical labels (``charts.LabelClash``). A caption mentions a target only
when the chart draws one.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from survey.formatting import percent
from survey.services.charts import (
    Interval,
    distribution_chart,
    forest_chart,
    require_distinct,
    trend_chart,
)
from survey.services.reporting import (
    REPORT_CACHE,
    AppliedTarget,
    IndexLine,
    ReportCache,
    ScopeReport,
)

ANSWERS = {
    "vi": ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"),
    "en": ("Very unhappy", "Unhappy", "Neutral", "Happy", "Very happy"),
}
RETIRED = {"vi": "đã giải thể", "en": "retired"}
LABEL_WIDTH = 46  # characters per line of a row label


@dataclass(frozen=True)
class ReportCharts:
    comparison: str | None  # agencies (or service points) with intervals against the target
    sectors: str | None
    trend: str | None
    distributions: dict[str, str]  # by sector


def _wrapped(text: str, width: int, lines: int | None) -> str:
    """``text`` on lines of at most ``width`` characters; beyond ``lines`` lines the middle is
    cut ("…"), keeping the first line and the end of the text. "Agency — point" breaks after
    the dash when both parts fit on a line."""
    head, dash, rest = text.partition(" — ")
    if dash and len(text) > width and len(head) + 2 <= width and len(rest) <= width:
        return f"{head} —\n{rest}"
    wrapped = textwrap.wrap(text, width) or [text]
    if lines is None or len(wrapped) <= lines:
        return "\n".join(wrapped)
    tail = text[-(width - 1) :]
    if " " in tail:
        tail = tail.split(" ", 1)[1]
    return "\n".join([*wrapped[: lines - 1], "…" + tail])


def chart_labels(names: Sequence[str], width: int = LABEL_WIDTH) -> list[str]:
    """Row labels for ``names``: each wrapped onto at most two lines (cut in the middle beyond);
    names that would then read alike are wrapped in full instead; names alike in full (two units
    of the same name) are numbered. The result never holds two identical labels."""
    labels = [_wrapped(name, width, 2) for name in names]
    shortened = Counter(_plain(label) for label in labels)
    labels = [
        _wrapped(name, width, None) if shortened[_plain(label)] > 1 else label
        for name, label in zip(names, labels, strict=True)
    ]
    alike = Counter(_plain(label) for label in labels)
    seen: Counter[str] = Counter()
    out = []
    for label in labels:
        if alike[_plain(label)] > 1:
            seen[_plain(label)] += 1
            label = f"{label} ({seen[_plain(label)]})"
        out.append(label)
    require_distinct(out)
    return out


def _plain(label: str) -> str:
    return " ".join(label.split())


def unit_name(line: IndexLine, language: str, drop_prefix: str = "", point: bool = False) -> str:
    """A unit's name as charts show it: without ``drop_prefix`` (the page's own agency, for its
    service points), and marked when the unit is retired — a service point ("agency — point")
    after its agency's name, the agency being what was retired."""
    name = line.name(language)
    if drop_prefix and name.startswith(drop_prefix) and len(name) > len(drop_prefix):
        name = name[len(drop_prefix) :]
    if not line.retired:
        return name
    mark = f"({RETIRED[language]})"
    head, dash, rest = name.partition(" — ")
    return f"{head} {mark} — {rest}" if point and dash else f"{name} {mark}"


def _intervals(lines: Sequence[IndexLine], labels: Sequence[str]) -> list[Interval]:
    out = []
    for line, label in zip(lines, labels, strict=True):
        e = line.estimate
        show = e.status == "ok" and e.estimate is not None
        target = line.target
        out.append(
            Interval(
                label,
                e.estimate if show else None,
                e.ci_low if show else None,
                e.ci_high if show else None,
                line.verdict.verdict if line.verdict else None,
                target.low if target else None,
                target.high if target else None,
            )
        )
    return out


def _target_label(target: AppliedTarget | None, language: str) -> str:
    if target is None:
        return ""
    low = percent(target.low, language, 0)
    if target.high is not None:
        band = f"{low}–{percent(target.high, language, 0)}"
        return f"Mục tiêu {band}" if language == "vi" else f"Target {band}"
    return f"Mục tiêu {low}" if language == "vi" else f"Target {low}"


def _target_sentence(target: AppliedTarget | None, per_row: bool, language: str) -> str:
    """What the chart draws for the target, for its caption ("" when it draws none)."""
    vi = language == "vi"
    if target is not None and target.high is not None:
        return (
            " Dải tô màu giữa hai đường đứt nét là khoảng mục tiêu."
            if vi
            else " The shaded band between the two dashed lines is the target band."
        )
    if target is not None:
        return " Đường đứt nét là mục tiêu." if vi else " The dashed line is the target."
    if per_row:
        return (
            " Vạch đứt nét ngắn trên mỗi dòng là mục tiêu của dòng đó."
            if vi
            else " The short dashed mark on each row is that row's target."
        )
    return ""


def _common_target(lines: Sequence[IndexLine]) -> AppliedTarget | None:
    """The target every row has (the same bar, whatever its source), else None."""
    targets = [line.target for line in lines]
    if not targets or any(t is None for t in targets):
        return None
    bars = {(t.low, t.high) for t in targets if t is not None}
    return targets[0] if len(bars) == 1 else None


def _comparison(report: ScopeReport, language: str) -> str | None:
    vi = language == "vi"
    compared = report.points if report.scope_kind == "agency" else report.agencies
    shown = [line for line in compared if line.estimate.estimate is not None]
    if not shown:
        return None
    prefix = f"{report.title(language)} — " if report.scope_kind == "agency" else ""
    point = report.scope_kind == "agency"
    labels = chart_labels([unit_name(line, language, prefix, point) for line in shown])
    target = _common_target(shown)
    # All rows with a target in common: a line across; otherwise each row's own target.
    per_row = target is None and any(line.target for line in shown)
    title, period = report.title(language), report.period.label(language)
    return forest_chart(
        _intervals(shown, labels),
        target.low if target else None,
        target.high if target else None,
        (
            f"Tỷ lệ hài lòng và khoảng tin cậy 95% — {title}, {period}"
            if vi
            else f"Share satisfied with 95% intervals — {title}, {period}"
        ),
        (
            "Mỗi dòng là một đơn vị: điểm là ước lượng, vạch ngang là khoảng tin cậy 95%."
            if vi
            else "Each row is one unit: the marker is the estimate, the bar its 95% interval."
        )
        + _target_sentence(target, per_row, language)
        + (" Số liệu ở bảng bên dưới." if vi else " The numbers are in the table below."),
        _target_label(target, language) or ("Mục tiêu" if vi else "Target"),
    )


def _sectors(report: ScopeReport, language: str) -> str | None:
    if len(report.sectors) <= 1:
        return None
    vi = language == "vi"
    labels = chart_labels([line.name(language) for line in report.sectors])
    target = _common_target(report.sectors)
    per_row = target is None and any(line.target for line in report.sectors)
    return forest_chart(
        _intervals(report.sectors, labels),
        target.low if target else None,
        target.high if target else None,
        "Tỷ lệ hài lòng theo lĩnh vực" if vi else "Share satisfied by sector",
        (
            "Ước lượng và khoảng tin cậy 95% theo lĩnh vực."
            if vi
            else "Estimates and 95% intervals by sector."
        )
        + _target_sentence(target, per_row, language),
        _target_label(target, language) or ("Mục tiêu" if vi else "Target"),
    )


def _trend(report: ScopeReport, language: str) -> str | None:
    if not report.quarters:
        return None
    vi = language == "vi"
    target = report.headline.target
    quarters = report.quarters
    labels = [line.name(language) for line in quarters]
    by_key = {trend.line.key: trend.year_ago for trend in report.quarter_trend}
    earlier = [by_key.get(line.key) for line in quarters]
    before = [
        None if line is None else _intervals([line], [line.name(language)])[0] for line in earlier
    ]
    has_before = any(b is not None and b.estimate is not None for b in before)
    description = (
        "Tỷ lệ hài lòng mỗi quý với khoảng tin cậy 95%."
        if vi
        else "Share satisfied per quarter with 95% intervals."
    ) + _target_sentence(target, False, language)
    if has_before:
        description += (
            " Điểm rỗng màu xám bên trái mỗi quý là cùng quý năm trước."
            if vi
            else " The hollow grey marker left of each quarter is the same quarter a year before."
        )
    return trend_chart(
        _intervals(quarters, labels),
        target.low if target else None,
        target.high if target else None,
        "Xu hướng theo quý" if vi else "Trend by quarter",
        description,
        _target_label(target, language),
        before,
        ("Kỳ này", "Cùng quý năm trước") if vi else ("This period", "Same quarter a year before"),
    )


def build_charts(report: ScopeReport, language: str) -> ReportCharts:
    vi = language == "vi"
    distributions = {}
    for detail in report.details:
        shown = [d for d in detail.distributions if d.shares]
        if not shown:
            continue
        labels = chart_labels([d.text(language) for d in shown])
        distributions[detail.sector] = distribution_chart(
            [(label, d.shares) for label, d in zip(labels, shown, strict=True)],
            ANSWERS[language],
            "Phân bố câu trả lời" if vi else "Distribution of answers",
            "Tỷ lệ mỗi mức trả lời trên các câu trả lời hợp lệ, theo câu hỏi."
            if vi
            else "Share of each answer among valid answers, by question.",
            language,
        )
    return ReportCharts(
        _comparison(report, language),
        _sectors(report, language),
        _trend(report, language),
        distributions,
    )


# Charts per report version and language live in the reports' store (one cache; this name is
# kept for callers that clear it).
CHART_CACHE: ReportCache = REPORT_CACHE


def charts_for(
    report: ScopeReport, language: str, *, cache: ReportCache | None = REPORT_CACHE
) -> ReportCharts:
    """The report's charts, drawn once per report version and language and shared by every
    worker that uses the same store (the PDF's progress steps draw them, the PDF reads them)."""
    if not report.version or cache is None:
        return build_charts(report, language)
    return cache.get_or_build(
        ("report-charts", *report.version, language), lambda: build_charts(report, language)
    )
