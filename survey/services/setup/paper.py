"""Paper and legacy surveys: the template of a questionnaire version, and importing it filled in.

Template columns: ``service_point_code, submitted_at``, one ``q_<item code>`` per item (1–5, blank
for "not applicable" where the item allows it), ``comment``. XLSX templates carry two more sheets
that say what each item asks and which service points answer this questionnaire.

An import is all or nothing (every faulty cell reported), stored with channel ``paper`` or
``import``. Importing the same file again stores nothing new: each row's idempotency key is a hash
of the questionnaire version, the row's values (parsed, so a CSV and an XLSX of the same data give
the same keys) and how many identical rows came before it in the file. Sorting the file or adding
rows to it and importing it again therefore adds only the new rows. (Two batches that each hold
one identical row — same point, same moment, same answers and comment — count it once; the report
shows it as already stored.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
from sqlalchemy.orm import Session

from survey.services import audit, spreadsheets
from survey.services.errors import InvalidAnswers, InvalidInput
from survey.services.importing import DEFAULT_MAX_BYTES, ImportReport, open_table
from survey.services.local_time import VIETNAM_TIME
from survey.services.periods import FIRST_YEAR
from survey.services.responses import clean_comment
from survey.services.setup.organisation import file_label
from survey.services.setup.values import Cells
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import Answer, Questionnaire, Response, utc_now

IMPORT_CHANNELS = ("paper", "import")
LEADING = ("service_point_code", "submitted_at")
TRAILING = ("comment",)
_MOMENT = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})"
    r"(?:[ T](?P<time>\d{1,2}:\d{2}(?::\d{2})?)(?:\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?"
)


def template_columns(questionnaire: Questionnaire) -> list[str]:
    return [*LEADING, *(f"q_{item.code}" for item in questionnaire.items), *TRAILING]


def response_template(session: Session, questionnaire: Questionnaire, fmt: str) -> bytes:
    """The empty template as ``csv`` or ``xlsx`` (with the items and service points sheets)."""
    columns = template_columns(questionnaire)
    empty = pd.DataFrame(columns=columns)
    if fmt == "csv":
        return spreadsheets.csv_bytes(empty)
    if fmt != "xlsx":
        raise InvalidInput(
            "Mẫu nhập là tệp .csv hoặc .xlsx.", "The template is a .csv or an .xlsx file."
        )
    items = pd.DataFrame(
        [
            {
                "column": f"q_{item.code}",
                "question_vi": item.text_vi,
                "question_en": item.text_en,
                "not_applicable_allowed": "yes" if item.allows_not_applicable else "no",
            }
            for item in questionnaire.items
        ]
    )
    points = pd.DataFrame(
        [
            {
                "service_point_code": point.code,
                "service_point": point.name_vi,
                "agency": point.agency.name_vi,
                "open": "yes" if point.active else "no",
            }
            for point in queries.all_service_points(session)
            if point.agency.sector == questionnaire.sector
        ],
        columns=["service_point_code", "service_point", "agency", "open"],
    )
    return spreadsheets.xlsx_bytes({"responses": empty, "items": items, "service_points": points})


@dataclass(frozen=True)
class _Point:
    id: int
    sector: str
    valid_from: dt.date
    valid_to: dt.date | None


def import_responses(
    session: Session,
    source: str | Path | bytes | IO[bytes],
    questionnaire: Questionnaire,
    *,
    channel: str = "paper",
    actor: Any = None,
    filename: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Store the file's responses, all or nothing: or raise ``ImportRefused`` with nothing
    stored. Rows already stored by an earlier import of the same rows count as unchanged."""
    if channel not in IMPORT_CHANNELS:
        raise InvalidInput(
            "Kênh nhập là paper hoặc import.", "The channel of an import is paper or import."
        )
    if questionnaire.status == "draft":
        raise InvalidInput(
            "Phiếu này còn là bản nháp; hãy ban hành trước khi nhập phiếu trả lời.",
            "This questionnaire is a draft; publish it before importing responses to it.",
        )
    report = ImportReport()
    with all_or_nothing(session):
        table = open_table(
            source,
            required=template_columns(questionnaire),
            filename=filename,
            max_bytes=max_bytes,
            report=report,
        )
        rows = _read_rows(session, table, questionnaire, channel, report, now or utc_now())
        report.refuse_if_problems()
        existing = queries.existing_idempotency_keys(
            session, [r[0]["idempotency_key"] for r in rows]
        )
        new = [r for r in rows if r[0]["idempotency_key"] not in existing]
        if new:
            store_response_rows(session, new)
            report.count("added", "response", len(new))
        if existing:
            report.count("unchanged", "response", len(rows) - len(new))
        audit.record(
            session,
            actor,
            "responses.imported",
            f"file:{file_label(source, filename)}",
            {
                "questionnaire": f"{questionnaire.code}:{questionnaire.version}",
                "channel": channel,
                "rows": report.rows,
                "added": len(new),
                "already_stored": len(rows) - len(new),
            },
        )
        session.flush()
    if len(new) > 1000:
        queries.refresh_statistics(session)
    return report


def store_response_rows(
    session: Session, rows: list[tuple[dict[str, Any], dict[int, int | None]]]
) -> None:
    """Insert checked responses (column → value, with a unique ``idempotency_key``) and their
    answers (item id → value, None for not applicable) in the session's transaction: ``COPY`` on
    PostgreSQL. The one bulk path for paper imports and the demo province."""
    if not rows:
        return
    columns = list(rows[0][0])
    queries.copy_rows(
        session, Response.__table__, columns, ([r[c] for c in columns] for r, _ in rows)
    )
    ids = queries.response_ids_by_key(session, [r["idempotency_key"] for r, _ in rows])
    queries.copy_rows(
        session,
        Answer.__table__,
        ("response_id", "item_id", "value"),
        (
            (ids[response["idempotency_key"]], item, value)
            for response, answers in rows
            for item, value in answers.items()
        ),
    )


def _read_rows(
    session: Session,
    table: Any,
    questionnaire: Questionnaire,
    channel: str,
    report: ImportReport,
    now: dt.datetime,
) -> list[tuple[dict[str, Any], dict[int, int | None]]]:
    points = {
        point.code: _Point(
            point.id, point.agency.sector, point.agency.valid_from, point.agency.valid_to
        )
        for point in queries.all_service_points(session)
    }
    items = [(f"q_{item.code}", item) for item in questionnaire.items]
    reference = f"{questionnaire.code}:{questionnaire.version}"
    seen: Counter[str] = Counter()
    rows: list[tuple[dict[str, Any], dict[int, int | None]]] = []
    for row in table:
        report.rows += 1
        cells = Cells(row, report)
        code = row["service_point_code"]
        point = points.get(code)
        if point is None:
            cells.problem(
                "service_point_code",
                "Không có điểm phục vụ mang mã này.",
                "No service point has this code.",
            )
        elif point.sector != questionnaire.sector:
            cells.problem(
                "service_point_code",
                f"Điểm phục vụ thuộc lĩnh vực {point.sector}, phiếu thuộc lĩnh vực "
                f"{questionnaire.sector}.",
                f"The service point is in the {point.sector} sector, the questionnaire in "
                f"{questionnaire.sector}.",
            )
        moment = parse_moment(row["submitted_at"])
        if moment is None:
            cells.problem(
                "submitted_at",
                "Không phải thời điểm dạng 2025-07-03 08:30 hoặc 03/07/2025 (giờ Việt Nam).",
                "Not a moment like 2025-07-03 08:30 or 03/07/2025 (Vietnam time).",
            )
        elif moment > now or moment.year < FIRST_YEAR:
            cells.problem(
                "submitted_at",
                "Thời điểm ở tương lai hoặc quá xa trong quá khứ.",
                "The moment is in the future or too far in the past.",
            )
            moment = None
        elif point is not None:
            day = moment.astimezone(VIETNAM_TIME).date()
            if day < point.valid_from or (point.valid_to is not None and day >= point.valid_to):
                cells.problem(
                    "submitted_at",
                    "Cơ quan của điểm phục vụ không hoạt động vào ngày này (xem đơn vị kế thừa).",
                    "The service point's agency was not in service on that day (see its "
                    "successor).",
                )
        answers: dict[int, int | None] = {}
        for column, item in items:
            value = row[column]
            if not value:
                if not item.allows_not_applicable:
                    cells.problem(
                        column,
                        "Câu này cần một mức từ 1 đến 5 (không được để trống).",
                        "This question needs a rating from 1 to 5 (it cannot be blank).",
                    )
                answers[item.id] = None
            elif value in ("1", "2", "3", "4", "5"):
                answers[item.id] = int(value)
            else:
                cells.problem(
                    column,
                    "Mức đánh giá là số nguyên từ 1 đến 5, hoặc để trống nếu không áp dụng.",
                    "A rating is a whole number from 1 to 5, or blank for not applicable.",
                )
        comment = row["comment"]
        if comment[:1] in ("=", "+", "@"):
            cells.problem(
                "comment",
                "Ý kiến bắt đầu bằng =, + hoặc @ như một công thức; hãy bỏ ký tự đó.",
                "The comment starts with =, + or @ like a formula; remove it.",
            )
        try:
            stored_comment = clean_comment(comment or None)
        except InvalidAnswers as error:
            cells.problem("comment", error.message_vi, error.message_en)
            stored_comment = None
        if point is None or moment is None or report.problem_count:
            continue  # once a fault is found only checking goes on
        content = "\x1f".join(
            [
                reference,
                code,
                moment.astimezone(dt.UTC).isoformat(),
                *map(str, answers.values()),
                comment,
            ]
        )
        seen[content] += 1
        digest = hashlib.sha256(f"{content}\x1e{seen[content]}".encode()).hexdigest()
        rows.append(
            (
                {
                    "idempotency_key": f"file-{digest[:59]}",
                    "service_point_id": point.id,
                    "questionnaire_id": questionnaire.id,
                    "channel": channel,
                    "language": "vi",
                    "submitted_at": moment,
                    "comment": stored_comment,
                    "excluded": False,
                },
                answers,
            )
        )
    return rows


def parse_moment(text: str) -> dt.datetime | None:
    """``2025-07-03``, ``2025-07-03 08:30``, ``2025-07-03T08:30:00+07:00`` or ``03/07/2025 08:30``;
    without a zone, Vietnam time; a day alone is its midnight."""
    match = _MOMENT.fullmatch(text.strip())
    if match is None:
        return None
    date_text, time_text, zone = match.group("date", "time", "zone")
    try:
        if "/" in date_text:
            day_text, month_text, year_text = date_text.split("/")
            day = dt.date(int(year_text), int(month_text), int(day_text))
        else:
            day = dt.date.fromisoformat(date_text)
        clock = dt.time.fromisoformat(
            ("0" + time_text if time_text[1] == ":" else time_text) if time_text else "00:00"
        )
        tz = VIETNAM_TIME
        if zone:
            tz = dt.UTC if zone == "Z" else _offset(zone)
        return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC)
    except ValueError:
        return None


def _offset(zone: str) -> dt.timezone:
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise ValueError(zone)
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
