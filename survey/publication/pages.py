"""The public report's page, served (``/cong-khai/<quarter>``) or written as one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup

from survey.services.publication.suppression import PublicReport
from survey.services.publication.texts import method_note, verdict_name, withheld_note
from survey.services.report_charts import ReportCharts

STYLESHEETS = ("css/public.css", "css/reports.css", "css/publication.css")


def embedded_styles() -> Markup:
    """The page's style sheets inside a ``<style>`` element, for a file that stands alone.

    (Served pages link the same files: the Content-Security-Policy allows no inline style.)
    """
    static = Path(current_app.static_folder or "static")
    css = "\n".join((static / name).read_text(encoding="utf-8") for name in STYLESHEETS)
    if "</" in css:  # our own files; a closing tag would end the element early
        raise ValueError("a style sheet holds '</', which cannot be embedded")
    return Markup(f"<style>\n{css}\n</style>")  # noqa: S704 — our own static files


def render_page(
    report: PublicReport,
    charts: ReportCharts,
    language: str,
    links: dict[str, Any],
    *,
    standalone: bool = False,
) -> str:
    """The public page of a report in ``language``. ``links``: ``pdf``, ``other_language`` and
    (served only) ``index``. ``standalone``: one self-contained file — styles inside, links
    relative to its folder — for ``flask publish-report``; otherwise the page served here."""
    with force_locale(language):
        return render_template(
            "publication/quarter.html",
            report=report,
            charts=charts,
            language=language,
            links=links,
            embedded_css=embedded_styles() if standalone else None,
            verdict_name=verdict_name,
            method_note=method_note(report, language),
            withheld_note=withheld_note(report, language),
        )
