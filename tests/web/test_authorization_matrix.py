"""Every route × every role (and anonymous): allowed or forbidden, generated from ``app.url_map``.

A route without a declared policy (``@requires(...)`` or ``@public_route``) fails this test, and so
does a route whose URL has an argument this file has no sample value for (add it to ``samples``).

Roles: the province administrator (everything); a sector administrator of the administrative
sector; the manager of the Department of Justice (its subtree); a viewer of the same subtree. The
Department (P-TP) is inside every scope, the hospital (P-BV, health) outside every scope but the
province's, so routes naming an agency, a point, a kiosk, a response or a report scope are also
asked for the hospital's and must answer 403 or 404.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from survey import create_app
from survey.auth import LAST_SEEN_AT, SIGNED_IN_AT, RoutePolicy, policy_of, public_route, requires
from survey.storage import queries
from survey.storage.models import Kiosk, Response, Target, User, utc_now
from tests.factories import SmallProvince

ROLES = ("province_admin", "sector_admin", "agency_manager", "viewer", "anonymous")
FLASK_BUILT_INS = {"static"}  # Flask's own static files: public by nature


def _rules() -> list[Rule]:
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint not in FLASK_BUILT_INS),
        key=lambda rule: (rule.endpoint, rule.rule),
    )


RULES = _rules()


@dataclass
class World:
    users: dict[str, int]
    inside: dict[str, Any]
    outside: dict[str, Any]


@pytest.fixture
def world(session: Session, seeded: SmallProvince) -> World:
    users = {}
    for role, sector, agency in (
        ("province_admin", None, None),
        ("sector_admin", "administrative", None),
        ("agency_manager", None, seeded.department.id),
        ("viewer", None, seeded.department.id),
    ):
        user = User(
            username=role,
            password_hash="not-a-hash: sessions are made directly",
            role=role,
            sector=sector,
            scope_agency_id=agency,
            password_changed_at=utc_now(),
        )
        session.add(user)
        session.flush()
        users[role] = user.id

    def kiosk_and_response(point: Any, sector: str, key: str) -> tuple[int, int]:
        kiosk = Kiosk(service_point=point, label=f"Kiosk {key}")
        questionnaire = queries.active_questionnaire(session, sector)
        assert questionnaire is not None
        response = Response(
            idempotency_key=f"matrix-{key}-0123456789",
            service_point=point,
            questionnaire=questionnaire,
            channel="qr",
            submitted_at=utc_now(),
        )
        session.add_all([kiosk, response])
        session.flush()
        return kiosk.id, response.id

    inside_target = Target(
        sector="administrative",
        scope_name="Tỉnh Thử Nghiệm",
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        low=0.8,
        description="in scope",
    )
    session.add(inside_target)
    session.flush()
    inside_kiosk, inside_response = kiosk_and_response(seeded.desk, "administrative", "in")
    outside_kiosk, outside_response = kiosk_and_response(seeded.counter, "health", "out")
    dossier_samples = _dossier_samples(session, seeded)
    session.commit()
    common = {
        "fmt": None,
        "filename": "css/public.css",
        "reference": "administrative:1",
        "language": "hmn",
        "period": "2025-Q1",  # the public quarterly report: an ended quarter
        **dossier_samples,
    }
    inside = {
        **common,
        "agency_id": seeded.department.id,
        "code": seeded.desk.public_code,
        "point_id": seeded.desk.id,
        "target_id": inside_target.id,
        "kiosk_id": inside_kiosk,
        "response_id": inside_response,
        "kind": "agency",
        "key": seeded.department.code,
    }
    outside = {
        **common,
        "agency_id": seeded.hospital.id,
        "code": seeded.counter.public_code,
        "point_id": seeded.counter.id,
        "target_id": inside_target.id,
        "kiosk_id": outside_kiosk,
        "response_id": outside_response,
        "kind": "agency",
        "key": seeded.hospital.code,
    }
    return World(users, inside, outside)


def _dossier_samples(session: Session, seeded: SmallProvince) -> dict[str, Any]:
    """A dossier of the Department's desk with its rating link, a complaint and a clerk."""
    from survey.services.dossiers.links import link_for
    from survey.services.dossiers.settings import DossierSettings
    from survey.storage.models import CommentReview, Complaint, Dossier, Staff

    received = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    clerk = Staff(clerk_code="MATRIX-1", name="Lê Văn Mẫu", service_point=seeded.desk)
    dossier = Dossier(
        code=f"H40.123.45-{received + dt.timedelta(hours=7):%y%m%d}-019999",
        service_point=seeded.desk,
        staff=clerk,
        procedure="Chứng thực",
        received_at=received,
        received_month=received.date().replace(day=1),
        due_at=received + dt.timedelta(days=5),
        status="processing",
        status_changed_at=received,
        imported_at=received,
    )
    session.add_all([clerk, dossier])
    session.flush()
    case = Complaint(
        agency_id=seeded.department.id,
        dossier_id=dossier.id,
        source="staff",
        description="",
        opened_at=received,
        due_at=received + dt.timedelta(days=10),
    )
    session.add(case)
    _invitation, token = link_for(session, dossier, DossierSettings(link_key="test-secret"))
    questionnaire = queries.active_questionnaire(session, "administrative")
    assert questionnaire is not None
    response = Response(
        idempotency_key="matrix-review-0123456789",
        service_point=seeded.desk,
        questionnaire=questionnaire,
        channel="qr",
        submitted_at=utc_now(),
        comment="Chị Hoa rất nhiệt tình",
    )
    session.add(response)
    session.flush()
    review = CommentReview(response_id=response.id, reason="titled_name")
    session.add(review)
    session.flush()
    return {
        "review_id": review.id,
        "token": token,
        "dossier_id": dossier.id,
        "complaint_id": case.id,
        "staff_id": clerk.id,
        "action": "note",
    }


def _url(rule: Rule, samples: dict[str, Any]) -> str:
    values = {}
    for argument in rule.arguments:
        if argument not in samples:
            pytest.fail(f"{rule.endpoint}: add a sample value for <{argument}> to this test")
        values[argument] = samples[argument]
    if "fmt" in values:
        values["fmt"] = "png" if "qr" in rule.rule else "csv"
    path = rule.build(values, append_unknown=False)
    assert path is not None
    return path[1]


def _request(app: Flask, rule: Rule, url: str, user_id: int | None) -> Any:
    client = app.test_client()
    if user_id is not None:
        with client.session_transaction() as browser:
            now = time.time()
            browser.update(
                {"_user_id": str(user_id), "_fresh": True, SIGNED_IN_AT: now, LAST_SEEN_AT: now}
            )
    methods = rule.methods or set()
    method = "GET" if "GET" in methods else sorted(methods - {"HEAD", "OPTIONS"})[0]
    # Authorization only: a library's warning on the tiny test data (e.g. a chart with nothing to
    # draw) must not become a 500 here; other tests hold the pages to warnings-as-errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return client.open(url, method=method, data={} if method != "GET" else None)


def _is_sign_in_redirect(answer: Any) -> bool:
    return answer.status_code in (302, 303) and "/admin/sign-in" in answer.headers.get(
        "Location", ""
    )


def _expect_allowed(policy: RoutePolicy, answer: Any, where: str) -> None:
    assert answer.status_code < 500, where
    assert answer.status_code != 403 and not _is_sign_in_redirect(answer), where
    if policy.permission is not None:
        assert answer.status_code != 401, where


def _expect_refused(policy: RoutePolicy, answer: Any, role: str, url: str, where: str) -> None:
    if role != "anonymous":
        assert answer.status_code == 403, where
    else:
        assert _is_sign_in_redirect(answer), where


def test_every_route_declares_a_policy(app: Flask):
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in FLASK_BUILT_INS
        and policy_of(app.view_functions[rule.endpoint]) is None
    ]
    assert missing == [], "add @requires(...) or @public_route (survey/auth.py)"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.endpoint}:{rule.rule}")
def test_route_answers_each_role_by_its_policy(app: Flask, world: World, rule: Rule):
    app.config["WTF_CSRF_ENABLED"] = False  # authorization only; CSRF has its own test
    policy = policy_of(app.view_functions[rule.endpoint])
    assert policy is not None, f"{rule.endpoint} declares no policy"
    url = _url(rule, world.inside)
    for role in ROLES:
        answer = _request(app, rule, url, world.users.get(role))
        where = f"{role} {rule.methods} {url} → {answer.status_code}"
        if policy.permission is None or role in policy.roles:
            _expect_allowed(policy, answer, where)
        else:
            _expect_refused(policy, answer, role, url, where)
    if not policy.scoped_arguments:
        return
    outside = _url(rule, {**world.inside, **{k: world.outside[k] for k in policy.scoped_arguments}})
    for role in ("sector_admin", "agency_manager", "viewer"):
        if role not in policy.roles:
            continue
        answer = _request(app, rule, outside, world.users[role])
        assert answer.status_code in (403, 404), f"{role} out of scope {outside}"
    answer = _request(app, rule, outside, world.users["province_admin"])
    _expect_allowed(policy, answer, f"province_admin {outside} → {answer.status_code}")


def test_policies_are_recorded_on_the_view_and_unknown_permissions_refused():
    @requires("manage_kiosks", agency_arg="agency_id")
    def register(agency_id: int) -> str:
        return "ok"

    @public_route
    def index() -> str:
        return "ok"

    assert register.access_policy.permission == "manage_kiosks"  # type: ignore[attr-defined]
    assert register.access_policy.agency_arg == "agency_id"  # type: ignore[attr-defined]
    assert register.__name__ == "register"
    assert index.access_policy.permission is None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown permission"):
        requires("be_the_boss")
