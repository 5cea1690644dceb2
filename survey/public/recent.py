"""What this browser sent lately, kept in the signed session cookie (no personal data).

A citizen who goes Back from the thank-you page sees the browser restore their answers; the form
must then carry the same submission id, so that pressing Send again stores nothing new.
"""

from __future__ import annotations

import time

from flask import session

RECENT_SECONDS = 30 * 60
KEEP = 5  # points remembered per browser


def remember_submission(code: str, submission_id: str) -> None:
    sent = {k: v for k, v in session.get("sent", {}).items() if _fresh(v)}
    sent[code] = [submission_id, int(time.time())]
    session["sent"] = dict(sorted(sent.items(), key=lambda kv: kv[1][1])[-KEEP:])


def recent_submission(code: str) -> str | None:
    """The submission id sent from this browser for this point in the last half hour, if any."""
    entry = session.get("sent", {}).get(code)
    return entry[0] if entry and _fresh(entry) else None


def _fresh(entry: list) -> bool:
    return isinstance(entry, list) and len(entry) == 2 and time.time() - entry[1] < RECENT_SECONDS
