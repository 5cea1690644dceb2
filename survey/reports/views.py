"""Report views: thin — read the period and scope, call the report service, render."""

from __future__ import annotations

import datetime as dt

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from survey.auth import current_scope, requires
from survey.extensions import get_report_session, get_session
from survey.i18n import current_language
from survey.reports import reports_blueprint as bp
from survey.reports.forms import FilingForm
from survey.services import filing, report_exports
from survey.services.access import report_allowed, visible_agency_ids
from survey.services.alerts import alerts_for_report
from survey.services.errors import InvalidInput, NotFound
from survey.services.filing.print_charts import print_charts_for
from survey.services.periods import Period, custom_period, ensure_supported, parse_period
from survey.services.report_charts import charts_for
from survey.services.report_exports import ExportFile
from survey.services.reporting import (
    LEVELS,
    ReportFilters,
    ScopeReport,
    build_report,
    default_period,
    filters_from_args,
    home_report,
    period_choices,
)
from survey.storage.models import CHANNELS

SCOPE_KINDS = ("province", "sector", "agency")
REPORT_CRUMBS = (
    ("province", "all"),
    ("sector", "administrative"),
    ("sector", "health"),
    ("sector", "education"),
)


def _period(kind: str, key: str) -> Period:
    first, last = request.args.get("from"), request.args.get("to")
    if first or last:
        try:
            days = dt.date.fromisoformat(first or ""), dt.date.fromisoformat(last or "")
        except ValueError:
            raise InvalidInput(
                "Ngày không hợp lệ; hãy chọn cả ngày bắt đầu và ngày kết thúc.",
                "Not a valid date; choose both a start and an end date.",
            ) from None
        return ensure_supported(custom_period(*days))
    if request.args.get("period"):
        return ensure_supported(parse_period(request.args["period"]))
    return _default_period(kind, key)


def _default_period(kind: str, key: str) -> Period:
    """The latest year with enough responses in the scope, as the reader may see it."""
    session = get_session()
    return default_period(
        session,
        kind,
        "" if kind == "province" else key,
        min_n=current_app.config["MIN_RESPONSES_FOR_INDEX"],
        visible=visible_agency_ids(session, current_scope()),
    )


def _report(kind: str, key: str, filters: ReportFilters | None = None) -> ScopeReport:
    """The report of a scope for the reader. Downloads (PDF, files) are of the whole scope:
    only the page takes the channel, level and sector filters."""
    if kind not in SCOPE_KINDS:
        raise NotFound()
    return build_report(
        get_report_session(),  # a streaming replica when REPORTS_DATABASE_URL is set
        _period(kind, key),
        kind,
        "" if kind == "province" else key,
        min_n=current_app.config["MIN_RESPONSES_FOR_INDEX"],
        visible=visible_agency_ids(get_session(), current_scope()),
        filters=filters,
    )


@bp.get("/")
@requires("view_reports")
def index() -> Response:
    """The report of the user's own scope: the province, their sector, or their agency."""
    kind, key = home_report(get_session(), current_scope(), current_user.id)
    period = _period(kind, key)  # the latest year with enough responses in the user's scope
    return redirect(url_for(".scope", kind=kind, key=key, period=period.key))  # type: ignore[return-value]


@bp.get("/<kind>/<key>")
@requires("view_reports", report_args=("kind", "key"))
def scope(kind: str, key: str) -> str:
    report = _report(kind, key, filters_from_args(request.args))
    language = current_language()
    # Too few responses for a figure: point to the latest year that has enough.
    suggested = None
    if report.headline.estimate.status == "insufficient_data":
        suggested = _default_period(kind, key)
        if suggested.key == report.period.key:
            suggested = None
    return render_template(
        "reports/scope.html",
        report=report,
        charts=charts_for(report, language),
        alerts=alerts_for_report(get_session(), report) if kind == "province" else None,
        periods=period_choices(get_session()),
        language=language,
        kind=kind,
        key=key,
        channels=CHANNELS,
        levels=LEVELS,
        suggested=suggested,
        crumbs=[
            (crumb_kind, crumb_key)
            for crumb_kind, crumb_key in REPORT_CRUMBS
            if report_allowed(get_session(), current_scope(), crumb_kind, crumb_key)
        ],
    )


@bp.get("/<kind>/<key>/report.pdf")
@requires("view_reports", report_args=("kind", "key"))
def pdf(kind: str, key: str) -> Response:
    """The filed report with the default header and closing (the page's PDF link)."""
    report = _report(kind, key)
    file = filing.file_report(get_session(), report, current_language(), None, "pdf")
    return _download(report, file, rows=report.responses, inline=True)


@bp.get("/<kind>/<key>/report.docx")
@requires("view_reports", report_args=("kind", "key"))
def docx(kind: str, key: str) -> Response:
    """The same report as a Word document, with the default header and closing."""
    report = _report(kind, key)
    file = filing.file_report(get_session(), report, current_language(), None, "docx")
    return _download(report, file, rows=report.responses)


@bp.route("/<kind>/<key>/file", methods=["GET", "POST"])
@requires("view_reports", report_args=("kind", "key"))
def file(kind: str, key: str) -> Response | tuple[str, int]:
    """Prepare the filed report: issuing body, number, place and date, signer and recipients
    (filled with the province's defaults), then download it as PDF or Word."""
    report = _report(kind, key)
    language = current_language()
    session = get_session()
    form = FilingForm(data=FilingForm.defaults(filing.default_details(session, report, language)))
    if form.validate_on_submit():
        fmt = form.fmt.data or "pdf"
        answer = filing.file_report(session, report, language, form.details(), fmt)
        return _download(report, answer, rows=report.responses)
    return render_template(
        "reports/file.html",
        form=form,
        report=report,
        language=language,
        kind=kind,
        key=key,
    ), (422 if request.method == "POST" else 200)


@bp.get("/<kind>/<key>/indices.<fmt>")
@requires("view_reports", report_args=("kind", "key"))
def indices(kind: str, key: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    report = _report(kind, key)
    language = current_language()
    table = report_exports.indices_table(report, language)
    name = f"chi-so-hai-long-{kind}-{key}-{report.period.key}"
    codebook = report_exports.indices_codebook(table, language)
    return _download(
        report, report_exports.export_file(table, name, fmt, sheet="indices", codebook=codebook)
    )


@bp.get("/<kind>/<key>/responses.<fmt>")
@requires("view_reports", report_args=("kind", "key"))
def responses(kind: str, key: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    report = _report(kind, key)  # only the agencies of the scope the reader may see
    table = report_exports.responses_in_scope(get_report_session(), report)
    name = f"phieu-tra-loi-{kind}-{key}-{report.period.key}"
    return _download(
        report,
        report_exports.export_file(
            table,
            name,
            fmt,
            sheet="responses",
            codebook=report_exports.codebook(get_report_session()),
        ),
        rows=len(table),
    )


def _download(
    report: ScopeReport, file: ExportFile, rows: int | None = None, inline: bool = False
) -> Response:
    """Log who took which file (the audit log), then hand it over as an attachment (or inline,
    for a PDF the browser shows)."""
    report_exports.record_export(get_session(), current_user, report, file.filename, rows)
    disposition = "inline" if inline else "attachment"
    return Response(
        file.body,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{file.filename}"'},
    )


@bp.get("/<kind>/<key>/prepare")
@requires("view_reports", report_args=("kind", "key"))
def prepare(kind: str, key: str) -> dict[str, object]:
    """One step of preparing a PDF (the page's progress bar calls them in turn): the report,
    then its charts drawn for print (cached for the PDF that follows)."""
    report = _report(kind, key)
    if request.args.get("step") == "charts":
        print_charts_for(report, current_language())
    return {"step": request.args.get("step", "report"), "responses": report.responses}
