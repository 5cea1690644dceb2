"""Own account (password change), users with roles and scopes, and the audit log.

Users and the audit log are for province administrators only.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length

from survey.admin import admin_blueprint as bp
from survey.admin.forms import SignOutForm
from survey.extensions import get_session
from survey.i18n import current_language
from survey.services import accounts, audit
from survey.services.access import requires, start_session_clock
from survey.services.errors import InvalidInput
from survey.storage.models import ROLES

ROLE_NAMES = {
    "province_admin": _l("Province administrator"),
    "sector_admin": _l("Sector administrator"),
    "agency_manager": _l("Agency manager"),
    "viewer": _l("Viewer (read-only)"),
}
SECTOR_CHOICES = [
    SelectChoice("", _l("— none —")),
    SelectChoice("administrative", _l("Administrative services")),
    SelectChoice("health", _l("Public health")),
    SelectChoice("education", _l("Public education")),
]
PASSWORD_RULE = _l("At least 10 characters.")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[InputRequired(), Length(max=200)]
    )
    new_password = PasswordField(
        _l("New password"),
        description=PASSWORD_RULE,
        validators=[InputRequired(), Length(min=10, max=200)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
    )


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[InputRequired(), Length(max=80)])
    password = PasswordField(
        _l("First password"),
        description=PASSWORD_RULE,
        validators=[InputRequired(), Length(min=10, max=200)],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(role, ROLE_NAMES[role]) for role in ROLES],
        validators=[InputRequired()],
    )
    sector = SelectField(
        _l("Sector (sector administrators, sector viewers)"), choices=SECTOR_CHOICES
    )
    scope_agency_id = SelectField(
        _l("Agency and its sub-units (agency managers, viewers)"), choices=[]
    )


@bp.route("/account/password", methods=["GET", "POST"])
@requires("signed_in")
def change_password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(
                get_session(), current_user.id, form.current_password.data, form.new_password.data
            )
        except InvalidInput as error:
            form.form_errors.append(error.message(current_language()))
            status = 400
        else:
            start_session_clock()  # this session goes on; the user's other sessions end
            flash(_("Your password was changed."))
            return redirect(url_for(".change_password"))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "admin/account.html", form=form, language=current_language(), sign_out=SignOutForm()
        ),
        status,
    )


@bp.route("/users", methods=["GET", "POST"])
@requires("manage_users")
def users() -> Response | tuple[str, int]:
    db = get_session()
    form = UserForm()
    form.scope_agency_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(agency.id), f"{agency.code} — {agency.name_vi}")
        for agency in accounts.agencies_for_scopes(db)
    ]
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_user(
                db,
                form.username.data,
                form.password.data,
                form.role.data,
                sector=form.sector.data or None,
                scope_agency_id=int(form.scope_agency_id.data)
                if form.scope_agency_id.data
                else None,
                actor=current_user,
            )
        except InvalidInput as error:
            db.rollback()
            form.form_errors.append(error.message(current_language()))
            status = 400
        else:
            flash(_("The account was created."))
            return redirect(url_for(".users"))
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "admin/users.html",
            form=form,
            users=accounts.all_users(db),
            role_names=ROLE_NAMES,
            language=current_language(),
            sign_out=SignOutForm(),
        ),
        status,
    )


@bp.get("/audit")
@requires("view_audit")
def audit_log() -> str:
    page = request.args.get("page", "1")
    found = audit.page_of_events(
        get_session(),
        page=int(page) if page.isdigit() else 1,
        action=request.args.get("action", "")[:60] or None,
    )
    return render_template(
        "admin/audit.html", found=found, language=current_language(), sign_out=SignOutForm()
    )
