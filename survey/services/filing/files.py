"""Entry points: a report filed as PDF or Word, and the file an official downloads."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from survey.services.filing.details import FilingDetails, default_details
from survey.services.filing.document import build_document
from survey.services.filing.pdf import render_pdf
from survey.services.filing.print_charts import print_charts, print_charts_for
from survey.services.filing.topics import CommentTopics, comment_topics
from survey.services.filing.word import DOCX_MIMETYPE, render_docx
from survey.services.report_exports import ExportFile
from survey.services.reporting import ScopeReport

FORMATS = ("pdf", "docx")
PDF_MIMETYPE = "application/pdf"


def pdf_report(
    report: ScopeReport,
    language: str,
    details: FilingDetails | None = None,
    topics: CommentTopics | None = None,
    progress: Callable[[str], None] | None = None,
) -> bytes:
    """The report as a filed PDF. Without ``details``: the header and closing an office would
    write by default, without the organisation's names (use ``default_details`` for those).
    Without ``topics`` the comments section shows only the report's own comments (a public
    report, whose comments are removed, has no comments section at all)."""
    details = details or default_details(None, report, language)
    charts = print_charts_for(report, language)
    if progress:
        progress("charts")
    return render_pdf(build_document(report, details, language, charts, topics), progress)


def word_report(
    report: ScopeReport,
    language: str,
    details: FilingDetails | None = None,
    topics: CommentTopics | None = None,
) -> bytes:
    """The same report as an editable Word document (charts as PNG pictures)."""
    details = details or default_details(None, report, language)
    charts = print_charts(report, language, raster=True)
    return render_docx(build_document(report, details, language, charts, topics))


def file_name(report: ScopeReport, fmt: str) -> str:
    key = report.scope_key or "all"
    return f"bao-cao-hai-long-{report.scope_kind}-{key}-{report.period.key}.{fmt}"


def file_report(
    session: Session,
    report: ScopeReport,
    language: str,
    details: FilingDetails | None,
    fmt: str,
) -> ExportFile:
    """The filed report of ``report`` as PDF or DOCX, with the comments of its scope counted by
    topic (tagging the untagged ones first, within a budget). Without ``details``: the defaults
    from the province's organisation (``default_details``)."""
    details = details or default_details(session, report, language)
    topics = comment_topics(session, report)
    if fmt == "docx":
        body = word_report(report, language, details, topics)
        return ExportFile(body, DOCX_MIMETYPE, file_name(report, "docx"))
    body = pdf_report(report, language, details, topics)
    return ExportFile(body, PDF_MIMETYPE, file_name(report, "pdf"))
