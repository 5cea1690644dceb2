"""The province's changes to the topic lexicon: one term at a time, or a whole file; audited.

Province administrators see the effective lexicon (shipped terms with the province's changes),
add or change a term, remove one, put a shipped term back, download the lexicon as CSV, edit it
in Excel and import it again: an import describes the *whole* lexicon the province wants, and is
stored as its differences from the shipped one (terms missing from the file are removed). It is
all or nothing: a file with any faulty row changes nothing and lists every fault.

Comments already tagged are tagged again lazily (the lexicon's version changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from survey.services import audit
from survey.services.comments.lexicon import (
    Lexicon,
    LexiconChange,
    Term,
    check_term,
    default_lexicon,
    normalise_term,
    read_terms,
)
from survey.services.comments.tagging import current_lexicon
from survey.services.errors import InvalidInput, NotFound
from survey.services.importing import ImportReport
from survey.storage import queries
from survey.storage.models import CommentLexiconTerm, utc_now


@dataclass(frozen=True)
class LexiconEntry:
    term: Term
    source: str  # shipped | added | changed


@dataclass(frozen=True)
class LexiconPage:
    lexicon: Lexicon
    entries: dict[str, list[LexiconEntry]]  # by topic
    removed: list[Term]  # shipped terms the province removed


def lexicon_page(session: Session) -> LexiconPage:
    shipped = {term.key: term for term in default_lexicon().terms}
    lexicon = current_lexicon(session)
    entries: dict[str, list[LexiconEntry]] = {}
    for topic, terms in lexicon.by_topic().items():
        entries[topic] = []
        for term in terms:
            base = shipped.get(term.key)
            source = "shipped" if base == term else "added" if base is None else "changed"
            entries[topic].append(LexiconEntry(term, source))
    present = {term.key for term in lexicon.terms}
    removed = sorted(term for key, term in shipped.items() if key not in present)
    return LexiconPage(lexicon, entries, removed)


def set_term(
    session: Session, actor: audit.Actor, topic: str, text: str, polarity: str
) -> LexiconChange:
    """Add a term or change its polarity (back to the shipped one: the change is dropped)."""
    text = normalise_term(text)
    fault = check_term(topic, text, polarity)
    if fault is not None:
        raise InvalidInput(*fault)
    shipped = {term.key: term for term in default_lexicon().terms}
    existing = queries.lexicon_change(session, topic, text)
    if shipped.get((topic, text)) == Term(topic, text, polarity):
        if existing is not None:
            session.delete(existing)
    elif existing is not None:
        existing.polarity, existing.action = polarity, "add"
        existing.changed_at, existing.changed_by_id = utc_now(), actor.id
    else:
        session.add(
            CommentLexiconTerm(
                topic=topic, term=text, polarity=polarity, action="add", changed_by_id=actor.id
            )
        )
    audit.record(
        session,
        actor,
        "comment_lexicon.changed",
        f"lexicon:{topic}/{text}",
        {"polarity": polarity},
    )
    session.flush()
    return LexiconChange(topic, text, polarity, "add")


def remove_term(session: Session, actor: audit.Actor, topic: str, text: str) -> None:
    """Take a term out of the lexicon (a shipped one is remembered as removed)."""
    text = normalise_term(text)
    shipped = {term.key: term for term in default_lexicon().terms}
    existing = queries.lexicon_change(session, topic, text)
    if (topic, text) in shipped:
        if existing is None:
            session.add(
                CommentLexiconTerm(
                    topic=topic,
                    term=text,
                    polarity=shipped[(topic, text)].polarity,
                    action="remove",
                    changed_by_id=actor.id,
                )
            )
        else:
            existing.action, existing.changed_at, existing.changed_by_id = (
                "remove",
                utc_now(),
                actor.id,
            )
    elif existing is not None:
        session.delete(existing)
    else:
        raise NotFound("Không có cụm từ này trong từ điển.", "The lexicon has no such term.")
    audit.record(session, actor, "comment_lexicon.removed", f"lexicon:{topic}/{text}")
    session.flush()


def restore_term(session: Session, actor: audit.Actor, topic: str, text: str) -> None:
    """Put a shipped term back as shipped (drop the province's change to it)."""
    existing = queries.lexicon_change(session, topic, normalise_term(text))
    if existing is None:
        raise NotFound("Cụm từ này không bị thay đổi.", "This term was not changed.")
    session.delete(existing)
    audit.record(session, actor, "comment_lexicon.restored", f"lexicon:{topic}/{existing.term}")
    session.flush()


def import_lexicon(
    session: Session, actor: audit.Actor, data: bytes, filename: str
) -> ImportReport:
    """Replace the province's lexicon with the file's (CSV or XLSX: ``topic``, ``term``,
    ``polarity``, optionally ``action``=remove). All or nothing: ``ImportRefused`` lists the
    faults and nothing changes."""
    report = ImportReport()
    wanted = read_terms(data, report, with_action=True, filename=filename)
    report.refuse_if_problems()
    shipped = {term.key: term for term in default_lexicon().terms}
    kept = {(c.topic, c.text): c for c in wanted if c.action == "add"}
    rows = []
    for key, change in sorted(kept.items()):
        base = shipped.get(key)
        if base is not None and base.polarity == change.polarity:
            report.count("unchanged", "term")
            continue
        report.count("added" if base is None else "changed", "term")
        rows.append(_row(change.topic, change.text, change.polarity, "add", actor.id))
    for key, base in sorted(shipped.items()):
        if key not in kept:
            report.count("changed", "removed")
            rows.append(_row(base.topic, base.text, base.polarity, "remove", actor.id))
    queries.replace_lexicon_changes(session, rows)
    audit.record(
        session,
        actor,
        "comment_lexicon.imported",
        f"file:{filename[:200]}",
        {"terms": len(kept), "changes": len(rows)},
    )
    session.flush()
    return report


def _row(
    topic: str, term: str, polarity: str, action: str, user_id: int | None
) -> dict[str, object]:
    return {
        "topic": topic,
        "term": term,
        "polarity": polarity,
        "action": action,
        "changed_at": utc_now(),
        "changed_by_id": user_id,
    }
