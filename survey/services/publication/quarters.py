"""Which quarters may be published: those that have ended in Vietnam's time (UTC+7).

A quarter is published from the day after its last day, Vietnam time: 2025-Q3 (1 July –
30 September) from 1 October 2025 00:00 ICT. The current quarter and future ones are not — their
figures would still move, and a page that changes every day is not a published report.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from survey.formatting import local
from survey.services.errors import NotFound
from survey.services.exports import local_day_start
from survey.services.periods import Period, ensure_supported, parse_period, quarter_of
from survey.storage import queries


class NotPublished(NotFound):
    """A period that is not (yet) a published quarter; the message says which it is."""


def last_ended_quarter(today: dt.date) -> Period:
    """The latest quarter whose last day is before ``today``."""
    return quarter_of(today).previous()


def ended_quarter(text: str, today: dt.date) -> Period:
    """The quarter written ``2025-Q3`` if it has ended; ``InvalidInput`` (400) for something that
    is no period, ``NotPublished`` (404) for a year, half-year, range, current or future quarter."""
    period = ensure_supported(parse_period(text))
    if period.kind != "quarter":
        raise NotPublished(
            f"Báo cáo công khai được lập theo quý; hãy viết quý như 2025-Q3 (không phải “{text}”).",
            f"Public reports are quarterly; write the quarter as 2025-Q3 (not “{text}”).",
        )
    if period.last >= today:
        raise NotPublished(
            f"{period.label('vi')} chưa kết thúc nên chưa có báo cáo công khai. Báo cáo của mỗi "
            "quý được công bố sau ngày cuối cùng của quý.",
            f"{period.label('en')} has not ended, so there is no public report for it yet. Each "
            "quarter's report is published after its last day.",
        )
    return period


def published_quarters(session: Session, today: dt.date) -> list[Period]:
    """Ended quarters that have responses, newest first."""
    first, last = queries.first_submission(session), queries.latest_submission(session)
    if first is None or last is None:
        return []
    newest = last_ended_quarter(today)
    oldest = quarter_of(local(first).date())
    if oldest.first > newest.first:
        return []
    counts = queries.monthly_response_counts(
        session, local_day_start(oldest.first), local_day_start(newest.last + dt.timedelta(days=1))
    )
    months = {month for (_point, month), count in counts.items() if count}
    out = []
    quarter = newest
    while quarter.first >= oldest.first:
        if any(f"{quarter.first.year}-{quarter.first.month + i:02d}" in months for i in range(3)):
            out.append(quarter)
        quarter = quarter.previous()
    return out
