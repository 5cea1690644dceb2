"""The filed report as one document model that both renderers draw: the PDF (``pdf.py``) and the
Word document (``word.py``) hold the same header, the same tables with the same cells, the same
charts and the same closing, because both read a ``FiledDocument`` built here once.

Every number and date is written by ``survey.formatting`` (Babel) in the document's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from survey.formatting import day, number, percent, percent_range
from survey.services.filing.details import FilingDetails, unprintable
from survey.services.filing.print_charts import PrintChart
from survey.services.filing.topics import CommentTopics
from survey.services.filing.wording import VERDICTS, method_note, words
from survey.services.periods import parse_period
from survey.services.reporting import AppliedTarget, IndexLine, ScopeReport

EXAMPLES = 5  # comments quoted when the report includes comments


@dataclass(frozen=True, kw_only=True)
class Heading:
    text: str


@dataclass(frozen=True, kw_only=True)
class Paragraph:
    text: str
    bullet: bool = False  # a "- " item rather than an indented paragraph
    small: bool = False  # notes under a table


@dataclass(frozen=True, kw_only=True)
class Table:
    """A table with a caption, a header row and text cells (already formatted)."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # shares of the text width, adding up to 1
    numeric: tuple[bool, ...]  # right-aligned columns


@dataclass(frozen=True, kw_only=True)
class Figure:
    caption: str
    chart: PrintChart


Block = Heading | Paragraph | Table | Figure


@dataclass(frozen=True, kw_only=True)
class FiledDocument:
    """A report in the layout of an administrative document (Decree 30/2020/NĐ-CP)."""

    language: str
    governing_body: str
    issuing_body: str
    number_line: str
    emblem: str
    motto: str
    place_date: str
    kind: str  # "BÁO CÁO"
    title: str
    translation_note: str
    blocks: list[Block] = field(default_factory=list)
    recipients_label: str = ""
    recipients: list[str] = field(default_factory=list)
    authority: str = ""
    signer_title: str = ""
    signer_name: str = ""

    def tables(self) -> list[Table]:
        return [block for block in self.blocks if isinstance(block, Table)]

    def figures(self) -> list[Figure]:
        return [block for block in self.blocks if isinstance(block, Figure)]


INDEX_WIDTHS = (0.34, 0.09, 0.11, 0.17, 0.10, 0.19)
INDEX_NUMERIC = (False, True, True, True, True, False)


def index_header(language: str, first: str) -> tuple[str, ...]:
    w = words(language)
    return (first, "n", w["share"], w["ci"], w["target"], w["verdict"])


def target_text(target: AppliedTarget | None, language: str) -> str:
    if target is None:
        return "—"
    decimals = 0 if abs(100 * target.low - round(100 * target.low)) < 1e-9 else 1
    if target.high is not None:
        return percent_range(target.low, target.high, language, decimals)
    return "≥ " + percent(target.low, language, decimals)


def verdict_text(line: IndexLine, language: str, min_n: int) -> str:
    w = words(language)
    status = line.estimate.status
    if status == "insufficient_data":
        return w["too_few"].format(min_n=number(min_n, language))
    if status != "ok":
        return w["not_estimable"]
    if line.verdict is None:
        return "—"
    return str(
        VERDICTS["en" if language == "en" else "vi"].get(line.verdict.verdict, line.verdict.verdict)
    )


def line_name(line: IndexLine, language: str) -> str:
    name = line.name(language)
    mark = words(language)["retired"]
    if line.retired and mark not in name:
        name = f"{name} ({mark})"
    return name


def index_row(line: IndexLine, language: str, min_n: int, name: str = "") -> tuple[str, ...]:
    """One row of an index table: unit, n, share, 95% interval, target, verdict."""
    e = line.estimate
    shown = e.status == "ok" and e.estimate is not None
    return (
        name or line_name(line, language),
        number(e.n, language),
        percent(e.estimate, language) if shown else "—",
        percent_range(e.ci_low, e.ci_high, language) if shown else "—",
        target_text(line.target, language),
        verdict_text(line, language, min_n),
    )


def _quarter_name(line: IndexLine, language: str) -> str:
    try:
        return parse_period(line.key).label(language)
    except Exception:  # a key that is not a period: shown as it is
        return line.key


class _Numbers:
    """Table and figure numbers, in order."""

    def __init__(self) -> None:
        self.tables = 0
        self.figures = 0

    def table(self) -> int:
        self.tables += 1
        return self.tables

    def figure(self) -> int:
        self.figures += 1
        return self.figures


def _headline_and_sectors(report: ScopeReport) -> list[IndexLine]:
    """The headline, then each sector (none when the scope is one sector: the headline is it)."""
    return [report.headline, *(report.sectors if len(report.sectors) > 1 else [])]


def _summary(report: ScopeReport, language: str) -> list[Block]:
    w = words(language)
    blocks: list[Block] = [
        Paragraph(
            text=f"{w['scope']}: {report.title(language)}. {w['period']}: "
            f"{report.period.label(language)}. {w['responses']}: "
            f"{number(report.responses, language)}."
        )
    ]
    if report.responses == 0:
        return [*blocks, Paragraph(text=w["none"])]
    for line in _headline_and_sectors(report):
        blocks.append(Paragraph(text=line.summary(language, report.min_n), bullet=True))
    change = report.change_summary(language)
    blocks.append(
        Paragraph(text=f"{w['change']} {change}" if change else report.no_change_reason(language))
    )
    comparisons = report.comparison_summaries(language)
    if comparisons:
        blocks.append(Paragraph(text=w["comparison"]))
        blocks += [Paragraph(text=sentence, bullet=True) for sentence in comparisons]
    return blocks


def _tables(report: ScopeReport, language: str, numbers: _Numbers) -> list[Block]:
    w = words(language)
    min_n = report.min_n
    blocks: list[Block] = []
    if report.responses == 0:
        return [Paragraph(text=w["none"])]
    sector_rows = [index_row(line, language, min_n) for line in _headline_and_sectors(report)]
    blocks.append(
        Table(
            caption=w["by_sector"].format(n=numbers.table()),
            header=index_header(language, w["sector"]),
            rows=tuple(sector_rows),
            widths=INDEX_WIDTHS,
            numeric=INDEX_NUMERIC,
        )
    )
    units = report.points if report.scope_kind == "agency" else report.agencies
    if units:
        caption = w["by_point"] if report.scope_kind == "agency" else w["by_agency"]
        blocks.append(
            Table(
                caption=caption.format(n=numbers.table()),
                header=index_header(language, w["unit"]),
                rows=tuple(index_row(line, language, min_n) for line in units),
                widths=INDEX_WIDTHS,
                numeric=INDEX_NUMERIC,
            )
        )
    if report.quarters:
        blocks.append(
            Table(
                caption=w["by_quarter"].format(n=numbers.table()),
                header=index_header(language, w["quarter"]),
                rows=tuple(
                    index_row(line, language, min_n, _quarter_name(line, language))
                    for line in report.quarters
                ),
                widths=INDEX_WIDTHS,
                numeric=INDEX_NUMERIC,
            )
        )
    if report.coverage:
        blocks.append(Paragraph(text=w["coverage"].format(min_n=number(min_n, language))))
        for point in report.coverage[:60]:
            agency = point.agency_vi if language == "vi" else point.agency_en
            desk = point.point_vi if language == "vi" else point.point_en
            blocks.append(
                Paragraph(
                    text=f"{agency} — {desk}: n = {number(point.responses, language)}",
                    bullet=True,
                    small=True,
                )
            )
    return blocks


def _figures(charts: list[PrintChart], language: str, numbers: _Numbers) -> list[Block]:
    w = words(language)
    if not charts:
        return [Paragraph(text=w["no_charts"])]
    blocks: list[Block] = []
    for chart in charts:
        title = chart.title
        if chart.parts > 1:
            title += w["part"].format(part=chart.part, parts=chart.parts)
        blocks.append(
            Figure(caption=w["figure"].format(n=numbers.figure(), title=title), chart=chart)
        )
    return blocks


def printable(text: str) -> str:
    """A citizen's text without what the document cannot print (emoji, control characters)."""
    dropped = unprintable(text)
    return "".join(c for c in text if c not in dropped and (c.isprintable() or c == " "))


def _comment_date(stamp: str, language: str) -> str:
    try:
        return day(dt.date.fromisoformat(stamp[:10]), language)
    except ValueError:
        return stamp


def _comments(
    report: ScopeReport, topics: CommentTopics | None, language: str, numbers: _Numbers
) -> list[Block]:
    w = words(language)
    blocks: list[Block] = []
    if topics is not None:
        if topics.total == 0:
            blocks.append(Paragraph(text=w["comments_none"]))
        else:
            blocks.append(
                Paragraph(
                    text=w["comments_total"].format(
                        total=number(topics.total, language), tagged=number(topics.tagged, language)
                    )
                )
            )
            if topics.tagged < topics.total:
                untagged = number(topics.total - topics.tagged, language)
                blocks.append(Paragraph(text=w["comments_untagged"].format(untagged=untagged)))
            if topics.tagged:
                blocks.append(
                    Table(
                        caption=w["by_topic"].format(n=numbers.table()),
                        header=(w["topic"], w["count"], w["of_tagged"]),
                        rows=tuple(
                            (
                                line.name(language),
                                number(line.count, language),
                                percent(line.share, language),
                            )
                            for line in sorted(topics.topics, key=lambda t: -t.count)
                        ),
                        widths=(0.56, 0.18, 0.26),
                        numeric=(False, True, True),
                    )
                )
                blocks.append(Paragraph(text=w["comments_caveat"], small=True))
    if report.comments:
        blocks.append(Paragraph(text=w["examples"]))
        for comment in report.comments[:EXAMPLES]:
            blocks.append(
                Paragraph(
                    text=f"“{printable(comment.text).strip()}” — {comment.agency_vi}, "
                    f"{_comment_date(comment.submitted_at, language)}",
                    bullet=True,
                )
            )
    return blocks


def build_document(
    report: ScopeReport,
    details: FilingDetails,
    language: str,
    charts: list[PrintChart],
    topics: CommentTopics | None = None,
) -> FiledDocument:
    """The filed report of ``report``: header from ``details``, then summary against targets,
    tables, charts, comments (topic counts when given; a few examples when the report carries
    comments) and the method note, then recipients and signature."""
    w = words(language)
    numbers = _Numbers()
    sections: list[tuple[str, list[Block]]] = [
        (w["summary"], _summary(report, language)),
        (w["tables"], _tables(report, language, numbers)),
        (w["charts"], _figures(charts, language, numbers)),
    ]
    if topics is not None or report.comments:  # a public report leaves comments out entirely
        sections.append((w["comments"], _comments(report, topics, language, numbers)))
    sections.append((w["method"], [Paragraph(text=method_note(report, language))]))
    blocks: list[Block] = []
    for position, (heading, content) in enumerate(sections, start=1):
        blocks += [Heading(text=f"{position}. {heading}"), *content]
    return FiledDocument(
        language=language,
        governing_body=details.governing_body,
        issuing_body=details.issuing_body,
        number_line=details.number_line(language),
        emblem=w["emblem"],
        motto=w["motto"],
        place_date=details.place_date(language),
        kind=w["kind"],
        title=details.title,
        translation_note=w["translation"],
        blocks=blocks,
        recipients_label=w["recipients"],
        recipients=details.recipient_lines(language),
        authority=details.authority,
        signer_title=details.signer_title,
        signer_name=details.signer_name,
    )
