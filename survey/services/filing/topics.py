"""Counts of the report's comments by topic, for the comments section of a filed report.

The comments counted are those of the report's own agencies (the scope the reader may see) in the
report's period. Comments not yet tagged by the current lexicon are tagged first, up to
``TAG_BUDGET`` of them (as the comments inbox does); any left are counted as untagged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from survey.services.comments.tagging import current_tagger, tag_comments
from survey.services.comments.topics import TOPICS
from survey.services.exports import local_day_start
from survey.services.reporting import ScopeReport, load_hierarchy
from survey.storage import queries
from survey.storage.database import all_or_nothing

TAG_BUDGET = 1000


@dataclass(frozen=True, kw_only=True)
class TopicLine:
    code: str
    name_vi: str
    name_en: str
    count: int
    share: float | None  # of the tagged comments

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


@dataclass(frozen=True, kw_only=True)
class CommentTopics:
    total: int  # comments of the period in scope
    tagged: int
    topics: list[TopicLine]


def comment_topics(session: Session, report: ScopeReport) -> CommentTopics:
    """How many of the report's comments raise each topic (a comment may raise several)."""
    by_code = load_hierarchy(session).by_code
    agency_ids = frozenset(by_code[code].id for code in report.agency_codes if code in by_code)
    filters: dict[str, Any] = {
        "agency_ids": agency_ids,
        "start": local_day_start(report.period.first),
        "end": local_day_start(report.period.last + dt.timedelta(days=1)),
    }
    try:  # best effort: a savepoint, so a clash undoes the tagging only, not the request
        with all_or_nothing(session):
            tag_comments(session, current_tagger(session), limit=TAG_BUDGET, **filters)
    except (IntegrityError, OperationalError):  # another request tagging the same comments
        pass  # the counts say how many are untagged
    with_topic, tagged = queries.comment_topic_times(session, **filters)
    total = queries.count_comments(session, **filters)
    counts = dict.fromkeys((topic.code for topic in TOPICS), 0)
    for row in with_topic:
        if row.topic in counts:
            counts[row.topic] += 1
    return CommentTopics(
        total=total,
        tagged=len(tagged),
        topics=[
            TopicLine(
                code=topic.code,
                name_vi=topic.name_vi,
                name_en=topic.name_en,
                count=counts[topic.code],
                share=counts[topic.code] / len(tagged) if tagged else None,
            )
            for topic in TOPICS
        ],
    )
