"""Alerts: agencies whose index is significantly below target, or has fallen significantly since
the previous period; listed on the province page and e-mailed as a bilingual digest.

Rules, on the headline index (share satisfied overall) of each agency's own responses, as in the
report's agency table:

* **below target** — the report's verdict (``analysis.test_target``): the 95% interval lies
  entirely below the target (``not_met``) or below the band (``below_band``);
* **fallen** — current period minus the previous one of the same kind (``compare_periods``, as
  the report's change line): the 95% interval of the difference lies entirely below 0. Both
  periods need at least ``min_n`` responses of the agency.

Each agency is tested on its own at the 95% level, as in the report's tables; with many agencies a
few alerts can be chance (no multiplicity adjustment: the page and the e-mail say so).

Senders are pluggable (``AlertSender``): ``LogSender`` (development), ``FileSender`` (writes .eml
files; tests, or a mail spool), ``SmtpSender`` (smtplib). ``AlertSettings.from_config`` reads
``ALERT_*`` settings from the app config or the environment:

``ALERT_SENDER``          ``log``, ``file`` or ``smtp`` (default: ``smtp`` when
                          ``ALERT_SMTP_HOST`` is set, else ``file`` when ``ALERT_FILE_DIR`` is,
                          else ``log``)
``ALERT_FROM``            sender address (default ``canh-bao@localhost``)
``ALERT_TO``              default recipients, comma-separated (``send-alerts --to`` adds more)
``ALERT_FILE_DIR``        folder of the file sender (default ``<instance>/alerts``)
``ALERT_SMTP_HOST``, ``ALERT_SMTP_PORT`` (587), ``ALERT_SMTP_USER``, ``ALERT_SMTP_PASSWORD``,
``ALERT_SMTP_STARTTLS`` (true), ``ALERT_SMTP_SSL`` (false), ``ALERT_SMTP_TIMEOUT`` (30 s)
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from sqlalchemy.orm import Session

from analysis import PairwiseDifference, TargetTest
from survey import formatting
from survey.services import audit
from survey.services.errors import InvalidInput
from survey.services.periods import Period
from survey.services.reporting import (
    MIN_RESPONSES,
    IndexLine,
    LruCache,
    ScopeReport,
    build_report,
)

log = logging.getLogger(__name__)
BELOW = ("not_met", "below_band")


@dataclass(frozen=True)
class AgencyAlert:
    """One agency with at least one reason for alarm."""

    agency_code: str
    name_vi: str
    name_en: str
    sector: str
    line: IndexLine  # the agency's index, target and verdict this period
    verdict: TargetTest | None  # set when significantly below target
    change: PairwiseDifference | None  # set when significantly fallen

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en

    @property
    def below_target(self) -> bool:
        return self.verdict is not None

    @property
    def fallen(self) -> bool:
        return self.change is not None

    def reasons(self, language: str, period: Period, previous: Period) -> list[str]:
        vi = language == "vi"
        e = self.line.estimate
        out = []
        if self.verdict is not None and self.line.target is not None and e.estimate is not None:
            target = self.line.target
            bar = formatting.percent(target.low, language, 0)
            if target.high is not None:
                bar = formatting.percent_range(target.low, target.high, language, 0)
            out.append(
                f"Tỷ lệ hài lòng {_pct(e.estimate, language)} (khoảng tin cậy 95%: "
                f"{formatting.percent_range(e.ci_low, e.ci_high, language)}, "
                f"n = {formatting.number(e.n, language)}), thấp hơn rõ rệt so với mục tiêu {bar}."
                if vi
                else f"Share satisfied {_pct(e.estimate, language)} (95% interval "
                f"{formatting.percent_range(e.ci_low, e.ci_high, language)}, "
                f"n = {formatting.number(e.n, language)}), significantly below the target of {bar}."
            )
        if self.change is not None:
            c = self.change
            points = _points(c.difference, language)
            low, high = _points(c.ci_low, language), _points(c.ci_high, language)
            out.append(
                f"Giảm {points} điểm phần trăm so với {previous.label(language)} "
                f"(khoảng tin cậy 95%: {low} đến {high}), từ {_pct(c.estimate_b, language)} "
                f"xuống {_pct(c.estimate_a, language)}."
                if vi
                else f"Fell by {points} percentage points since {previous.label(language)} "
                f"(95% interval {low} to {high}), from {_pct(c.estimate_b, language)} "
                f"to {_pct(c.estimate_a, language)}."
            )
        return out


def _pct(value: float | None, language: str) -> str:
    return formatting.percent(value, language, 1)


def _points(value: float | None, language: str) -> str:
    """The size of a change in percentage points, without its sign (the sentence says "fell")."""
    return formatting.MISSING if value is None else formatting.number(100 * abs(value), language, 1)


@dataclass(frozen=True)
class AlertList:
    period: Period
    previous: Period
    alerts: list[AgencyAlert]
    agencies_checked: int
    min_n: int

    def __bool__(self) -> bool:
        return bool(self.alerts)


ALERT_CACHE: LruCache[AlertList] = LruCache(32)


def alerts_for_report(
    session: Session, report: ScopeReport, *, cache: LruCache[AlertList] | None = ALERT_CACHE
) -> AlertList:
    """The alerts of a report's agencies (within the reader's scope, as the report is). For the
    province page: ``alerts_for_report(session, report)`` and include
    ``templates/reports/_alerts.html`` with ``alerts`` and ``language``."""
    if cache is None:
        return _alerts(session, report)
    return cache.get_or_build(report.version, lambda: _alerts(session, report))


def alerts_for_period(
    session: Session,
    period: Period,
    *,
    visible: frozenset[int] | None = None,
    min_n: int = MIN_RESPONSES,
) -> AlertList:
    """The alerts of every agency (of ``visible`` ones, None: all) for a period."""
    report = build_report(session, period, "province", "", min_n=min_n, visible=visible)
    return alerts_for_report(session, report)


def _alerts(session: Session, report: ScopeReport) -> AlertList:
    period, previous, min_n = report.period, report.previous, report.min_n
    changes = _agency_changes(report)
    alerts = []
    for line in report.agencies:
        verdict = line.verdict if line.verdict and line.verdict.verdict in BELOW else None
        change = changes.get(line.key)
        fallen = change if change is not None and _entirely_below_zero(change) else None
        if verdict is None and fallen is None:
            continue
        alerts.append(
            AgencyAlert(line.key, line.name_vi, line.name_en, line.sector, line, verdict, fallen)
        )
    alerts.sort(key=lambda a: (a.line.estimate.estimate or 0.0, a.name_vi))
    return AlertList(period, previous, alerts, len(report.agencies), min_n)


def _entirely_below_zero(change: PairwiseDifference) -> bool:
    return change.ci_high is not None and change.ci_high < 0


def _agency_changes(report: ScopeReport) -> dict[str, PairwiseDifference]:
    """Current minus previous period for each agency of the report with ``min_n`` respondents
    in both (computed with the report: ``ScopeReport.agency_changes``)."""
    return {
        code: change
        for code, change in report.agency_changes.items()
        if not pd.isna(change.difference)
    }


# --------------------------------------------------------------------------------------------
# The digest


def digest(
    alerts: AlertList, sender: str, recipients: Sequence[str], *, link: str | None = None
) -> EmailMessage:
    """A plain-text e-mail, Vietnamese then English, listing every alert."""
    period = alerts.period
    n = len(alerts.alerts)
    message = EmailMessage()
    message["Subject"] = (
        f"Cảnh báo chỉ số hài lòng {period.label('vi')}: {n} cơ quan / "
        f"Satisfaction alerts {period.label('en')}: {n} agencies"
    )
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    parts = [_digest_text(alerts, "vi", link), _digest_text(alerts, "en", link)]
    message.set_content(("\n\n" + "-" * 60 + "\n\n").join(parts), charset="utf-8")
    return message


def _digest_text(alerts: AlertList, language: str, link: str | None) -> str:
    vi = language == "vi"
    period, previous = alerts.period, alerts.previous
    lines = [
        f"Cảnh báo chỉ số hài lòng — {period.label('vi')}"
        if vi
        else f"Satisfaction alerts — {period.label('en')}",
        "",
    ]
    if not alerts.alerts:
        lines.append(
            f"Không có cơ quan nào thấp hơn rõ rệt so với mục tiêu hay giảm rõ rệt "
            f"({alerts.agencies_checked} cơ quan đã xem xét)."
            if vi
            else f"No agency is significantly below its target or has fallen significantly "
            f"({alerts.agencies_checked} agencies checked)."
        )
    for number, alert in enumerate(alerts.alerts, 1):
        lines.append(f"{number}. {alert.name(language)} ({alert.agency_code})")
        lines.extend(f"   - {reason}" for reason in alert.reasons(language, period, previous))
    lines += [
        "",
        (
            f"Mỗi cơ quan được kiểm định riêng ở mức tin cậy 95% (chỉ xét cơ quan có ít nhất "
            f"{alerts.min_n} phiếu); khi có nhiều cơ quan, một vài cảnh báo có thể do ngẫu nhiên. "
            f"Tổng số cơ quan đã xem xét: {alerts.agencies_checked}."
            if vi
            else f"Each agency is tested on its own at the 95% level (agencies with at least "
            f"{alerts.min_n} responses); with many agencies a few alerts can be chance. "
            f"Agencies checked: {alerts.agencies_checked}."
        ),
    ]
    if link:
        lines.append(f"Xem báo cáo: {link}" if vi else f"See the report: {link}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Senders


class AlertSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Send (or store) the message; returns where it went, for the command's output."""
        ...


class LogSender:
    """Writes the message to the application log (development): nothing leaves the machine."""

    def send(self, message: EmailMessage) -> str:
        log.warning(
            "alert digest (log sender, not e-mailed) to %s: %s\n%s",
            message["To"],
            message["Subject"],
            message.get_content(),
        )
        return "log"


class FileSender:
    """Writes each message as an .eml file into a folder (tests, or a mail spool)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"alerts-{stamp}.eml"
        path.write_bytes(bytes(message))
        return str(path)


class SmtpSender:
    """Sends through an SMTP server (STARTTLS by default, or implicit TLS)."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> str:
        s = self.settings
        if not s.smtp_host:
            raise InvalidInput("Chưa cấu hình ALERT_SMTP_HOST.", "ALERT_SMTP_HOST is not set.")
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.smtp_ssl:
            client = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout, context=context)
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout)
        with client:
            if s.smtp_starttls and not s.smtp_ssl:
                client.starttls(context=context)
            if s.smtp_user:
                client.login(s.smtp_user, s.smtp_password or "")
            client.send_message(message)
        return f"smtp://{s.smtp_host}:{s.smtp_port}"


@dataclass(frozen=True)
class AlertSettings:
    sender: str
    from_address: str
    recipients: tuple[str, ...]
    folder: Path
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_starttls: bool
    smtp_ssl: bool
    timeout: float

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        environ: Mapping[str, str] | None = None,
        instance_path: str = "instance",
    ) -> AlertSettings:
        """``ALERT_*`` from the app config, else the environment, else the defaults above."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str = "") -> str:
            value = config.get(name)
            if value is None:
                value = env.get(name, default)
            return str(value).strip()

        def flag(name: str, default: bool) -> bool:
            text = get(name, "true" if default else "false").lower()
            return text not in ("0", "false", "no", "off")

        def number(name: str, default: int) -> int:
            text = get(name, str(default))
            if not text.isdigit():
                raise InvalidInput(
                    f"{name} phải là số nguyên.", f"{name} must be a whole number, not {text!r}."
                )
            return int(text)

        host = get("ALERT_SMTP_HOST") or None
        folder = get("ALERT_FILE_DIR")
        sender = get("ALERT_SENDER").lower() or ("smtp" if host else "file" if folder else "log")
        if sender not in ("log", "file", "smtp"):
            raise InvalidInput(
                "ALERT_SENDER phải là log, file hoặc smtp.", "ALERT_SENDER is log, file or smtp."
            )
        return cls(
            sender=sender,
            from_address=get("ALERT_FROM", "canh-bao@localhost"),
            recipients=tuple(a.strip() for a in get("ALERT_TO").split(",") if a.strip()),
            folder=Path(folder) if folder else Path(instance_path) / "alerts",
            smtp_host=host,
            smtp_port=number("ALERT_SMTP_PORT", 587),
            smtp_user=get("ALERT_SMTP_USER") or None,
            smtp_password=get("ALERT_SMTP_PASSWORD") or None,
            smtp_starttls=flag("ALERT_SMTP_STARTTLS", True),
            smtp_ssl=flag("ALERT_SMTP_SSL", False),
            timeout=float(number("ALERT_SMTP_TIMEOUT", 30)),
        )


def make_sender(settings: AlertSettings) -> AlertSender:
    if settings.sender == "smtp":
        return SmtpSender(settings)
    if settings.sender == "file":
        return FileSender(settings.folder)
    return LogSender()


def send_digest(
    session: Session,
    alerts: AlertList,
    settings: AlertSettings,
    recipients: Sequence[str],
    *,
    sender: AlertSender | None = None,
    link: str | None = None,
) -> str:
    """Build and send the digest and note it in the audit log (by the system)."""
    if not recipients:
        raise InvalidInput(
            "Chưa có người nhận: đặt ALERT_TO hoặc dùng --to.",
            "No recipients: set ALERT_TO or give --to.",
        )
    message = digest(alerts, settings.from_address, recipients, link=link)
    where = (sender or make_sender(settings)).send(message)
    audit.record(
        session,
        None,
        "alerts.sent",
        f"alerts:{alerts.period.key}",
        {
            "recipients": len(recipients),
            "agencies": [a.agency_code for a in alerts.alerts],
            "sender": settings.sender if sender is None else type(sender).__name__,
        },
    )
    session.flush()
    return where
