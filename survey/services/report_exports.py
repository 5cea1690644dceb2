"""Exports officials open in Excel: index tables and raw responses, CSV (UTF-8 with BOM) or XLSX.

Numbers are exported at full precision as proportions (0.784 for 78.4%), so that they can be
checked against ``python -m analysis`` on the exported responses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.exports import LEADING_COLUMNS, responses_table
from survey.services.reports import IndexLine, ScopeReport
from survey.storage import queries

COLUMN_NOTES = {
    "response_id": ("Mã phiếu", "Response id"),
    "sector": ("Lĩnh vực", "Sector (administrative, health, education)"),
    "agency_level": ("Cấp", "Agency level (province, district, commune)"),
    "agency": ("Mã cơ quan", "Agency code"),
    "service_point": ("Mã điểm phục vụ (mã QR)", "Service point public code"),
    "stratum": ("Tầng mẫu = điểm phục vụ × quý", "Stratum = service point × quarter"),
    "volume": ("Số lượt phục vụ của điểm trong quý", "Citizens served at the point in the quarter"),
    "weight": ("Trọng số = số lượt phục vụ / số phiếu", "Weight = volume / responses"),
    "period": ("Quý (giờ Việt Nam)", "Quarter (Vietnam time)"),
    "channel": ("Kênh: qr, kiosk, paper, import", "Channel: qr, kiosk, paper, import"),
    "submitted_at": ("Thời điểm gửi (giờ Việt Nam)", "Time sent (Vietnam time)"),
    "agency_name": ("Tên cơ quan", "Agency name"),
    "questionnaire": ("Phiếu khảo sát (mã)", "Questionnaire (code)"),
    "questionnaire_version": (
        "Phiên bản phiếu khảo sát mà người trả lời đã trả lời",
        "Version of the questionnaire the response answered",
    ),
    "comment": ("Góp ý (đã che số điện thoại, email)", "Comment (phones and e-mails masked)"),
}
SCALE_NOTE = (
    "1 = Rất không hài lòng … 5 = Rất hài lòng; trống = không áp dụng / không hỏi",
    "1 = very dissatisfied … 5 = very satisfied; blank = not applicable / not asked",
)


def _rows(kind: str, lines: list[IndexLine], language: str, min_n: int) -> list[dict[str, object]]:
    rows = []
    for line in lines:
        e, t, v = line.estimate, line.target, line.verdict
        rows.append(
            {
                "level": kind,
                "key": line.key,
                "name": line.name(language),
                "sector": line.sector,
                "n": e.n,
                "n_eff": e.n_eff,
                "estimate": e.estimate,
                "se": e.se,
                "ci_low": e.ci_low,
                "ci_high": e.ci_high,
                "df": e.df,
                "deff": e.deff,
                "status": e.status,
                "target_low": t.low if t else None,
                "target_high": t.high if t else None,
                "verdict": v.verdict if v else None,
                "p_value_one_sided": v.p_value if v else None,
                "additional_responses": v.additional_n if v else None,
                "summary": line.summary(language, min_n),
            }
        )
    return rows


def indices_table(report: ScopeReport, language: str) -> pd.DataFrame:
    """Headline, sectors, agencies, service points and quarters of a report, one row each."""
    rows = _rows("scope", [report.headline], language, report.min_n)
    rows += _rows("sector", report.sectors, language, report.min_n)
    rows += _rows("agency", report.agencies, language, report.min_n)
    rows += _rows("service_point", report.points, language, report.min_n)
    rows += _rows("quarter", report.quarters, language, report.min_n)
    table = pd.DataFrame(rows)
    table.insert(0, "period", report.period.key)
    return table


def responses_in_scope(session: Session, report: ScopeReport) -> pd.DataFrame:
    table = responses_table(session, report.period.first, report.period.last)
    return table[table["agency"].isin(report.agency_codes)].reset_index(drop=True)


def codebook(session: Session) -> pd.DataFrame:
    rows = [
        {"column": column, "vi": vi, "en": en}
        for column, (vi, en) in COLUMN_NOTES.items()
        if column in LEADING_COLUMNS or column == "comment"
    ]
    for questionnaire in queries.all_questionnaires(session):
        if questionnaire.state == "draft":
            continue  # nobody answered it yet
        for item in questionnaire.items:
            rows.append(
                {
                    "column": f"q_{item.code}",
                    "vi": f"[{questionnaire.code} v{questionnaire.version}] {item.text_vi}. "
                    f"{SCALE_NOTE[0]}",
                    "en": f"[{questionnaire.code} v{questionnaire.version}] {item.text_en}. "
                    f"{SCALE_NOTE[1]}",
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ExportFile:
    """A file to hand to the reader: its bytes, media type and file name."""

    body: bytes
    mimetype: str
    filename: str


def export_file(
    table: pd.DataFrame, name: str, fmt: str, sheet: str, codebook: pd.DataFrame | None = None
) -> ExportFile:
    """CSV (UTF-8 with BOM) or XLSX (the table, and its codebook as a second sheet), with every
    text cell neutralised against formula injection (survey/services/spreadsheets.py)."""
    if fmt == "csv":
        return ExportFile(spreadsheets.csv_bytes(table), spreadsheets.CSV_MIMETYPE, f"{name}.csv")
    sheets = {sheet: table} if codebook is None else {sheet: table, "codebook": codebook}
    return ExportFile(spreadsheets.xlsx_bytes(sheets), spreadsheets.XLSX_MIMETYPE, f"{name}.xlsx")


def record_export(
    session: Session, actor: audit.Actor, report: ScopeReport, filename: str, rows: int | None
) -> None:
    """Note in the audit log that ``actor`` took a file of this report (and how many rows of
    responses it holds). The request commits it before the file is sent: a file whose taking
    could not be logged is not sent (the commit's failure is the answer)."""
    audit.record(
        session,
        actor,
        "export.downloaded",
        f"report:{report.scope_kind}/{report.scope_key or 'all'}",
        {"file": filename, "period": report.period.key, "rows": rows},
    )
    session.flush()
