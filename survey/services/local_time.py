"""Vietnam's clock: the days, months and quarters of the platform are Vietnam's.

``Asia/Ho_Chi_Minh`` is UTC+7 all year (no daylight saving since 1975), so a fixed offset is exact
and needs no time-zone database. Times are stored in UTC; wherever a *day* decides something — is
a retired commune's QR still open today, which quarter is the last complete one, the date printed
on a report — ask ``today_in_vietnam()``, never ``date.today()``: the server's clock is usually
UTC, and between 00:00 and 07:00 in Vietnam it is still on the day before.
"""

from __future__ import annotations

import datetime as dt

from survey.storage.models import utc_now

VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7))  # Asia/Ho_Chi_Minh


def now_in_vietnam() -> dt.datetime:
    """The current moment on Vietnam's wall clock (aware, UTC+7)."""
    return utc_now().astimezone(VIETNAM_TIME)


def today_in_vietnam() -> dt.date:
    """Today's date in Vietnam, whatever the server's own time zone."""
    return now_in_vietnam().date()
