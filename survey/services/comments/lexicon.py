"""The topic lexicon: Vietnamese terms, each with the topic it points to and how it points.

The shipped lexicon is ``default_lexicon.csv`` beside this module (columns ``topic``, ``term``,
``polarity``; UTF-8). A province changes it from the admin page or by importing a CSV of the same
columns plus ``action`` (``add``, the default, or ``remove``); its changes are stored in
``comment_lexicon_term`` and the tagger uses the *effective* lexicon: shipped terms, minus those
the province removed, plus those it added (an added term replaces a shipped one of the same topic
and text, so a polarity can be changed).

``topic`` is a topic code (``survey.services.comments.topics``) or one of two helpers:

* ``general`` — an evaluation without a topic of its own (``tốt``, ``hài lòng``, ``kém``,
  ``chậm``); it judges the aspects named in the same clause.
* ``wish`` — a suggestion marker (``nên``, ``cần``, ``mong``, ``đề nghị``); what follows it in
  its clause is read as something missing (``nên có thêm ghế chờ`` is a facilities complaint).

``polarity`` (in files a word, so that no spreadsheet reads it as a formula; ``-``, ``+``, ``=``,
``0`` in the database):

* ``complaint`` (``-``) a complaint cue (``hách dịch``, ``trễ hẹn``; ``kém`` for ``general``);
* ``praise`` (``+``) a praise cue (``nhiệt tình``, ``đúng hẹn``; ``tốt`` for ``general``); negated
  (``không nhiệt tình``) it becomes a complaint about its topic;
* ``aspect`` (``=``) an aspect, neutral by itself (``thái độ``, ``thủ tục``, ``nhà vệ sinh``):
  tagged when its clause holds a negative evaluation (``thái độ kém``, ``nhà vệ sinh bẩn``) or
  when it follows a wish; ``wish`` terms are aspects;
* ``ignore`` (``0``) a phrase to ignore: it only hides the shorter terms inside it (``mong chờ``).

Terms are written with their diacritics, one to six syllables; matching is described in
``tagger.py``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from survey.services.comments.topics import TOPIC_CODES
from survey.services.importing import ImportReport, Row, open_table

DEFAULT_LEXICON = Path(__file__).with_name("default_lexicon.csv")
HELPER_TOPICS = ("general", "wish")
LEXICON_TOPICS = (*TOPIC_CODES, *HELPER_TOPICS)
POLARITIES = ("-", "+", "=", "0")
POLARITY_WORDS = {"-": "complaint", "+": "praise", "=": "aspect", "0": "ignore"}
_POLARITY_OF = {
    **{word: symbol for symbol, word in POLARITY_WORDS.items()},
    **{symbol: symbol for symbol in POLARITIES},
    "phàn nàn": "-",
    "khen": "+",
    "khía cạnh": "=",
    "bỏ qua": "0",
    "": "-",
}
ACTIONS = ("add", "remove")
MAX_SYLLABLES = 6
MAX_TERM_LENGTH = 80
_SYLLABLE = re.compile(r"^[\w]+$")


@dataclass(frozen=True, order=True)
class Term:
    topic: str
    text: str  # NFC, lower case, single spaces
    polarity: str

    @property
    def key(self) -> tuple[str, str]:
        return self.topic, self.text


@dataclass(frozen=True)
class LexiconChange:
    """One change a province made: ``add`` (or replace) a term, or ``remove`` a shipped one."""

    topic: str
    text: str
    polarity: str
    action: str


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]

    @functools.cached_property
    def version(self) -> str:
        """12 hex digits that change whenever any term changes: stored with each tagged comment,
        so that comments tagged by an older lexicon are tagged again."""
        text = "\n".join(f"{t.topic}|{t.text}|{t.polarity}" for t in sorted(self.terms))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def by_topic(self) -> dict[str, list[Term]]:
        grouped: dict[str, list[Term]] = {topic: [] for topic in LEXICON_TOPICS}
        for term in sorted(self.terms, key=lambda t: (t.topic, t.polarity, t.text)):
            grouped.setdefault(term.topic, []).append(term)
        return grouped


def normalise_term(text: str) -> str:
    """NFC, lower case, single spaces: how terms are stored and compared."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def check_term(topic: str, text: str, polarity: str) -> tuple[str, str] | None:
    """What is wrong with a term (Vietnamese, English), or None when it is fine."""
    if topic not in LEXICON_TOPICS:
        return (
            f"Chủ đề không hợp lệ; dùng một trong: {', '.join(LEXICON_TOPICS)}.",
            f"Unknown topic; use one of: {', '.join(LEXICON_TOPICS)}.",
        )
    if polarity not in POLARITIES:
        return (
            "Loại không hợp lệ; dùng complaint (phàn nàn), praise (khen), aspect (khía cạnh) "
            "hoặc ignore (bỏ qua).",
            "Unknown polarity; use complaint, praise, aspect or ignore.",
        )
    if topic == "wish" and polarity not in ("=", "0"):
        return ("Từ đề nghị có loại aspect.", "A wish marker is an aspect.")
    if topic == "general" and polarity == "=":
        return (
            "Từ đánh giá chung có loại complaint hoặc praise.",
            "A general evaluation is a complaint or a praise cue.",
        )
    if topic == "praise" and polarity in ("-", "="):
        return (
            "Chủ đề khen ngợi có loại praise hoặc ignore.",
            "The praise topic takes praise or ignore.",
        )
    syllables = text.split()
    if not syllables or len(text) > MAX_TERM_LENGTH or len(syllables) > MAX_SYLLABLES:
        return (
            f"Cụm từ phải có từ 1 đến {MAX_SYLLABLES} tiếng, tối đa {MAX_TERM_LENGTH} ký tự.",
            f"A term has 1 to {MAX_SYLLABLES} syllables and at most {MAX_TERM_LENGTH} characters.",
        )
    if not all(_SYLLABLE.match(syllable) for syllable in syllables):
        return (
            "Cụm từ chỉ gồm chữ và số, cách nhau bằng dấu cách.",
            "A term holds letters and digits only, separated by spaces.",
        )
    return None


def read_terms(
    source: str | Path | bytes, report: ImportReport, *, with_action: bool, filename: str = ""
) -> list[LexiconChange]:
    """Terms of a lexicon file (CSV or XLSX, ``survey.services.importing``); faults go to
    ``report`` with their row. Repeated (topic, term) pairs are refused."""
    table = open_table(
        source,
        required=("topic", "term"),
        optional=("polarity", "action") if with_action else ("polarity",),
        filename=filename or None,
        max_bytes=2 * 1024 * 1024,
        report=report,
    )
    changes: list[LexiconChange] = []
    seen: dict[tuple[str, str], int] = {}
    for row in table:
        change = _change_of(row, report)
        if change is None:
            continue
        first = seen.setdefault((change.topic, change.text), row.number)
        if first != row.number:
            report.problem(
                row.number,
                "term",
                change.text,
                f"Cụm từ này đã có ở dòng {first} cho cùng chủ đề.",
                f"This term is already on row {first} for the same topic.",
            )
            continue
        changes.append(change)
    report.rows = len(changes)
    return changes


def _change_of(row: Row, report: ImportReport) -> LexiconChange | None:
    topic = row["topic"].strip().lower()
    text = normalise_term(row["term"])
    written = row["polarity"].strip().lstrip("'").strip().lower()
    polarity = _POLARITY_OF.get(written, written)
    action = row["action"].strip().lower() or "add"
    if action not in ACTIONS:
        report.problem(
            row.number,
            "action",
            action,
            "Thao tác phải là add (thêm) hoặc remove (bỏ).",
            "The action is add or remove.",
        )
        return None
    fault = check_term(topic, text, polarity)
    if fault is not None:
        column = "topic" if topic not in LEXICON_TOPICS else "term"
        if topic in LEXICON_TOPICS and polarity not in POLARITIES:
            column = "polarity"
        report.problem(row.number, column, row[column], *fault)
        return None
    return LexiconChange(topic, text, polarity, action)


@functools.cache
def default_lexicon() -> Lexicon:
    """The shipped lexicon (read once per process)."""
    report = ImportReport()
    changes = read_terms(DEFAULT_LEXICON, report, with_action=False)
    if report.problem_count:
        raise RuntimeError(
            "default_lexicon.csv is broken: "
            + "; ".join(problem.describe() for problem in report.problems[:5])
        )
    return Lexicon(tuple(Term(c.topic, c.text, c.polarity) for c in changes))


def effective_lexicon(base: Lexicon, changes: Iterable[LexiconChange]) -> Lexicon:
    """``base`` with a province's changes applied (additions replace, removals drop)."""
    terms = {term.key: term for term in base.terms}
    for change in changes:
        key = (change.topic, change.text)
        if change.action == "remove":
            terms.pop(key, None)
        else:
            terms[key] = Term(change.topic, change.text, change.polarity)
    return Lexicon(tuple(sorted(terms.values())))


def lexicon_csv(lexicon: Lexicon) -> bytes:
    """The lexicon as the CSV it is imported from (UTF-8 with BOM, for Excel; polarities as
    words, and terms are letters and digits only, so no cell can start a formula)."""
    out = io.StringIO()
    out.write("topic,term,polarity\n")
    for term in _sorted(lexicon.terms):
        out.write(f"{term.topic},{term.text},{POLARITY_WORDS[term.polarity]}\n")
    return out.getvalue().encode("utf-8-sig")


def _sorted(terms: Iterable[Term]) -> Iterator[Term]:
    order = {topic: i for i, topic in enumerate(LEXICON_TOPICS)}
    yield from sorted(terms, key=lambda t: (order.get(t.topic, 99), t.polarity, t.text))
