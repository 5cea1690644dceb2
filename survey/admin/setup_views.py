"""Setting up a province from the web: organisation tree, service points, volumes, files,
questionnaires' paper templates, targets. Thin: validate, call one service, render or redirect.

Agencies, points and volumes: the managing roles, within their scope. Files of the whole
organisation, the official list and paper-response imports: province administrators.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from survey.admin import admin_blueprint as bp
from survey.admin.forms import ConfirmForm, SignOutForm, TargetForm
from survey.admin.setup_forms import (
    AgencyEditForm,
    AgencyForm,
    ClosePointForm,
    EndTargetForm,
    ProvinceForm,
    ResponsesUploadForm,
    RetireAgencyForm,
    ServicePointForm,
    TranslationUploadForm,
    UploadForm,
)
from survey.auth import current_scope, requires
from survey.extensions import csrf, get_session
from survey.i18n import current_language
from survey.services.access import visible_agency_ids
from survey.services.agencies import find_agency, service_points_of
from survey.services.errors import DomainError, InvalidInput, NotFound
from survey.services.importing import ImportRefused, ImportReport
from survey.services.local_time import today_in_vietnam
from survey.services.periods import parse_period, quarter_of
from survey.services.service_points import find_service_point
from survey.services.setup import drafts, paper, units
from survey.services.setup.official import province_choices, setup_province
from survey.services.setup.organisation import import_organisation
from survey.services.setup.questionnaires import questionnaire_by_reference, questionnaire_listing
from survey.services.setup.targets import edit_target, end_target, target_for_editing
from survey.services.setup.volumes import (
    enter_volumes,
    grid_entries,
    import_volumes,
    volume_coverage,
)
from survey.services.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE

UPLOAD_LIMIT = 60 * 1024 * 1024  # the importers refuse above 50 MB with a clear message
GRID_PARTS = 20_000  # cells of the volume grid in one form


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(template, language=current_language(), sign_out=SignOutForm(), **context),
        status,
    )


def _allow_uploads() -> None:
    """Set-up files are larger than the other forms' bodies (MAX_CONTENT_LENGTH): raise the
    limit of this request, then check its CSRF token (the routes are exempt from the global
    check, which would read the body under the smaller limit)."""
    request.max_content_length = UPLOAD_LIMIT
    _check_csrf()


def _check_csrf() -> None:
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def _report_page(title: str, report: ImportReport | None, refused: ImportRefused | None, back: str):
    status = 422 if refused is not None else 200
    return _page(
        "admin/setup/report.html",
        status,
        title=title,
        report=refused.report if refused is not None else report,
        refused=refused,
        back=back,
    )


def _flash_problems(error: DomainError) -> None:
    language = current_language()
    if isinstance(error, ImportRefused):
        for problem in error.report.problems:
            flash(problem.message(language))
    else:
        flash(error.message(language))


# --- hub and organisation file ---------------------------------------------------------------


@bp.get("/setup")
@requires("manage_service_points")
def setup_index() -> tuple[str, int]:
    province_form = ProvinceForm()
    province_form.province.choices = province_choices()
    return _page(
        "admin/setup/index.html",
        upload=UploadForm(),
        province_form=province_form,
        provinces=True,
    )


@bp.post("/setup/official-province")
@requires("province_admin")
def setup_official_province() -> tuple[str, int]:
    form = ProvinceForm()
    back = url_for(".setup_index")
    title = _("Communes and wards from the official list")
    if not form.validate_on_submit() or not form.province.data:
        return _report_page(
            title, None, ImportRefused.single("Chưa chọn tỉnh.", "No province was chosen."), back
        )
    try:
        report = setup_province(get_session(), form.province.data, actor=current_user)
    except ImportRefused as refused:
        return _report_page(title, None, refused, back)
    except InvalidInput as error:
        return _report_page(
            title, None, ImportRefused.single(error.message_vi, error.message_en), back
        )
    return _report_page(title, report, None, url_for(".setup_agencies"))


@bp.post("/setup/organisation")
@csrf.exempt  # the form checks its token after the larger body limit is set
@requires("province_admin")
def setup_organisation_upload() -> tuple[str, int]:
    _allow_uploads()
    form = UploadForm()
    back = url_for(".setup_index")
    if not form.validate_on_submit():
        return _report_page(_("Organisation file"), None, _no_file(), back)
    try:
        report = import_organisation(
            get_session(),
            form.file.data.stream,
            actor=current_user,
            filename=form.file.data.filename,
        )
    except ImportRefused as refused:
        return _report_page(_("Organisation file"), None, refused, back)
    return _report_page(_("Organisation file"), report, None, url_for(".setup_agencies"))


def _no_file() -> ImportRefused:
    return ImportRefused.single("Chưa chọn tệp.", "No file was chosen.")


# --- agencies --------------------------------------------------------------------------------


def _agency_form(form: AgencyForm, visible: frozenset[int] | None) -> AgencyForm:
    session = get_session()
    form.parent_code.choices = [
        ("", _("— none (top level) —")),
        *units.agency_choices(session, visible, active_only=True),
    ]
    return form


def _agency_cells(form: AgencyForm) -> dict[str, str]:
    return {
        "agency_code": form.code.data or "",
        "agency_name": form.name_vi.data or "",
        "agency_name_en": form.name_en.data or "",
        "parent_code": form.parent_code.data or "",
        "sector": form.sector.data or "",
        "level": form.level.data or "",
        "valid_from": form.valid_from.data.isoformat() if form.valid_from.data else "",
    }


@bp.route("/setup/agencies", methods=["GET", "POST"])
@requires("manage_service_points")
def setup_agencies() -> BaseResponse | tuple[str, int]:
    session = get_session()
    visible = visible_agency_ids(session, current_scope())
    form = _agency_form(AgencyForm(), visible)
    status = 200
    if form.validate_on_submit():
        try:
            agency = units.save_agency(
                session, current_user, current_scope(), _agency_cells(form), agency_id=None
            )
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
            status = 422
        else:
            flash(_("The agency was added."))
            return redirect(url_for(".setup_agency", agency_id=agency.id))
    elif request.method == "POST":
        status = 422
    return _page(
        "admin/setup/agencies.html", status, tree=units.agency_tree(session, visible), form=form
    )


@bp.route("/setup/agencies/<int:agency_id>", methods=["GET", "POST"])
@requires("manage_service_points", agency_arg="agency_id")
def setup_agency(agency_id: int) -> BaseResponse | tuple[str, int]:
    session = get_session()
    agency = find_agency(session, agency_id)
    visible = visible_agency_ids(session, current_scope())
    form = _agency_form(AgencyEditForm(data=_form_data(agency)), visible)
    status = 200
    if form.validate_on_submit():
        try:
            units.save_agency(
                session, current_user, current_scope(), _agency_cells(form), agency_id=agency_id
            )
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
            status = 422
        else:
            flash(_("The agency was saved."))
            return redirect(url_for(".setup_agency", agency_id=agency_id))
    elif request.method == "POST":
        status = 422
    retire = RetireAgencyForm()
    retire.successor_code.choices = [
        ("", _("— none —")),
        *units.agency_choices(session, None, active_only=True),
    ]
    return _page(
        "admin/setup/agency.html",
        status,
        agency=agency,
        form=form,
        retire=retire,
        points=service_points_of(session, agency_id),
        add_point=ServicePointForm(prefix="point"),
        close=ClosePointForm(),
        confirm=ConfirmForm(),
    )


def _form_data(agency: Any) -> dict[str, Any]:
    cells = units.agency_cells(agency)
    return {
        "code": cells["agency_code"],
        "name_vi": cells["agency_name"],
        "name_en": cells["agency_name_en"],
        "parent_code": cells["parent_code"],
        "sector": cells["sector"],
        "level": cells["level"],
        "valid_from": agency.valid_from,
    }


@bp.post("/setup/agencies/<int:agency_id>/retire")
@requires("manage_service_points", agency_arg="agency_id")
def setup_retire_agency(agency_id: int) -> BaseResponse:
    form = RetireAgencyForm()
    if form.validate_on_submit():
        try:
            units.save_agency(
                get_session(),
                current_user,
                current_scope(),
                {
                    "valid_to": form.valid_to.data.isoformat(),
                    "successor_code": form.successor_code.data or "",
                },
                agency_id=agency_id,
            )
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
        else:
            flash(_("The agency was retired; its answers stay in the reports."))
    else:
        flash(_("Give the first day without the agency."))
    return redirect(url_for(".setup_agency", agency_id=agency_id))


@bp.post("/setup/agencies/<int:agency_id>/points")
@requires("manage_service_points", agency_arg="agency_id")
def setup_add_point(agency_id: int) -> BaseResponse:
    form = ServicePointForm(prefix="point")  # beside the agency's own form on the same page
    if form.validate_on_submit():
        try:
            units.save_service_point(
                get_session(),
                current_user,
                current_scope(),
                agency_id=agency_id,
                code=form.code.data,
                name_vi=form.name_vi.data,
                name_en=form.name_en.data or "",
                adding=True,
            )
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
        else:
            flash(_("The service point was added; print its QR code below."))
    else:
        flash(_("A service point needs a code and a name."))
    return redirect(url_for(".setup_agency", agency_id=agency_id))


@bp.post("/setup/points/<code>")
@requires("manage_service_points", point_arg="code")
def setup_rename_point(code: str) -> BaseResponse:
    point = find_service_point(get_session(), code)
    form = ServicePointForm()
    if form.validate_on_submit():
        try:
            units.save_service_point(
                get_session(),
                current_user,
                current_scope(),
                agency_id=point.agency_id,
                code=point.code,
                name_vi=form.name_vi.data,
                name_en=form.name_en.data or "",
                adding=False,
            )
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
        else:
            flash(_("The service point was renamed."))
    return redirect(url_for(".setup_agency", agency_id=point.agency_id))


@bp.post("/setup/points/<code>/close")
@requires("manage_service_points", point_arg="code")
def setup_close_point(code: str) -> BaseResponse:
    point = find_service_point(get_session(), code)
    form = ClosePointForm()
    if form.validate_on_submit():
        try:
            units.close_service_point(
                get_session(), current_user, current_scope(), code, form.successor_code.data
            )
        except InvalidInput as error:
            _flash_problems(error)
        else:
            flash(_("The service point was closed; its answers stay in the reports."))
    return redirect(url_for(".setup_agency", agency_id=point.agency_id))


@bp.post("/setup/points/<code>/reopen")
@requires("manage_service_points", point_arg="code")
def setup_reopen_point(code: str) -> BaseResponse:
    point = find_service_point(get_session(), code)
    if ConfirmForm().validate_on_submit():
        units.reopen_service_point(get_session(), current_user, current_scope(), code)
        flash(_("The service point was reopened."))
    return redirect(url_for(".setup_agency", agency_id=point.agency_id))


# --- volumes ---------------------------------------------------------------------------------


def _default_period() -> str:
    return quarter_of(today_in_vietnam()).key


@bp.route("/setup/volumes", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token after the larger body limit is set
@requires("manage_service_points")
def setup_volumes() -> BaseResponse | tuple[str, int]:
    session = get_session()
    period = parse_period(request.args.get("period") or _default_period())
    visible = visible_agency_ids(session, current_scope())
    refused = None
    status = 200
    if request.method == "POST":
        request.max_form_parts = GRID_PARTS
        _check_csrf()
        if ConfirmForm().validate_on_submit():
            try:
                report = enter_volumes(
                    session,
                    grid_entries(request.form),
                    actor=current_user,
                    agency_ids=visible,
                )
            except ImportRefused as error:
                refused, status = error, 422
            else:
                flash(_("Volumes saved: %(summary)s", summary=report.summary(current_language())))
                return redirect(url_for(".setup_volumes", period=period.key))
        else:
            status = 400
    return _page(
        "admin/setup/volumes.html",
        status,
        period=period,
        coverage=volume_coverage(session, period.first, period.last, visible),
        refused=refused,
        confirm=ConfirmForm(),
        upload=UploadForm(),
    )


@bp.post("/setup/volumes/upload")
@csrf.exempt  # the form checks its token after the larger body limit is set
@requires("manage_service_points")
def setup_volumes_upload() -> tuple[str, int]:
    _allow_uploads()
    form = UploadForm()
    back = url_for(".setup_volumes")
    if not form.validate_on_submit():
        return _report_page(_("Service volumes"), None, _no_file(), back)
    session = get_session()
    try:
        report = import_volumes(
            session,
            form.file.data.stream,
            actor=current_user,
            filename=form.file.data.filename,
            agency_ids=visible_agency_ids(session, current_scope()),
        )
    except ImportRefused as refused:
        return _report_page(_("Service volumes"), None, refused, back)
    return _report_page(_("Service volumes"), report, None, back)


# --- questionnaires: paper templates and paper responses --------------------------------------


@bp.get("/setup/questionnaires")
@requires("province_admin")
def setup_questionnaires() -> tuple[str, int]:
    return _page(
        "admin/setup/questionnaires.html",
        questionnaires=questionnaire_listing(get_session()),
        upload=ResponsesUploadForm(),
        confirm=ConfirmForm(),
    )


@bp.get("/setup/questionnaires/<reference>/template.<fmt>")
@requires("province_admin")
def setup_response_template(reference: str, fmt: str) -> Response:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    if fmt not in ("csv", "xlsx"):
        raise NotFound()
    content = paper.response_template(session, questionnaire, fmt)
    name = f"responses-{questionnaire.code}-v{questionnaire.version}.{fmt}"
    return Response(
        content,
        mimetype=CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.post("/setup/questionnaires/<reference>/responses")
@csrf.exempt  # the form checks its token after the larger body limit is set
@requires("province_admin")
def setup_import_responses(reference: str) -> tuple[str, int]:
    _allow_uploads()
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    form = ResponsesUploadForm()
    back = url_for(".setup_questionnaires")
    title = _("Paper responses to %(reference)s", reference=reference)
    if not form.validate_on_submit():
        return _report_page(title, None, _no_file(), back)
    try:
        report = paper.import_responses(
            session,
            form.file.data.stream,
            questionnaire,
            channel=form.channel.data,
            actor=current_user,
            filename=form.file.data.filename,
        )
    except ImportRefused as refused:
        return _report_page(title, None, refused, back)
    except InvalidInput as error:
        return _report_page(
            title, None, ImportRefused.single(error.message_vi, error.message_en), back
        )
    return _report_page(title, report, None, back)


# --- targets: change and end -----------------------------------------------------------------


@bp.route("/setup/targets/<int:target_id>", methods=["GET", "POST"])
@requires("manage_targets")
def setup_target(target_id: int) -> BaseResponse | tuple[str, int]:
    session = get_session()
    target = target_for_editing(session, current_scope(), target_id)
    form = TargetForm(
        data={
            "sector": target.sector or "",
            "first": target.period_start,
            "last": target.period_end,
            "low": round(target.low * 100, 1),
            "high": round(target.high * 100, 1) if target.high is not None else None,
            "description": target.description,
            "source": target.source,
        }
    )
    status = 200
    if form.validate_on_submit():
        try:
            edit_target(
                session,
                current_user,
                current_scope(),
                target_id,
                sector=form.sector.data or None,
                first=form.first.data,
                last=form.last.data,
                low=float(form.low.data) / 100,
                high=float(form.high.data) / 100 if form.high.data is not None else None,
                description=form.description.data,
                source=form.source.data or "",
            )
        except InvalidInput as error:
            _flash_problems(error)
            status = 422
        else:
            flash(_("The target was saved."))
            return redirect(url_for(".targets"))
    elif request.method == "POST":
        status = 422
    return _page(
        "admin/setup/target.html",
        status,
        target=target,
        form=form,
        end=EndTargetForm(data={"last": min(today_in_vietnam(), target.period_end)}),
    )


@bp.post("/setup/targets/<int:target_id>/end")
@requires("manage_targets")
def setup_end_target(target_id: int) -> BaseResponse:
    form = EndTargetForm()
    if form.validate_on_submit():
        try:
            end_target(get_session(), current_user, current_scope(), target_id, form.last.data)
        except InvalidInput as error:
            _flash_problems(error)
            return redirect(url_for(".setup_target", target_id=target_id))
        flash(_("The target was ended."))
    return redirect(url_for(".targets"))


# --- questionnaires as data: drafts, preview, publishing, translations ------------------------


@bp.post("/setup/questionnaires/<reference>/draft")
@requires("province_admin")
def setup_new_draft(reference: str) -> BaseResponse:
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for(".setup_questionnaires"))
    draft = drafts.new_draft(session, current_user, questionnaire_by_reference(session, reference))
    flash(
        _(
            "Draft %(reference)s made; citizens will not see it until it is published.",
            reference=f"{draft.code}:{draft.version}",
        )
    )
    return redirect(url_for(".setup_edit_draft", reference=f"{draft.code}:{draft.version}"))


@bp.route("/setup/questionnaires/<reference>/edit", methods=["GET", "POST"])
@requires("province_admin")
def setup_edit_draft(reference: str) -> BaseResponse | tuple[str, int]:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    content = drafts.content_of(questionnaire)
    problems = None
    status = 200
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        content = drafts.content_from_form(request.form)
        try:
            drafts.save_draft(session, current_user, questionnaire.id, content)
        except ImportRefused as refused:
            problems, status = refused.report.problems, 422
        except InvalidInput as error:
            _flash_problems(error)
            status = 409
        else:
            flash(_("The draft was saved."))
            return redirect(url_for(".setup_edit_draft", reference=reference))
    elif request.method == "POST":
        status = 400
    return _page(
        "admin/setup/draft.html",
        status,
        questionnaire=questionnaire,
        reference=reference,
        content=content,
        problems=problems,
        confirm=ConfirmForm(),
    )


@bp.get("/setup/questionnaires/<reference>/preview")
@requires("province_admin")
def setup_preview(reference: str) -> tuple[str, int]:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    language = request.args.get("language") or current_language()
    return _page(
        "admin/setup/preview.html",
        questionnaire=questionnaire,
        reference=reference,
        kiosk=request.args.get("view") == "kiosk",
        texts=drafts.translated_texts(session, questionnaire.id, language),
        languages=drafts.languages_of(session, questionnaire.id),
        shown_language=language,
    )


@bp.post("/setup/questionnaires/<reference>/publish")
@requires("province_admin")
def setup_publish(reference: str) -> BaseResponse:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    if ConfirmForm().validate_on_submit():
        try:
            drafts.publish(session, current_user, questionnaire.id)
        except (ImportRefused, InvalidInput) as error:
            _flash_problems(error)
            return redirect(url_for(".setup_edit_draft", reference=reference))
        flash(_("%(reference)s is published: citizens now answer it.", reference=reference))
    return redirect(url_for(".setup_questionnaires"))


@bp.route("/setup/questionnaires/<reference>/translations", methods=["GET", "POST"])
@requires("province_admin")
def setup_translations(reference: str) -> BaseResponse | tuple[str, int]:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    language = (request.values.get("language") or "").strip()
    texts = drafts.translated_texts(session, questionnaire.id, language) if language else {}
    problems = None
    status = 200
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        texts = {
            key.removeprefix("text|"): value
            for key, value in request.form.items()
            if key.startswith("text|")
        }
        try:
            report = drafts.save_translation(session, current_user, questionnaire, language, texts)
        except ImportRefused as refused:
            problems, status = refused.report.problems, 422
        except InvalidInput as error:
            _flash_problems(error)
            status = 400
        else:
            flash(report.summary(current_language()))
            return redirect(url_for(".setup_translations", reference=reference, language=language))
    elif request.method == "POST":
        status = 400
    return _page(
        "admin/setup/translations.html",
        status,
        questionnaire=questionnaire,
        reference=reference,
        target=language,
        keys=drafts.translation_keys(questionnaire),
        texts=texts,
        languages=drafts.languages_of(session, questionnaire.id),
        problems=problems,
        confirm=ConfirmForm(),
        upload=TranslationUploadForm(),
    )


@bp.get("/setup/questionnaires/<reference>/translations/<language>.csv")
@requires("province_admin")
def setup_translation_template(reference: str, language: str) -> Response:
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    content = drafts.translation_template(session, questionnaire, language)
    name = f"translation-{questionnaire.code}-v{questionnaire.version}-{language}.csv"
    return Response(
        content,
        mimetype=CSV_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.post("/setup/questionnaires/<reference>/translations/upload")
@csrf.exempt  # the form checks its token after the larger body limit is set
@requires("province_admin")
def setup_translation_upload(reference: str) -> tuple[str, int]:
    _allow_uploads()
    session = get_session()
    questionnaire = questionnaire_by_reference(session, reference)
    form = TranslationUploadForm()
    back = url_for(".setup_translations", reference=reference)
    title = _("Translation of %(reference)s", reference=reference)
    if not form.validate_on_submit():
        return _report_page(title, None, _no_file(), back)
    try:
        report = drafts.import_translation(
            session,
            current_user,
            questionnaire,
            form.language.data or "",
            form.file.data.stream,
            filename=form.file.data.filename,
        )
    except ImportRefused as refused:
        return _report_page(title, None, refused, back)
    except InvalidInput as error:
        refusal = ImportRefused.single(error.message_vi, error.message_en)
        return _report_page(title, None, refusal, back)
    return _report_page(title, report, None, back)
