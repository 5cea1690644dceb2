"""Every text the kiosk script shows, served in both languages inside the app shell.

The tablet switches language without the network, so the page carries Vietnamese and English
side by side (``data-texts`` on ``<body>``); ``%(name)s`` placeholders are filled in by the script.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

TEXTS: dict[str, Any] = {
    "start": _l("Start"),
    "welcome": _l(
        "Tell us about the service you received today. Anonymous: nobody at the desk can see "
        "your answers."
    ),
    "question_of": _l("Question %(number)s of %(total)s"),
    "scale_1": _l("Very unhappy"),
    "scale_2": _l("Unhappy"),
    "scale_3": _l("Neutral"),
    "scale_4": _l("Happy"),
    "scale_5": _l("Very happy"),
    "not_applicable": _l("Not applicable"),
    "back": _l("Back"),
    "next": _l("Next"),
    "comment": _l(
        "Anything else you would like to tell us? (optional, do not write your name or phone)"
    ),
    "send": _l("Send"),
    "thanks": _l("Thank you! Your answers have been recorded."),
    "restart_in": _l("This screen starts again for the next person in %(seconds)s s."),
    "idle_title": _l("Are you still there?"),
    "idle_text": _l("To keep your answers private, they will be cleared in %(seconds)s s."),
    "more_time": _l("I need more time"),
    "waiting": _l("%(count)s waiting to send"),
    "staff": _l("For staff:"),
    "not_paired": _l(
        "This tablet is not paired or its access was revoked. Ask an administrator for a new "
        "pairing code; answers not yet sent stay on the tablet."
    ),
    "rejected": _l("The server refused an answer, which was removed: %(message)s"),
    "storage_full": _l(
        "The tablet's storage is full: answers cannot be kept offline. Free some space and keep "
        "the tablet online."
    ),
    "server_error": _l("The server had a problem; answers stay on the tablet and are sent later."),
    "offline": _l("No network: answers stay on the tablet and are sent when it is back."),
    "out_of_service": _l(
        "This tablet is not taking answers right now. Please use the QR code at the desk."
    ),
    "not_set_up": _l("This tablet is not set up yet."),
    "pair_button": _l("Pair this tablet"),
    "paired": _l("Paired. Starting the kiosk…"),
}


def texts_in_both_languages() -> dict[str, dict[str, str]]:
    """{"vi": {key: text}, "en": {key: text}}."""
    both = {}
    for language in ("vi", "en"):
        with force_locale(language):
            both[language] = {key: str(text) for key, text in TEXTS.items()}
    return both
