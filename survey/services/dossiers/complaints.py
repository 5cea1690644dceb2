"""Complaints and petitions (phản ánh, kiến nghị): a closed loop from opening to the citizen's
rating of how it was handled.

A case is opened by a low rating (overall 1 or 2) through a dossier's link, by a comment the
citizen marked as a complaint, or by an official (at the counter, from the hotline). It is due
``COMPLAINT_DUE_DAYS`` (10) calendar days after it is opened; officials record notes and close it
with what was done; the citizen rates the handling (1–5) through the dossier's link. A case not
closed by its due time is overdue and listed. Every step is a ``ComplaintEvent`` and an audit
event. These cases are the PAKN of the official ratios (``survey.services.dossiers.official``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.dossiers.codes import (
    InvalidDossierCode,
    mask_dossier_codes,
    parse_dossier_code,
)
from survey.services.dossiers.privacy import mask_identifiers
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import DomainError, InvalidInput, NotFound
from survey.services.responses import mask_personal_data
from survey.storage import queries
from survey.storage.models import Complaint, ComplaintEvent, Dossier, utc_now

TEXT_MAX = 2000


class ComplaintClosed(DomainError):
    message_vi = "Phản ánh này đã được đóng."
    message_en = "This complaint is already closed."


def clean_text(text: str | None) -> str:
    """Free text of a case, masked like a comment: phone numbers, e-mail addresses, 12-digit ID
    numbers and dossier codes are replaced (the case already names its dossier)."""
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise InvalidInput(
            f"Nội dung quá dài (tối đa {TEXT_MAX} ký tự).",
            f"The text is too long (at most {TEXT_MAX} characters).",
        )
    return mask_personal_data(mask_identifiers(mask_dossier_codes(text)))


def _event(
    session: Session, case: Complaint, kind: str, note: str, actor: Any, now: dt.datetime
) -> None:
    session.add(
        ComplaintEvent(
            complaint=case,
            kind=kind,
            note=note,
            actor_id=getattr(actor, "id", None),
            occurred_at=now,
        )
    )


def open_for_dossier(
    session: Session,
    dossier: Dossier,
    *,
    source: str,
    description: str,
    settings: DossierSettings,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> Complaint:
    """Open a case about a dossier."""
    now = now or utc_now()
    case = Complaint(
        agency_id=dossier.service_point.agency_id,
        service_point_id=dossier.service_point_id,
        dossier_id=dossier.id,
        source=source,
        description=clean_text(description),
        opened_at=now,
        due_at=now + dt.timedelta(days=settings.complaint_due_days),
        opened_by_id=getattr(actor, "id", None),
    )
    session.add(case)
    _event(session, case, "opened", "", actor, now)
    session.flush()
    audit.record(session, actor, "complaint.opened", f"complaint:{case.id}", {"source": source})
    return case


def open_by_official(
    session: Session,
    *,
    dossier_code: str,
    agency_id: int | None,
    description: str,
    settings: DossierSettings,
    actor: Any,
    scope: Any,
) -> Complaint:
    """A complaint received by an official: about a dossier (by its code) or, without one, about
    an agency within the official's scope."""
    description = (description or "").strip()
    if not description:
        raise InvalidInput("Hãy ghi nội dung phản ánh.", "Write what the complaint is about.")
    if dossier_code.strip():
        try:
            code = parse_dossier_code(dossier_code).code
        except InvalidDossierCode as error:
            raise InvalidInput(error.message_vi, error.message_en) from None
        dossier = queries.dossier_by_code(session, code)
        if dossier is None:
            raise NotFound(
                "Không có hồ sơ nào mang mã này trên hệ thống.",
                "No dossier with this code is on the platform.",
            )
        if not scope.allows_point(dossier.service_point):
            raise NotFound(
                "Không có hồ sơ nào mang mã này trong phạm vi của tài khoản.",
                "No dossier with this code is within your scope.",
            )
        case = open_for_dossier(
            session,
            dossier,
            source="staff",
            description=description,
            settings=settings,
            actor=actor,
        )
    else:
        agency = queries.agency_by_id(session, agency_id) if agency_id else None
        if agency is None or not scope.allows(agency):
            raise InvalidInput(
                "Hãy ghi mã hồ sơ hoặc chọn cơ quan trong phạm vi của tài khoản.",
                "Give a dossier code or choose an agency within your scope.",
            )
        now = utc_now()
        case = Complaint(
            agency_id=agency.id,
            source="staff",
            description=clean_text(description),
            opened_at=now,
            due_at=now + dt.timedelta(days=settings.complaint_due_days),
            opened_by_id=getattr(actor, "id", None),
        )
        session.add(case)
        _event(session, case, "opened", "", actor, now)
        session.flush()
        audit.record(
            session, actor, "complaint.opened", f"complaint:{case.id}", {"source": "staff"}
        )
    session.flush()
    return case


def case_in_scope(session: Session, complaint_id: int, scope: Any) -> Complaint:
    case = queries.complaint_by_id(session, complaint_id)
    if case is None or not scope.allows(case.agency):
        raise NotFound()
    return case


def add_note(session: Session, case: Complaint, note: str, actor: Any) -> None:
    text = clean_text(note)
    if not text:
        raise InvalidInput("Hãy ghi nội dung xử lý.", "Write what was done.")
    if case.closed_at is not None:
        raise ComplaintClosed()
    _event(session, case, "note", text, actor, utc_now())
    audit.record(session, actor, "complaint.noted", f"complaint:{case.id}")
    session.flush()


def close(session: Session, case: Complaint, resolution: str, actor: Any) -> None:
    text = clean_text(resolution)
    if not text:
        raise InvalidInput(
            "Hãy ghi kết quả xử lý trước khi đóng.", "Write how it was resolved before closing."
        )
    if case.closed_at is not None:
        raise ComplaintClosed()
    now = utc_now()
    case.closed_at = now
    case.resolution = text
    case.closed_by_id = getattr(actor, "id", None)
    _event(session, case, "closed", text, actor, now)
    audit.record(
        session,
        actor,
        "complaint.closed",
        f"complaint:{case.id}",
        {"on_time": now <= case.due_at},
    )
    session.flush()


def rate_handling(session: Session, case: Complaint, rating: int) -> bool:
    """The citizen's rating (1–5) of a closed case's handling; False when already rated (the
    first rating stays)."""
    if rating not in (1, 2, 3, 4, 5):
        raise InvalidInput("Hãy chọn một mức từ 1 đến 5.", "Choose a rating from 1 to 5.")
    if case.closed_at is None:
        raise InvalidInput(
            "Phản ánh đang được xử lý; Ông/Bà có thể đánh giá khi có kết quả.",
            "The complaint is still being handled; you can rate it once it is closed.",
        )
    if case.handling_rating is not None:
        return False
    case.handling_rating = rating
    _event(session, case, "rated", "", None, utc_now())
    audit.record(session, None, "complaint.rated", f"complaint:{case.id}")
    session.flush()
    return True


def cases(
    session: Session,
    visible_agency_ids: frozenset[int] | None,
    *,
    state: str = "open",
    now: dt.datetime | None = None,
) -> Sequence[Complaint]:
    """``open`` (oldest due first), ``overdue`` (open past due) or ``closed`` (latest first)."""
    if state not in ("open", "overdue", "closed"):
        raise InvalidInput("Trạng thái không hợp lệ.", "Unknown state.")
    return queries.complaints_in(session, visible_agency_ids, state, now or utc_now())
