"""Public report views: thin — check the quarter, call the publication service, render.

Pages are Vietnamese unless the address asks for ``?lang=en``: the language comes from the address
alone (not the language cookie), so one address is always one page and a proxy may keep it
(``Cache-Control: public``). The ETag carries the data's fingerprint: a response excluded after
review, or a late import, changes it, and the next revalidation gets the new page.
"""

from __future__ import annotations

from flask import Response, current_app, make_response, render_template, request, url_for
from flask_babel import force_locale

from survey.auth import public_route
from survey.extensions import get_session
from survey.publication import publication_blueprint as bp
from survey.publication.pages import render_page
from survey.services.errors import NotFound
from survey.services.local_time import today_in_vietnam
from survey.services.publication import quarterly
from survey.services.publication.quarterly import PublicationSettings
from survey.services.publication.quarters import (
    ended_quarter,
    published_quarters,
)

INDEX_MAX_AGE = 600  # a new quarter appears on the list within ten minutes of its end


class PublicReportsDisabled(NotFound):
    message_vi = "Tỉnh chưa công bố báo cáo công khai trên trang này."
    message_en = "The province does not publish its public report on this site."


def _settings() -> PublicationSettings:
    settings = PublicationSettings.from_config(current_app.config)
    if not settings.enabled:
        raise PublicReportsDisabled()
    return settings


def _language() -> str:
    return "en" if request.args.get("lang") == "en" else "vi"


def _cacheable(response: Response, max_age: int, tag: str | None = None) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if tag is not None:
        response.set_etag(tag)
        response.make_conditional(request)
    return response


@bp.get("/cong-khai/")
@public_route
def index() -> Response:
    """The published quarters, newest first."""
    _settings()
    language = _language()
    quarters = published_quarters(get_session(), today_in_vietnam())
    with force_locale(language):
        page = render_template(
            "publication/index.html",
            quarters=quarters,
            language=language,
            links={"other_language": url_for(".index", lang="vi" if language == "en" else "en")},
        )
    return _cacheable(make_response(page), INDEX_MAX_AGE)


@bp.get("/cong-khai/<period>")
@public_route
def quarter(period: str) -> Response:
    """One ended quarter's public report."""
    settings = _settings()
    language = _language()
    report = quarterly.public_quarter(
        get_session(), ended_quarter(period, today_in_vietnam()), settings
    )
    links = {
        "pdf": url_for(".pdf", period=report.period_key, lang=language),
        "other_language": url_for(
            ".quarter", period=report.period_key, lang="vi" if language == "en" else "en"
        ),
        "index": url_for(".index", lang=language),
    }
    page = render_page(report, quarterly.public_charts(report, language), language, links)
    return _cacheable(
        make_response(page), quarterly.MAX_AGE, quarterly.etag(report, language, "page")
    )


@bp.get("/cong-khai/<period>.pdf")
@public_route
def pdf(period: str) -> Response:
    """The same report as a PDF (the page's language)."""
    settings = _settings()
    language = _language()
    report = quarterly.public_quarter(
        get_session(), ended_quarter(period, today_in_vietnam()), settings
    )
    name = quarterly.file_names(report.period_key, language)[1]
    response = Response(
        quarterly.public_pdf(report, language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
    return _cacheable(response, quarterly.MAX_AGE, quarterly.etag(report, language, "pdf"))
