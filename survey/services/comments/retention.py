"""Comment retention: raw comments older than ``COMMENT_RETENTION_DAYS`` are blanked.

Answers and the response itself stay (the indices do not change); only the free text goes. Each
purge that blanks something is written to the audit log. The caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from survey.services import audit
from survey.storage import queries
from survey.storage.models import utc_now


def purge_old_comments(
    session: Session, days: int, *, dry_run: bool = False, now: dt.datetime | None = None
) -> int:
    """Blank the comments of responses submitted more than ``days`` days ago and return how many
    (with ``dry_run``, only count them)."""
    cutoff = (now or utc_now()) - dt.timedelta(days=days)
    if dry_run:
        return queries.count_comments_before(session, cutoff)
    purged = queries.clear_comments_before(session, cutoff)
    if purged:
        audit.record(
            session,
            None,
            "comments.purged",
            "responses",
            {"count": purged, "older_than_days": days, "cutoff": cutoff.isoformat()},
        )
    return purged
