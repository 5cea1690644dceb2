"""The charts of a report, in one language, cached beside the report they draw."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from analysis.summaries import format_percent
from survey.services.charts import Interval, distribution_chart, forest_chart, trend_chart
from survey.services.reports import (
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


@dataclass(frozen=True)
class ReportCharts:
    comparison: str | None  # agencies (or service points) with intervals against the target
    sectors: str | None
    trend: str | None
    distributions: dict[str, str]  # by sector


def _interval(line: IndexLine, language: str) -> Interval:
    e = line.estimate
    show = e.status == "ok" and e.estimate is not None
    return Interval(
        textwrap.shorten(line.name(language), 46, placeholder="…"),
        e.estimate if show else None,
        e.ci_low if show else None,
        e.ci_high if show else None,
        line.verdict.verdict if line.verdict else None,
    )


def _target_label(target: AppliedTarget | None, language: str) -> str:
    if target is None:
        return ""
    low = format_percent(target.low, language, 0)
    if target.high is not None:
        band = f"{low}–{format_percent(target.high, language, 0)}"
        return f"Mục tiêu {band}" if language == "vi" else f"Target {band}"
    return f"Mục tiêu {low}" if language == "vi" else f"Target {low}"


def _common_target(lines: list[IndexLine]) -> AppliedTarget | None:
    targets = {line.target for line in lines if line.target is not None}
    return targets.pop() if len(targets) == 1 else None


def build_charts(report: ScopeReport, language: str) -> ReportCharts:
    vi = language == "vi"
    title = report.title(language)
    period = report.period.label(language)
    compared = report.points if report.scope_kind == "agency" else report.agencies
    comparison = None
    if compared:
        target = _common_target(compared)
        comparison = forest_chart(
            [_interval(line, language) for line in compared],
            target.low if target else None,
            target.high if target else None,
            (
                f"Tỷ lệ hài lòng và khoảng tin cậy 95% — {title}, {period}"
                if vi
                else f"Share satisfied with 95% intervals — {title}, {period}"
            ),
            (
                "Mỗi dòng là một đơn vị: điểm là ước lượng, vạch ngang là khoảng tin cậy 95%; "
                "đường đứt nét là mục tiêu. Số liệu ở bảng bên dưới."
                if vi
                else "Each row is one unit: the marker is the estimate, the bar its 95% "
                "interval; the dashed line is the target. The numbers are in the table below."
            ),
            _target_label(target, language),
        )
    sectors = None
    if len(report.sectors) > 1:
        sectors = forest_chart(
            [_interval(line, language) for line in report.sectors],
            None,
            None,
            "Tỷ lệ hài lòng theo lĩnh vực" if vi else "Share satisfied by sector",
            "Ước lượng và khoảng tin cậy 95% theo lĩnh vực."
            if vi
            else "Estimates and 95% intervals by sector.",
            "",
        )
    trend = None
    if report.quarters:
        target = report.headline.target
        trend = trend_chart(
            [_interval(line, language) for line in report.quarters],
            target.low if target else None,
            target.high if target else None,
            "Xu hướng theo quý" if vi else "Trend by quarter",
            "Tỷ lệ hài lòng mỗi quý với khoảng tin cậy 95%."
            if vi
            else "Share satisfied per quarter with 95% intervals.",
            _target_label(target, language),
        )
    distributions = {
        detail.sector: distribution_chart(
            [
                (textwrap.shorten(d.text(language), 46, placeholder="…"), d.shares)
                for d in detail.distributions
                if d.shares
            ],
            ANSWERS[language],
            "Phân bố câu trả lời" if vi else "Distribution of answers",
            "Tỷ lệ mỗi mức trả lời trên các câu trả lời hợp lệ, theo câu hỏi."
            if vi
            else "Share of each answer among valid answers, by question.",
        )
        for detail in report.details
        if any(d.shares for d in detail.distributions)
    }
    return ReportCharts(comparison, sectors, trend, distributions)


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
