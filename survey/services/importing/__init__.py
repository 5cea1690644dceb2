"""Reading the files officials import (organisation, volumes, paper responses, dossiers).

Every import follows one contract, whatever it loads:

* **A file in, rows out.** ``open_table`` reads CSV (UTF-8 with or without BOM, or UTF-16 as
  Excel's "Unicode text"; comma, semicolon or tab, as the first line shows) or XLSX (the first
  worksheet), checks the header against the columns the import needs and yields one ``Row`` at a
  time, so a file of millions of rows is read in bounded memory. Cells are text, stripped; blank
  is ``""``; XLSX numbers and dates become the text an official would type (``12``, not
  ``12.0``; ``2025-07-01T08:30:00`` for a date-time cell).
* **All or nothing, with a row-level report.** The import's service checks every row and
  collects ``Problem``s (row, column, value, what is wrong, in Vietnamese and English) in an
  ``ImportReport``; if there is any, it raises ``ImportRefused``, and what the import wrote is
  undone (``all_or_nothing``, a savepoint in the request's or command's one transaction):
  nothing is partly stored. Row numbers are the file's own (the header is row 1), as the official
  sees them in Excel.
* **Refused before reading**: a file over the size limit, an encoding that is not UTF-8/UTF-16,
  a file that is neither CSV nor XLSX, missing or unknown or repeated columns, and XLSX cells that
  hold formulas (an import stores values, and a formula's cached value may be stale or absent).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from survey.services.errors import DomainError

__all__ = [
    "ImportRefused",
    "ImportReport",
    "Problem",
    "Row",
    "Table",
    "open_table",
]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
MAX_PROBLEMS_KEPT = 1000  # a report lists the first thousand; the count says how many in all
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One thing wrong with an imported file: where (row, column, value) and what, in vi and en.

    ``row`` is the file's row number (header = 1) or None for the file as a whole.
    """

    row: int | None
    column: str | None
    value: str | None
    message_vi: str
    message_en: str

    def message(self, language: str) -> str:
        return self.message_vi if language == "vi" else self.message_en

    def describe(self, language: str = "en") -> str:
        """``row 7, column month, value "2025-13": not a month like 2025-07``."""
        where = []
        if self.row is not None:
            where.append(f"dòng {self.row}" if language == "vi" else f"row {self.row}")
        if self.column:
            where.append(f"cột {self.column}" if language == "vi" else f"column {self.column}")
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "…"
            where.append(f"giá trị “{shown}”" if language == "vi" else f'value "{shown}"')
        prefix = ", ".join(where)
        return f"{prefix}: {self.message(language)}" if prefix else self.message(language)


@dataclass
class ImportReport:
    """What an import added, changed, left as it was and refused; its ``problems`` decide.

    Services count with ``added``/``changed``/``unchanged`` (per kind of record, e.g.
    ``added["agency"] += 1``) and call ``problem(...)`` for each fault; ``refuse_if_problems``
    raises ``ImportRefused`` when there is any.
    """

    added: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    rows: int = 0

    def count(self, outcome: str, kind: str, n: int = 1) -> None:
        """``outcome`` is ``added``, ``changed`` or ``unchanged``."""
        tally: dict[str, int] = getattr(self, outcome)
        tally[kind] = tally.get(kind, 0) + n

    def problem(
        self,
        row: int | None,
        column: str | None,
        value: str | None,
        message_vi: str,
        message_en: str,
    ) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(
                Problem(
                    row=row,
                    column=column,
                    value=value,
                    message_vi=message_vi,
                    message_en=message_en,
                )
            )

    def refuse_if_problems(self) -> None:
        if self.problem_count:
            raise ImportRefused(self)

    def summary(self, language: str = "en") -> str:
        """One line: ``added 12 agency, 40 service_point; changed 1 agency; unchanged 3 …``."""

        def tally(counts: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "0"

        if language == "vi":
            return (
                f"Thêm mới: {tally(self.added)}; thay đổi: {tally(self.changed)}; "
                f"giữ nguyên: {tally(self.unchanged)}."
            )
        return (
            f"Added: {tally(self.added)}; changed: {tally(self.changed)}; "
            f"unchanged: {tally(self.unchanged)}."
        )


class ImportRefused(DomainError):
    """The file was refused as a whole: nothing of it is stored. ``report.problems`` say why."""

    message_vi = "Tệp không được nhập: chưa có gì được lưu. Hãy sửa các lỗi dưới đây rồi nhập lại."
    message_en = "The file was not imported: nothing was stored. Fix the problems below and retry."

    def __init__(self, report: ImportReport) -> None:
        super().__init__()
        self.report = report

    @classmethod
    def single(
        cls, message_vi: str, message_en: str, *, column: str | None = None
    ) -> ImportRefused:
        report = ImportReport()
        report.problem(None, column, None, message_vi, message_en)
        return cls(report)


@dataclass(frozen=True)
class Row:
    """One data row: its row number in the file (header = 1) and its cells by column name."""

    number: int
    cells: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class Table:
    """An opened file: its columns and an iterator over its rows (read once, lazily)."""

    columns: list[str]
    rows: Iterator[Row]
    format: str  # "csv" or "xlsx"

    def __iter__(self) -> Iterator[Row]:
        return self.rows


def open_table(
    source: str | Path | bytes | IO[bytes],
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    filename: str | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    report: ImportReport | None = None,
) -> Table:
    """Open a CSV or XLSX file for import, or raise ``ImportRefused`` with a clear reason.

    ``source``: a path, the bytes of an upload, or a binary file object. ``filename`` (for
    uploads) and the content decide the format. Column names are matched without regard to case,
    surrounding spaces or a BOM; ``required`` must all be present, and nothing outside
    ``required`` + ``optional`` may be. A row with cells beyond the named columns is skipped
    with a problem in ``report`` (or refused at once when no report is given). Whole-file faults
    (size, encoding, format, header, a formula in an XLSX cell) raise ``ImportRefused``.
    """
    stream = _binary_stream(source, max_bytes)
    head = stream.read(4)
    stream.seek(0)
    name = filename or (str(source) if isinstance(source, str | Path) else "")
    kind = "xlsx" if head.startswith(XLSX_MAGIC) or name.lower().endswith(".xlsx") else "csv"
    try:
        header, rows = _xlsx_rows(stream) if kind == "xlsx" else _csv_rows(stream)
        columns = _check_header(header, required, optional)
    except BaseException:
        stream.close()
        raise
    sink = report if report is not None else ImportReport()

    def typed_rows() -> Iterator[Row]:
        try:
            for number, values in rows:
                if not any(v.strip() for v in values):
                    continue  # blank lines and rows left empty in a spreadsheet
                stray = [
                    v
                    for i, v in enumerate(values)
                    if v.strip() and (i >= len(columns) or not columns[i])
                ]
                if stray:
                    sink.problem(
                        number,
                        None,
                        stray[0],
                        "Ô có dữ liệu nằm ngoài các cột có tiêu đề (thừa dấu phân cách?).",
                        "A cell holds data outside the named columns (an extra separator?).",
                    )
                    if report is None:
                        sink.refuse_if_problems()
                    continue
                # Every named column has a cell, "" where a short row ends early: a column the
                # file has is told apart from one it has not (``column in row.cells``).
                padded = [*values, *[""] * (len(columns) - len(values))]
                cells = {
                    column: value.strip()
                    for column, value in zip(columns, padded, strict=False)
                    if column
                }
                yield Row(number, cells)
        finally:
            rows.close()  # closes the file, also when the import stops early

    return Table([c for c in columns if c], typed_rows(), kind)


def _binary_stream(source: str | Path | bytes | IO[bytes], max_bytes: int | None) -> IO[bytes]:
    """A seekable binary stream of the source, after the size and emptiness checks. Paths are
    read from disk as rows are consumed (bounded memory), not loaded whole."""
    stream: IO[bytes]
    if isinstance(source, bytes):
        stream = io.BytesIO(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ImportRefused.single(f"Không tìm thấy tệp {path}.", f"There is no file {path}.")
        stream = path.open("rb")
    elif source.seekable():
        stream = source
    else:
        stream = io.BytesIO(source.read(max_bytes + 1 if max_bytes is not None else -1))
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if max_bytes is not None and size > max_bytes:
        limit = (
            f"{max_bytes / (1024 * 1024):.0f} MB"
            if max_bytes >= 1024 * 1024
            else f"{max_bytes / 1024:.0f} KB"
        )
        stream.close()  # refused before reading: the file is closed here as on every other path
        raise ImportRefused.single(
            f"Tệp quá lớn (tối đa {limit}). Hãy chia thành nhiều tệp nhỏ hơn.",
            f"The file is too large (at most {limit}). Split it into smaller files.",
        )
    if not stream.read(64 * 1024).strip():
        stream.close()
        raise ImportRefused.single("Tệp trống.", "The file is empty.")
    stream.seek(0)
    return stream


def _not_utf8(line: int) -> ImportRefused:
    return ImportRefused.single(
        f"Tệp không phải UTF-8 (lỗi ở dòng {line}). Trong Excel hãy chọn “Lưu thành” → "
        "“CSV UTF-8 (Comma delimited)”, hoặc nhập tệp .xlsx.",
        f"The file is not UTF-8 (first bad byte on line {line}). In Excel choose "
        "“Save As” → “CSV UTF-8 (Comma delimited)”, or import the .xlsx file.",
    )


def _csv_rows(stream: IO[bytes]) -> tuple[list[str], Generator[tuple[int, list[str]], None, None]]:
    utf16 = stream.read(2) in (b"\xff\xfe", b"\xfe\xff")
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-16" if utf16 else "utf-8-sig", newline="")
    try:
        first_line = text.readline()
    except UnicodeDecodeError:
        raise _not_utf8(_first_bad_line(stream)) from None
    delimiter = max((",", ";", "\t"), key=first_line.count)
    text.seek(0)
    reader = csv.reader(text, delimiter=delimiter)

    def refusal(error: Exception) -> ImportRefused:
        line = reader.line_num + 1
        if isinstance(error, UnicodeDecodeError):
            return _not_utf8(_first_bad_line(stream))
        return ImportRefused.single(
            f"Tệp CSV hỏng ở dòng {line}: {error}.",
            f"The CSV file is malformed at line {line}: {error}.",
        )

    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused.single(
            "Tệp không có dòng tiêu đề.", "The file has no header row."
        ) from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise refusal(error) from None

    def rows() -> Generator[tuple[int, list[str]], None, None]:
        try:
            for values in reader:
                if "\x00" in "".join(values):
                    raise ImportRefused.single(
                        "Tệp chứa ký tự nhị phân; đây không phải tệp CSV.",
                        "The file holds binary data; it is not a CSV file.",
                    )
                yield reader.line_num, values
        except (csv.Error, UnicodeDecodeError) as error:
            raise refusal(error) from None
        finally:
            text.close()  # and the file under it

    return header, rows()


def _first_bad_line(stream: IO[bytes]) -> int:
    """The number of the first line that is not UTF-8 (the error path only: reads the file)."""
    stream.seek(0)
    for number, line in enumerate(stream, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return 1


def _xlsx_rows(stream: IO[bytes]) -> tuple[list[str], Generator[tuple[int, list[str]], None, None]]:
    from openpyxl import load_workbook

    try:  # open_table closes the stream if this raises
        book = load_workbook(stream, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportRefused.single(
            "Tệp không phải tệp Excel .xlsx hợp lệ.", "The file is not a valid Excel .xlsx file."
        ) from None
    sheet = book.worksheets[0]
    values = sheet.iter_rows()
    try:
        header = [_cell_text(cell, 1, "") for cell in next(values)]
    except StopIteration:
        raise ImportRefused.single("Bảng tính trống.", "The worksheet is empty.") from None

    def rows() -> Generator[tuple[int, list[str]], None, None]:
        try:
            for number, row in enumerate(values, start=2):
                cells = [
                    _cell_text(cell, number, header[i] if i < len(header) else "")
                    for i, cell in enumerate(row)
                ]
                yield number, cells
        finally:
            book.close()
            stream.close()

    return header, rows()


def _cell_text(cell: Any, row: int, column: str) -> str:
    value = cell.value
    if value is None:
        return ""
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value[:1] == "="):
        raise ImportRefused(
            _one(
                row,
                column,
                str(value),
                "Ô chứa công thức; hãy dán giá trị (Paste Values) thay cho công thức.",
                "The cell holds a formula; paste its value (Paste Values) instead.",
            )
        )
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _one(row: int, column: str, value: str, message_vi: str, message_en: str) -> ImportReport:
    report = ImportReport()
    report.problem(row, column or None, value, message_vi, message_en)
    return report


def _check_header(header: list[str], required: Sequence[str], optional: Sequence[str]) -> list[str]:
    known = {name.lower(): name for name in (*required, *optional)}
    report = ImportReport()
    columns: list[str] = []
    for raw in header:
        name = raw.strip().lstrip("\ufeff").strip().lower()
        if not name:
            columns.append("")
            continue
        if name not in known:
            report.problem(
                1,
                raw,
                None,
                f"Cột không dùng cho lần nhập này. Các cột cần có: {', '.join(required)}.",
                f"This import has no such column. Expected columns: {', '.join(required)}.",
            )
        elif known[name] in columns:
            report.problem(1, raw, None, "Cột bị lặp lại.", "The column appears twice.")
        columns.append(known.get(name, ""))
    for name in required:
        if name not in columns:
            report.problem(1, name, None, "Thiếu cột bắt buộc.", "A required column is missing.")
    report.refuse_if_problems()
    return columns
