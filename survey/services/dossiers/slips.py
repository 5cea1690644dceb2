"""The rating slip of a dossier: its QR (PNG, SVG) and an A6 slip to print with the receipt.

The QR encodes the dossier's rating link (``/d/<token>``), never its code. The slip shows the
agency, desk, procedure, receipt and due times and the dossier code (it goes with the citizen's
own receipt), the QR, a one-line instruction in Vietnamese and English and how long the link
works. Printing it again gives the same link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF
from sqlalchemy.orm import Session

from survey.services import audit, qr
from survey.services.dossiers.codes import InvalidDossierCode, parse_dossier_code
from survey.services.dossiers.links import link_for, mark_slip_printed, rating_url
from survey.services.dossiers.settings import DossierSettings
from survey.services.errors import NotFound
from survey.services.local_time import VIETNAM_TIME
from survey.storage import queries
from survey.storage.models import Dossier

FORMATS = ("png", "svg", "pdf")
INSTRUCTION_VI = "Quét mã QR để đánh giá việc giải quyết hồ sơ của Ông/Bà — ẩn danh, dưới 1 phút."
INSTRUCTION_EN = "Scan to rate how your dossier was handled — anonymous, under a minute."


@dataclass(frozen=True, kw_only=True)
class Slip:
    dossier: Dossier
    url: str


def dossier_for_slip(session: Session, code: str) -> Dossier:
    """The dossier with this code, or a clear error (malformed code, or none stored)."""
    try:
        parsed = parse_dossier_code(code)
    except InvalidDossierCode:
        raise
    dossier = queries.dossier_by_code(session, parsed.code)
    if dossier is None:
        raise NotFound(
            "Không có hồ sơ nào mang mã này trên hệ thống.",
            "No dossier with this code is on the platform.",
        )
    return dossier


def make_slip(
    session: Session,
    dossier: Dossier,
    settings: DossierSettings,
    public_base_url: str,
    *,
    actor: Any = None,
) -> Slip:
    """The dossier's link (made on first use), noted as printed and audited."""
    invitation, token = link_for(session, dossier, settings, actor=actor)
    mark_slip_printed(session, invitation)
    audit.record(session, actor, "dossier.slip_printed", f"dossier:{dossier.id}")
    session.flush()
    return Slip(dossier=dossier, url=rating_url(public_base_url, token))


def slip_file(slip: Slip, fmt: str, settings: DossierSettings) -> tuple[bytes, str]:
    """(content, mimetype) of the slip as ``png``, ``svg`` or ``pdf``."""
    if fmt == "png":
        return qr.qr_png(slip.url), "image/png"
    if fmt == "svg":
        return qr.qr_svg(slip.url), "image/svg+xml"
    if fmt == "pdf":
        return slip_pdf(slip, settings), "application/pdf"
    raise NotFound()


def _local(moment: dt.datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone(VIETNAM_TIME):%H:%M %d/%m/%Y}"


def slip_pdf(slip: Slip, settings: DossierSettings) -> bytes:
    """An A6 page (105 × 148 mm): agency, desk, dossier, QR, instruction, link's validity."""
    dossier = slip.dossier
    pdf = FPDF(orientation="P", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(qr.FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(qr.FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Phiếu đánh giá hồ sơ")
    pdf.add_page()
    pdf.set_margins(7, 7, 7)
    pdf.set_xy(7, 7)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(91, 5, dossier.service_point.agency.name_vi, align="C")
    pdf.set_x(7)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(91, 4, dossier.service_point.name_vi, align="C")
    pdf.ln(1)
    pdf.set_x(7)
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(91, 4.5, "PHIẾU ĐÁNH GIÁ HỒ SƠ / DOSSIER RATING", align="C")
    pdf.set_font("DejaVu", "", 7.5)
    for label, value in (
        ("Mã hồ sơ / Dossier", dossier.code),
        ("Thủ tục / Procedure", dossier.procedure),
        ("Tiếp nhận / Received", _local(dossier.received_at)),
        ("Hẹn trả / Due", _local(dossier.due_at)),
    ):
        pdf.set_x(7)
        pdf.multi_cell(91, 3.8, f"{label}: {value}", align="L")
    top = pdf.get_y() + 2
    image = qr._qr(slip.url).make_image().get_image()
    size = min(52.0, 148 - 7 - 30 - top)
    pdf.image(image, x=(105 - size) / 2, y=top, w=size, h=size)
    pdf.set_xy(7, top + size + 1)
    pdf.set_font("DejaVu", "B", 8)
    pdf.multi_cell(91, 4, INSTRUCTION_VI, align="C")
    pdf.set_x(7)
    pdf.set_font("DejaVu", "", 7)
    pdf.multi_cell(91, 3.5, INSTRUCTION_EN, align="C")
    pdf.set_x(7)
    pdf.multi_cell(
        91,
        3.5,
        f"Đường dẫn dùng được đến {settings.link_days} ngày sau khi trả kết quả, một lần. / "
        f"The link works once, until {settings.link_days} days after the result is returned.",
        align="C",
    )
    pdf.set_x(7)
    pdf.set_text_color(90, 90, 90)
    pdf.set_font("DejaVu", "", 6)
    pdf.multi_cell(91, 3, slip.url, align="C")
    return bytes(pdf.output())
