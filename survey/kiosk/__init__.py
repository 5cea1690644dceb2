"""Kiosk mode: the questionnaire on a counter tablet, touch-first, self-resetting, offline-tolerant.

URLs (all under ``/kiosk/``, the service worker's scope)
    ``/kiosk/``                       the app shell (same for every tablet; cached by the worker)
    ``/kiosk/pair/<code>``            pairing page: exchanges a one-time code for a device token
    ``/kiosk/sw.js``                  service worker (app shell offline; never caches API calls)
    ``/kiosk/manifest.webmanifest``   installable, full-screen web app
    ``/kiosk/api/pair``               POST ``{code}`` → 201 ``{token, kiosk_id}``
    ``/kiosk/api/setup``              GET (Bearer token) → kiosk, point, questionnaire, settings
    ``/kiosk/api/responses``          POST (Bearer token) ``{client_id, answers, comment,
                                      language, device_time, questionnaire_id, kiosk_id}``
                                      → 201 created, 200 already stored; a 4xx
                                      ``{error: {code, message_vi, message_en}}`` is permanent
                                      (the tablet drops the answer and tells staff), except
                                      401 (not paired/revoked: kept until paired again), 408
                                      and 429 (``RATELIMIT_KIOSK_PER_TOKEN``: the queue waits
                                      for ``Retry-After``); a 5xx is retried with backoff.
                                      409: the ``client_id`` belongs to another answer.

Settings (``app.config``)
    ``KIOSK_MIN_INTERVAL_SECONDS`` (5)   minimum time between two submissions of one tablet; the
                                          tablet enforces it, the server flags what breaks it
                                          (``too_fast``; see survey/services/kiosks.py).
    ``KIOSK_MAX_OFFLINE_DAYS`` (7)       how old a queued answer may be; an older device time, one
                                          before the kiosk's first pairing or one ahead of the
                                          server counts at its arrival, flagged
                                          ``implausible_time`` (survey/services/kiosks.py).
    ``KIOSK_IDLE_SECONDS`` (60)          inactivity before the countdown appears.
    ``KIOSK_COUNTDOWN_SECONDS`` (30)     the visible countdown with "I need more time"; never
                                          below 20 s (WCAG 2.2 SC 2.2.1).
    ``KIOSK_THANKS_SECONDS`` (8)         how long the thank-you screen stays (at least the minimum
                                          interval) before the tablet wipes itself.
    ``KIOSK_TIMEOUT_POLICY`` ("discard") what a countdown that runs out does with a half-finished
                                          answer: ``discard`` wipes it; ``keep_complete`` sends it
                                          if every question was answered (the citizen left on the
                                          comment screen without pressing Send) and wipes it
                                          otherwise. Partial answers are never stored: the indices
                                          assume complete responses.
    ``INTEGRITY_BURST_SIZE`` (5), ``INTEGRITY_BURST_MINUTES`` (10), ``INTEGRITY_RATE_FLOOR`` (30),
    ``INTEGRITY_RATE_FACTOR`` (3)         anomaly flags (survey/services/integrity.py).
"""

from flask import Blueprint

kiosk_blueprint = Blueprint("kiosk", __name__)
