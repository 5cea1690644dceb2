"""QR codes and printable posters for service points (qrcode + fpdf2)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import qrcode
import qrcode.image.svg
from fpdf import FPDF

from survey.storage.models import ServicePoint

POSTER_INSTRUCTION_VI = "Quét mã QR để đánh giá mức độ hài lòng của Ông/Bà — ẩn danh, dưới 1 phút."
POSTER_INSTRUCTION_EN = "Scan to tell us how satisfied you are — anonymous, under a minute."
# DejaVu Sans covers every Vietnamese letter with its diacritics; matplotlib ships it.
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def new_public_code() -> str:
    """An unguessable code (96 random bits) for a service point's public URL."""
    return secrets.token_urlsafe(12)


def service_point_url(public_base_url: str, point: ServicePoint) -> str:
    return f"{public_base_url.rstrip('/')}/s/{point.public_code}"


def _qr(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image().save(buffer)
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


def poster_sheet_pdf(public_base_url: str, points: Sequence[ServicePoint]) -> bytes:
    """An A4 PDF with two A5 posters per page: QR, agency and desk name, a one-line instruction."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title("Mã QR khảo sát sự hài lòng")
    for index, point in enumerate(points):
        if index % 2 == 0:
            pdf.add_page()
        top = 10 + (index % 2) * 148.5
        _draw_poster(pdf, top, public_base_url, point)
        if index % 2 == 0:
            pdf.set_draw_color(180, 180, 180)
            pdf.set_dash_pattern(dash=2, gap=2)
            pdf.line(5, 148.5, 205, 148.5)  # where to cut
            pdf.set_dash_pattern()
    return bytes(pdf.output())


def _draw_poster(pdf: FPDF, top: float, public_base_url: str, point: ServicePoint) -> None:
    url = service_point_url(public_base_url, point)
    pdf.set_text_color(0, 0, 0)
    pdf.set_xy(15, top)
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(180, 7, point.agency.name_vi, align="C")
    pdf.set_x(15)
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(180, 6, point.name_vi, align="C")
    image = _qr(url).make_image().get_image()
    pdf.image(image, x=67.5, y=top + 22, w=75, h=75)
    pdf.set_xy(15, top + 99)
    pdf.set_font("DejaVu", "B", 12)
    pdf.multi_cell(180, 6, POSTER_INSTRUCTION_VI, align="C")
    pdf.set_x(15)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(180, 5, POSTER_INSTRUCTION_EN, align="C")
    pdf.set_x(15)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(180, 5, url, align="C")
