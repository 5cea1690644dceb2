"""Alerts: agencies significantly below target or fallen since the previous period, the digest,
its senders (file sender in tests), the command, and the partial for the province page."""

from __future__ import annotations

import datetime as dt
import email
import smtplib
from email import policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services.alerts import (
    AlertSettings,
    FileSender,
    LogSender,
    SmtpSender,
    alerts_for_period,
    digest,
    make_sender,
    send_digest,
)
from survey.services.errors import InvalidInput
from survey.services.periods import parse_period
from survey.services.questionnaires import open_service_point
from survey.services.responses import submit_response
from survey.storage.models import AuditEvent, ServicePoint, Target
from tests.factories import SmallProvince

Q2, Q3 = parse_period("2025-Q2"), parse_period("2025-Q3")


def _answers(session: Session, point: ServicePoint, month: int, satisfied: int, n: int = 40):
    for i in range(n):
        found, questionnaire = open_service_point(session, point.public_code)
        value = 5 if i < satisfied else 2
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: value for item in questionnaire.items},
            idempotency_key=f"alert-{point.public_code}-{month}-{i:04d}",
            channel="qr",
            submitted_at=dt.datetime(2025, month, 1 + i % 28, 3, tzinfo=dt.UTC),
        )


@pytest.fixture
def province(session: Session, seeded: SmallProvince) -> SmallProvince:
    session.add(
        Target(
            sector=None,
            scope_name="Toàn quốc",
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2025, 12, 31),
            low=0.7,
            description="test target",
        )
    )
    session.commit()
    _answers(session, seeded.desk, 5, 16)  # department: 40% in Q2 …
    _answers(session, seeded.desk, 8, 16)  # … and in Q3: below target, not fallen
    _answers(session, seeded.counter, 5, 40)  # hospital: 100% in Q2 …
    _answers(session, seeded.counter, 8, 20)  # … 50% in Q3: fallen and below target
    _answers(session, seeded.school_office, 5, 38)  # school: 95% both times: no alert
    _answers(session, seeded.school_office, 8, 38)
    session.commit()
    return seeded


def test_agencies_below_target_or_fallen_are_alerted(session: Session, province: SmallProvince):
    alerts = alerts_for_period(session, Q3)
    found = {a.agency_code: (a.below_target, a.fallen) for a in alerts.alerts}
    assert found == {"P-TP": (True, False), "P-BV": (True, True)}
    assert alerts.agencies_checked == 3 and alerts.previous == Q2
    hospital = next(a for a in alerts.alerts if a.agency_code == "P-BV")
    assert hospital.change is not None and hospital.change.ci_high < 0
    assert hospital.change.difference == pytest.approx(-0.5)
    vi, en = hospital.reasons("vi", Q3, Q2), hospital.reasons("en", Q3, Q2)
    assert "thấp hơn rõ rệt so với mục tiêu 70%" in vi[0] and "Giảm 50,0 điểm" in vi[1]
    assert "significantly below the target of 70%" in en[0] and "Fell by 50.0" in en[1]


def test_alerts_hold_only_the_readers_agencies(session: Session, province: SmallProvince):
    alerts = alerts_for_period(session, Q3, visible=frozenset({province.department.id}))
    assert [a.agency_code for a in alerts.alerts] == ["P-TP"]


def test_too_few_responses_in_either_period_is_no_fall(session: Session, province: SmallProvince):
    alerts = alerts_for_period(session, Q3, min_n=41)
    assert alerts.alerts == []  # no verdict and no change with fewer than min_n responses


def test_the_digest_is_written_by_the_file_sender(
    session: Session, province: SmallProvince, tmp_path: Path
):
    alerts = alerts_for_period(session, Q3)
    settings = AlertSettings.from_config(
        {"ALERT_FILE_DIR": str(tmp_path), "ALERT_FROM": "canh-bao@dienbien.gov.vn"}, environ={}
    )
    assert settings.sender == "file" and isinstance(make_sender(settings), FileSender)
    where = send_digest(session, alerts, settings, ["so.noivu@dienbien.gov.vn"], link="https://x")
    (written,) = tmp_path.glob("*.eml")
    assert where == str(written)
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Cảnh báo chỉ số hài lòng Quý 3/2025: 2 cơ quan")
    assert "Satisfaction alerts Q3 2025: 2 agencies" in message["Subject"]
    body = message.get_content()
    assert "Bệnh viện Đa khoa tỉnh" in body and "Sở Tư pháp (en)" in body
    assert body.index("Cảnh báo") < body.index("Satisfaction alerts")  # Vietnamese first
    assert "Trường Tiểu học" not in body
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.sent")).one()
    assert event.details["agencies"] == ["P-TP", "P-BV"]  # lowest index first
    assert event.actor_name == "system"


def test_send_alerts_command(
    app: Flask, runner: Any, session: Session, province: SmallProvince, tmp_path: Path
):
    app.config.update(ALERT_SENDER="file", ALERT_FILE_DIR=str(tmp_path), ALERT_TO="")
    result = runner.invoke(args=["send-alerts", "--period", "2025-Q3", "--to", "a@b.vn"])
    assert result.exit_code == 0, result.output
    assert "2 agencies" in result.output and len(list(tmp_path.glob("*.eml"))) == 1
    dry = runner.invoke(args=["send-alerts", "--period", "2025-Q3", "--dry-run"])
    assert dry.exit_code == 0 and "Bệnh viện Đa khoa tỉnh" in dry.output
    assert len(list(tmp_path.glob("*.eml"))) == 1  # a dry run sends nothing
    nobody = runner.invoke(args=["send-alerts", "--period", "2025-Q3"])
    assert nobody.exit_code == 1 and "No recipients" in nobody.output
    bad = runner.invoke(args=["send-alerts", "--period", "2025-Q9", "--to", "a@b.vn"])
    assert bad.exit_code == 1 and "Not a reporting period" in bad.output
    quiet = runner.invoke(args=["send-alerts", "--period", "2024-Q1", "--to", "a@b.vn"])
    assert quiet.exit_code == 0 and "nothing sent" in quiet.output


def test_settings_come_from_the_config_then_the_environment():
    env = {"ALERT_SMTP_HOST": "mail.dienbien.gov.vn", "ALERT_TO": "a@b.vn, c@d.vn"}
    settings = AlertSettings.from_config({}, environ=env)
    assert settings.sender == "smtp" and settings.recipients == ("a@b.vn", "c@d.vn")
    assert (settings.smtp_port, settings.smtp_starttls, settings.smtp_ssl) == (587, True, False)
    assert AlertSettings.from_config({"ALERT_SENDER": "log"}, environ=env).sender == "log"
    assert isinstance(make_sender(AlertSettings.from_config({}, environ={})), LogSender)
    with pytest.raises(InvalidInput):
        AlertSettings.from_config({"ALERT_SENDER": "pigeon"}, environ={})
    with pytest.raises(InvalidInput):
        AlertSettings.from_config({"ALERT_SMTP_PORT": "twenty-five"}, environ={})


def test_the_smtp_sender_uses_starttls_and_login(
    session: Session, province: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    calls: list[tuple[str, Any]] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            calls.append(("connect", (host, port, timeout)))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *_: object) -> None:
            calls.append(("quit", None))

        def starttls(self, context: Any) -> None:
            calls.append(("starttls", None))

        def login(self, user: str, password: str) -> None:
            calls.append(("login", user))

        def send_message(self, message: Any) -> None:
            calls.append(("send", message["To"]))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    settings = AlertSettings.from_config(
        {
            "ALERT_SMTP_HOST": "mail.example.vn",
            "ALERT_SMTP_USER": "alerts",
            "ALERT_SMTP_PASSWORD": "secret",
        },
        environ={},
    )
    alerts = alerts_for_period(session, Q3)
    SmtpSender(settings).send(digest(alerts, settings.from_address, ["x@y.vn"]))
    assert [name for name, _ in calls] == ["connect", "starttls", "login", "send", "quit"]
    assert calls[0][1] == ("mail.example.vn", 587, 30.0)


def test_the_partial_lists_the_alerts(app: Flask, session: Session, province: SmallProvince):
    alerts = alerts_for_period(session, Q3)
    with app.test_request_context("/reports/province/all?lang=en"):
        html = render_template("reports/_alerts.html", alerts=alerts, language="en")
    assert 'id="alert-P-BV"' in html and 'id="alert-P-TP"' in html and "P-TH" not in html
    assert "/reports/agency/P-BV?period=2025-Q3" in html
    with app.test_request_context("/"):
        quiet = render_template(
            "reports/_alerts.html",
            alerts=alerts_for_period(session, parse_period("2024-Q1")),
            language="vi",
        )
    assert 'id="alerts"' in quiet and "alert-P-" not in quiet
