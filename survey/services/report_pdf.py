"""Kept for callers written before ``survey.services.filing``: the printable report is now the
filed report (Decree 30/2020/NĐ-CP layout) made there. New code calls ``filing.pdf_report``."""

from __future__ import annotations

from survey.services.filing.files import pdf_report
from survey.services.filing.wording import method_note
from survey.services.report_charts import ReportCharts
from survey.services.reporting import ScopeReport

__all__ = ["method_note", "render_pdf"]


def render_pdf(
    report: ScopeReport, charts: ReportCharts, language: str, progress: list[str] | None = None
) -> bytes:
    """The report as a filed PDF with the default header and closing, without the
    organisation's names (no session here). ``charts`` is not used: the PDF draws its own
    charts for print from ``report`` (so a report with rows removed has charts without them)."""
    del charts
    return pdf_report(report, language, progress=progress.append if progress is not None else None)
