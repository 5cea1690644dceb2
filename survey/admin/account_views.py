"""Sign-in and sign-out, own account (password change), users with roles and scopes, and the
audit log.

Users and the audit log are for province administrators only. A user's row on the users page
leads to its tools (``?manage=<id>``): disable or enable, lift sign-in delays, reset the password,
change the role and scope. Each is a POST form with its CSRF token naming the user in a hidden
field, calls one service of survey/services/accounts.py and is audited there.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug import Response
from wtforms.fields.choices import SelectChoice

from survey.admin import admin_blueprint as bp
from survey.admin.forms import (
    LARGEST_ID,
    ROLE_NAMES,
    PasswordChangeForm,
    PasswordResetForm,
    RoleForm,
    SignInForm,
    SignOutForm,
    UserActionForm,
    UserForm,
)
from survey.auth import (
    SignedInUser,
    public_route,
    requires,
    safe_redirect_target,
    start_session_clock,
)
from survey.extensions import discard_changes, get_session
from survey.i18n import current_language
from survey.services import accounts, audit
from survey.services.accounts import SignInBackOff, SignInDelayed
from survey.services.errors import InvalidInput, NotFound


@bp.route("/sign-in", methods=["GET", "POST"])
@public_route
def sign_in() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                get_session(),
                form.username.data,
                form.password.data,
                address=get_remote_address(),
                back_off=SignInBackOff.from_config(current_app.config),
            )
        except SignInDelayed as delayed:
            flash(delayed.message(current_language()))
            page = render_template("admin/sign_in.html", form=form, language=current_language())
            return page, 429, {"Retry-After": str(delayed.retry_after)}
        if user is not None:
            cookie.clear()
            login_user(SignedInUser(user))
            start_session_clock(user.session_epoch)
            if user.must_change_password:
                return redirect(url_for(".change_password"))
            return redirect(safe_redirect_target(request.args.get("next"), url_for(".dashboard")))
        flash(_("Wrong username or password."))
        status = 401
    elif request.method == "POST":
        if form.csrf_token.errors:
            flash(_("The page stayed open too long. Please sign in again."))
        else:
            flash(_("Please enter your username and password."))
        status = 400
    else:
        status = 200
    return render_template("admin/sign_in.html", form=form, language=current_language()), status


@bp.post("/sign-out")
@requires("signed_in")
def sign_out() -> Response:
    """Sign out here and everywhere else: copies of this session's cookie stop working too."""
    if SignOutForm().validate_on_submit():
        accounts.sign_out(get_session(), current_user.id)
        logout_user()
        cookie.clear()
    return redirect(url_for("public.index"))


def _agency_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(agency.id), f"{agency.code} — {agency.name_vi}")
        for agency in accounts.agencies_for_scopes(get_session())
    ]


@bp.route("/account/password", methods=["GET", "POST"])
@requires("signed_in")
def change_password() -> Response | tuple[str, int]:
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                get_session(), current_user.id, form.current_password.data, form.new_password.data
            )
        except InvalidInput as error:
            form.form_errors.append(error.message(current_language()))
            status = 400
        else:
            start_session_clock(user.session_epoch)  # this session goes on; the others end
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


def _users_page(
    status: int = 200,
    *,
    form: UserForm | None = None,
    managed_id: int | None = None,
    errors: list[str] | None = None,
    role_form: RoleForm | None = None,
    temporary_password: str | None = None,
) -> tuple[str, int]:
    """The users page: the list, the new-account form, and the tools for one account."""
    db = get_session()
    choices = _agency_choices()
    if form is None:
        form = UserForm(formdata=None)
    form.scope_agency_id.choices = choices
    managed = accounts.find_user(db, managed_id) if managed_id else None
    reset_form = PasswordResetForm(formdata=None) if managed is not None else None
    if managed is not None:
        if role_form is None:
            role_form = RoleForm(
                formdata=None,
                role=managed.role,
                sector=managed.sector or "",
                scope_agency_id=str(managed.scope_agency_id or ""),
            )
        role_form.scope_agency_id.choices = choices
    return (
        render_template(
            "admin/users.html",
            form=form,
            users=accounts.all_users(db),
            delayed=accounts.delayed_usernames(db, SignInBackOff.from_config(current_app.config)),
            managed=managed,
            action_errors=errors or [],
            role_form=role_form,
            reset_form=reset_form,
            temporary_password=temporary_password,
            role_names=ROLE_NAMES,
            language=current_language(),
            sign_out=SignOutForm(),
        ),
        status,
    )


@bp.route("/users", methods=["GET", "POST"])
@requires("manage_users")
def users() -> Response | tuple[str, int]:
    db = get_session()
    form = UserForm()
    form.scope_agency_id.choices = _agency_choices()
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
            discard_changes()
            form.form_errors.append(error.message(current_language()))
            return _users_page(400, form=form)
        flash(_("The account was created."))
        return redirect(url_for(".users"))
    if request.method == "POST":
        return _users_page(400, form=form)
    manage = request.args.get("manage", "")
    managed_id = int(manage) if manage.isdigit() and int(manage) <= LARGEST_ID else None
    return _users_page(managed_id=managed_id)


def _refused(form: FlaskForm, error: InvalidInput | NotFound | None = None) -> tuple[str, int]:
    """The users page again with why an account action was refused (400, or 404)."""
    discard_changes()
    messages = [error.message(current_language())] if error is not None else []
    for field_errors in form.errors.values():
        messages += [str(message) for message in field_errors]
    user_id = form.data.get("user_id") if not form.errors.get("user_id") else None
    status = 404 if isinstance(error, NotFound) else 400
    return _users_page(
        status,
        managed_id=user_id,
        errors=messages or [_("The request was not valid.")],
        role_form=form if isinstance(form, RoleForm) else None,
    )


def _done(user_id: int, message: str) -> Response:
    flash(message)
    return redirect(url_for(".users", manage=user_id))


@bp.post("/users/disable")
@requires("manage_users")
def disable_user() -> Response | tuple[str, int]:
    form = UserActionForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        accounts.set_active(get_session(), current_user, form.user_id.data, active=False)
    except (InvalidInput, NotFound) as error:
        return _refused(form, error)
    return _done(form.user_id.data, _("The account was disabled; its sessions have ended."))


@bp.post("/users/enable")
@requires("manage_users")
def enable_user() -> Response | tuple[str, int]:
    form = UserActionForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        accounts.set_active(get_session(), current_user, form.user_id.data, active=True)
    except (InvalidInput, NotFound) as error:
        return _refused(form, error)
    return _done(form.user_id.data, _("The account was enabled."))


@bp.post("/users/unlock")
@requires("manage_users")
def unlock_user() -> Response | tuple[str, int]:
    form = UserActionForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        accounts.lift_sign_in_delays(get_session(), current_user, form.user_id.data)
    except (InvalidInput, NotFound) as error:
        return _refused(form, error)
    return _done(form.user_id.data, _("Failed sign-ins were forgotten: no more waiting."))


@bp.post("/users/reset-password")
@requires("manage_users")
def reset_user_password() -> Response | tuple[str, int]:
    form = PasswordResetForm()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        password = accounts.reset_password(
            get_session(), current_user, form.user_id.data, form.new_password.data or None
        )
    except (InvalidInput, NotFound) as error:
        return _refused(form, error)
    if form.new_password.data:
        return _done(form.user_id.data, _("The password was reset; its sessions have ended."))
    return _users_page(managed_id=form.user_id.data, temporary_password=password)


@bp.post("/users/role")
@requires("manage_users")
def change_user_role() -> Response | tuple[str, int]:
    form = RoleForm()
    form.scope_agency_id.choices = _agency_choices()
    if not form.validate_on_submit():
        return _refused(form)
    try:
        accounts.change_role(
            get_session(),
            current_user,
            form.user_id.data,
            form.role.data,
            sector=form.sector.data or None,
            scope_agency_id=int(form.scope_agency_id.data) if form.scope_agency_id.data else None,
        )
    except (InvalidInput, NotFound) as error:
        return _refused(form, error)
    return _done(form.user_id.data, _("The role was changed; the user signs in again."))


@bp.get("/audit")
@requires("view_audit")
def audit_log() -> str:
    page = request.args.get("page", "1")
    found = audit.page_of_events(
        get_session(),
        page=int(page) if page.isdigit() and len(page) < 10 else 1,
        action=request.args.get("action", "")[:60] or None,
    )
    return render_template(
        "admin/audit.html", found=found, language=current_language(), sign_out=SignOutForm()
    )
