"""Tagging stored comments in batches: never in the citizen's request.

``tag_comments`` tags the comments that have no tags yet, or whose tags came from another
version of the lexicon, and stores them (``comment_topic``, ``comment_state``). Two callers:

* ``flask --app wsgi tag-comments`` (cron, e.g. every 10 minutes) works through every comment;
* the inbox tags the comments of the page it is about to show, and a bounded number more within
  its filters, so that a page is right even where cron is not set up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from survey.services.comments.lexicon import (
    Lexicon,
    LexiconChange,
    default_lexicon,
    effective_lexicon,
)
from survey.services.comments.tagger import Tagger, tagger_for
from survey.storage import queries
from survey.storage.database import all_or_nothing
from survey.storage.models import utc_now

log = logging.getLogger(__name__)
BATCH = 500


def current_lexicon(session: Session) -> Lexicon:
    """The shipped lexicon with the province's changes applied."""
    changes = [
        LexiconChange(row.topic, row.term, row.polarity, row.action)
        for row in queries.lexicon_changes(session)
    ]
    return effective_lexicon(default_lexicon(), changes)


def current_tagger(session: Session) -> Tagger:
    return tagger_for(current_lexicon(session))


@dataclass(frozen=True)
class TaggingRun:
    tagged: int
    remaining: int
    version: str


def tag_comments(
    session: Session,
    tagger: Tagger,
    *,
    limit: int | None = None,
    batch: int = BATCH,
    response_ids: Iterable[int] | None = None,
    after_batch: Callable[[], None] | None = None,
    **filters: Any,
) -> int:
    """Tag up to ``limit`` untagged or stale comments (all of them when None), newest first, in
    batches; returns how many were tagged. ``response_ids`` limits the run to those comments;
    ``filters`` (as ``queries.comment_page``) to a part of the inbox. ``after_batch`` is called
    after each stored batch: the command line commits there (a long run that is stopped keeps
    what it did, and holds no lock for long); a request commits once, at its end.

    Two runs at once (cron and an inbox page) may reach the same comment: the second one's batch
    is dropped and the comment keeps the first one's tags, which are the same.
    """
    ids = list(response_ids) if response_ids is not None else None
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        rows = queries.comments_to_tag(session, tagger.version, size, ids, **filters)
        if not rows:
            break
        found = {row.id: tagger.topics(row.comment) for row in rows}
        try:
            with all_or_nothing(session):
                queries.store_comment_topics(session, found, tagger.version, utc_now())
        except IntegrityError:
            log.info("comments tagged by another run at the same time; batch skipped")
            break
        if after_batch is not None:
            after_batch()
        done += len(rows)
        if len(rows) < size:
            break
    return done


def tag_all(
    session: Session,
    *,
    limit: int | None = None,
    batch: int = BATCH,
    after_batch: Callable[[], None] | None = None,
) -> TaggingRun:
    """The command line's run: every comment not tagged by the current lexicon."""
    tagger = current_tagger(session)
    tagged = tag_comments(session, tagger, limit=limit, batch=batch, after_batch=after_batch)
    remaining = queries.count_comments_to_tag(session, tagger.version)
    return TaggingRun(tagged, remaining, tagger.version)
