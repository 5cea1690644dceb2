"""Exports officials open in Excel: index tables and raw responses, CSV (UTF-8 with BOM) or XLSX.

Numbers are exported at full precision as proportions (0.784 for 78.4%), so that they can be
checked against ``python -m analysis`` on the exported responses. In XLSX the same values are
shown with number formats: shares as percent cells (0.0%, the cell still holds 0.784), counts
with thousands separators, intervals as two numeric columns, and the time a response was sent
as a real date-time cell in Vietnam time (dd/mm/yyyy hh:mm). Each XLSX has a codebook sheet
that says what every column means. CSV keeps the plain values (UTF-8 with BOM).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.exports import LEADING_COLUMNS, responses_table
from survey.services.local_time import VIETNAM_TIME
from survey.services.reporting import IndexLine, ScopeReport
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
INDEX_NOTES = {
    "period": ("Kỳ báo cáo", "Report period"),
    "level": (
        "Dòng của bảng: scope (toàn phạm vi), sector (lĩnh vực), agency (cơ quan), "
        "service_point (điểm phục vụ), quarter (quý)",
        "Row kind: scope (the whole scope), sector, agency, service_point, quarter",
    ),
    "key": (
        "Mã của dòng (mã cơ quan, mã QR, quý…)",
        "Key of the row (agency code, QR code, quarter…)",
    ),
    "name": ("Tên", "Name"),
    "sector": ("Lĩnh vực", "Sector"),
    "n": ("Số phiếu có câu trả lời hài lòng chung", "Responses answering the overall question"),
    "n_eff": (
        "Cỡ mẫu hiệu dụng (n chia cho hệ số thiết kế)",
        "Effective sample size (n over the design effect)",
    ),
    "estimate": (
        "Tỷ lệ hài lòng (mức 4–5), có trọng số thiết kế",
        "Share satisfied (answers 4–5), design-weighted",
    ),
    "se": ("Sai số chuẩn của tỷ lệ", "Standard error of the share"),
    "ci_low": ("Cận dưới khoảng tin cậy 95%", "Lower end of the 95% confidence interval"),
    "ci_high": ("Cận trên khoảng tin cậy 95%", "Upper end of the 95% confidence interval"),
    "df": ("Bậc tự do của thiết kế", "Degrees of freedom of the design"),
    "deff": ("Hệ số thiết kế (deff)", "Design effect (deff)"),
    "status": (
        "ok; insufficient_data (dưới số phiếu tối thiểu); variance_not_estimable",
        "ok; insufficient_data (below the minimum responses); variance_not_estimable",
    ),
    "target_low": (
        "Mục tiêu (hoặc cận dưới của khoảng mục tiêu)",
        "Target (or the band's lower end)",
    ),
    "target_high": ("Cận trên của khoảng mục tiêu (nếu có)", "The band's upper end (if any)"),
    "verdict": (
        "Kết luận so với mục tiêu: met (đạt), not_met (chưa đạt), undetermined (chưa kết luận "
        "được), within_band / above_band / below_band",
        "Verdict against the target: met, not_met, undetermined, within_band / above_band / "
        "below_band",
    ),
    "p_value_one_sided": ("Giá trị p một phía của kết luận", "One-sided p-value of the verdict"),
    "additional_responses": (
        "Số phiếu cần thêm để kết luận được (xác suất 80%)",
        "Responses still needed to decide (80% chance)",
    ),
    "summary": ("Câu tóm tắt", "Summary sentence"),
}
# Excel number formats of the exported columns (XLSX only; CSV keeps plain values).
FORMATS = {
    **dict.fromkeys(
        ("estimate", "ci_low", "ci_high", "target_low", "target_high"), spreadsheets.PERCENT
    ),
    "se": "0.00%",
    **dict.fromkeys(("n", "additional_responses", "volume"), spreadsheets.COUNT),
    "n_eff": "#,##0.0",
    "df": spreadsheets.COUNT,
    "deff": "0.00",
    "p_value_one_sided": "0.000",
    "weight": "#,##0.00",
    "submitted_at": spreadsheets.DATE_TIME,
    "read_at": spreadsheets.DATE_TIME,
}
TIME_COLUMNS = ("submitted_at", "read_at")
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


def indices_codebook(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """What each column of the indices table means, in the reader's language."""
    vi = language == "vi"
    return pd.DataFrame(
        {
            "column": list(table.columns),
            ("ý nghĩa" if vi else "meaning"): [
                INDEX_NOTES.get(str(c), ("", ""))[0 if vi else 1] for c in table.columns
            ],
        }
    )


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
    text cell neutralised against formula injection (survey/services/spreadsheets.py). In XLSX,
    shares, counts and times get their number formats and times become date-time cells."""
    if fmt == "csv":
        return ExportFile(spreadsheets.csv_bytes(table), spreadsheets.CSV_MIMETYPE, f"{name}.csv")
    table = with_date_times(table)
    sheets = {sheet: table} if codebook is None else {sheet: table, "codebook": codebook}
    body = spreadsheets.xlsx_bytes(sheets, FORMATS)
    return ExportFile(body, spreadsheets.XLSX_MIMETYPE, f"{name}.xlsx")


def local_date_time(value: object) -> object:
    """A time as Excel should hold it: the wall-clock time in Vietnam, without a zone (Excel has
    none; the codebook says the times are Vietnam's). "2025-03-01T03:00:00+0000" and
    "2025-03-01T10:00:00+0700" both give 01/03/2025 10:00; a text without a zone is already
    Vietnam's time; anything that is not a time is kept as it is."""
    moment = value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return value or None
    if not isinstance(moment, dt.datetime):
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return moment


def with_date_times(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its time columns as date-time values (for XLSX)."""
    times = [column for column in TIME_COLUMNS if column in table]
    if not times:
        return table
    return table.assign(
        **{column: table[column].map(local_date_time).astype(object) for column in times}
    )


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
