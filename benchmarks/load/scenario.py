"""The load and crash scenarios: clients, the events that break things, and the counting after.

Each client behaves like a phone at a desk: it opens the form once (session cookie, CSRF token),
then posts answers again and again, each time with a fresh ``submission_id`` (uuid4 hex). A 302 to
``/s/<code>/thanks`` is the acknowledgement. A POST that gets no acknowledgement (refused, reset,
5xx) is sent again with the same id, as a citizen pressing Send again would; whatever is still
unacknowledged when the time is up is re-sent after the load. Then the database is read back: every
acknowledged id must be stored exactly once with the answers that were sent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import random
import re
import shutil
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.load.http import Browser, HttpResponse, TransportError
from benchmarks.load.servers import (
    LOOPBACK,
    TRIVIAL_PATH,
    GunicornServer,
    GunicornSettings,
    PostgresServer,
    seed_service_points,
)
from survey.storage.database import make_engine
from survey.storage.models import Answer, Item, Response, ServicePoint

RETRY_PAUSE = 0.1
COMMENTS = ("", "", "", "Nhanh gọn, cán bộ nhiệt tình.", "Phải chờ hơi lâu.", "Tốt  ")


@dataclass(frozen=True)
class LoadOptions:
    engine: str = "sqlite"  # "sqlite" or "postgresql"
    seconds: float = 60.0
    clients: int = 50
    crash: bool = False
    trivial_seconds: float = 10.0  # 0: skip the trivial endpoint
    gunicorn: GunicornSettings = field(default_factory=GunicornSettings)
    seed: int = 2025


@dataclass(frozen=True)
class Submission:
    key: str
    code: str
    answers: tuple[tuple[str, str], ...]  # ("q_access", "4"), ... "na" = not applicable
    comment: str

    def fields(self, csrf_token: str) -> list[tuple[str, str]]:
        return [
            ("csrf_token", csrf_token),
            ("submission_id", self.key),
            *self.answers,
            ("comment", self.comment),
        ]


@dataclass
class FormClient:
    browser: Browser
    code: str
    csrf_token: str
    items: list[tuple[str, bool]]  # field name, allows "not applicable"

    def twin(self) -> FormClient:
        """The same browser session on a connection of its own (for sending in parallel)."""
        browser = Browser(self.browser.host, self.browser.port, dict(self.browser.cookies))
        return FormClient(browser, self.code, self.csrf_token, self.items)

    def new_submission(self, rng: random.Random) -> Submission:
        answers = tuple(
            (name, rng.choice(("1", "2", "3", "4", "5", "na") if na else "12345"))
            for name, na in self.items
        )
        return Submission(uuid.uuid4().hex, self.code, answers, rng.choice(COMMENTS))


@dataclass
class Event:
    """Something done to the servers during the load (a SIGKILL, a database restart)."""

    name: str
    at_seconds: float
    action: Callable[[], object]
    started_at: float = 0.0  # monotonic
    wall: dt.datetime | None = None
    duration: float = 0.0
    no_ack_for: float = 0.0  # from the event's start to the first acknowledgement of a POST
    # sent after it started


@dataclass
class Tally:
    acknowledged: dict[str, Submission] = field(default_factory=dict)
    ack_times: list[tuple[float, float]] = field(default_factory=list)  # sent, acknowledged
    latencies: list[float] = field(default_factory=list)  # seconds, acknowledged POSTs
    outcomes: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)  # outcome → what the client saw
    lost: dict[str, dt.datetime] = field(default_factory=dict)  # key → first failure seen (UTC)
    pending: dict[str, tuple[Submission, FormClient]] = field(default_factory=dict)

    def failure(self, submission: Submission, outcome: str, seen: str) -> None:
        self.outcomes[outcome] += 1
        self.samples.setdefault(outcome, seen)
        self.lost.setdefault(submission.key, dt.datetime.now(dt.UTC))


@dataclass
class Verification:
    acknowledged: int
    stored: int
    stored_once: int
    duplicates: int
    missing: int
    mismatched: int
    unexplained: int  # stored ids no client ever had acknowledged

    @property
    def ok(self) -> bool:
        return self.stored_once == self.acknowledged and not (
            self.duplicates or self.missing or self.mismatched or self.unexplained
        )


@dataclass
class PhaseFigures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu: float  # CPU seconds of this process (the load generator)
    server_cpu: float  # CPU seconds of gunicorn (master + workers)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class RunReport:
    options: LoadOptions
    trivial: PhaseFigures | None = None
    form: PhaseFigures | None = None
    stored_during_load: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    lost_acknowledgements: int = 0
    lost_but_stored_before_resend: int = 0
    unacknowledged_after_load: int = 0
    resent_after_load: int = 0
    resent_acknowledged: int = 0
    duplicates_resent: int = 0
    duplicates_resent_acknowledged: int = 0
    verification: Verification | None = None
    unhandled_errors_logged: int = 0
    database_cpu: float = 0.0
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def stored_per_second(self) -> float:
        return self.stored_during_load / self.form.seconds if self.form else 0.0

    @property
    def ratio_to_trivial(self) -> float | None:
        if not (self.trivial and self.form and self.trivial.per_second):
            return None
        return self.stored_per_second / self.trivial.per_second

    @property
    def ok(self) -> bool:
        all_resent_acknowledged = (
            self.resent_acknowledged == self.resent_after_load
            and self.duplicates_resent_acknowledged == self.duplicates_resent
        )
        return bool(self.verification and self.verification.ok and all_resent_acknowledged)

    def lines(self) -> list[str]:
        o = self.options
        g = o.gunicorn
        out = [
            f"== {o.engine}: {o.clients} clients, {o.seconds:g} s"
            f"{', crash' if o.crash else ''}; gunicorn {g.workers} × {g.worker_class}"
            f"{f' ({g.threads} threads)' if g.threads > 1 else ''}, rate limits lifted =="
        ]
        if self.trivial:
            t = self.trivial
            out.append(
                f"trivial endpoint GET {TRIVIAL_PATH}: {t.per_second:,.0f} req/s, "
                f"p50 {t.p50_ms:.1f} ms, p99 {t.p99_ms:.1f} ms; "
                f"CPU: gunicorn {t.server_cpu:.1f} s, "
                f"load generator {t.client_cpu:.1f} s in {t.seconds:.1f} s"
            )
        if self.form:
            f = self.form
            ratio = self.ratio_to_trivial
            out += [
                f"public form POST: {self.stored_per_second:,.0f} stored responses/s "
                f"({self.stored_during_load:,} in {f.seconds:.1f} s; {f.per_second:,.0f} acks/s), "
                f"p50 {f.p50_ms:.1f} ms, p99 {f.p99_ms:.1f} ms"
                + (f"; ratio to trivial {ratio:.3f} (1 : {1 / ratio:.1f})" if ratio else ""),
                f"CPU: gunicorn {f.server_cpu:.1f} s, load generator {f.client_cpu:.1f} s "
                f"({f.client_cpu / f.seconds:.2f} core)"
                + (f", PostgreSQL {self.database_cpu:.1f} s" if self.database_cpu else ""),
            ]
        out.append("outcomes of POSTs: " + ", ".join(f"{k}: {v}" for k, v in self.outcomes.items()))
        for outcome, seen in self.samples.items():
            out.append(f"  {outcome} looked like: {seen}")
        for event in self.events:
            out.append(
                f"event at {event.at_seconds:.1f} s: {event.name} took {event.duration:.2f} s; "
                f"no acknowledgement for {event.no_ack_for:.2f} s"
            )
        if self.lost_acknowledgements:
            out.append(
                f"acknowledgements lost at least once: {self.lost_acknowledgements} "
                f"({self.lost_but_stored_before_resend} of them had been stored although the "
                f"client never saw the thank-you page); every one was sent again"
            )
        out.append(
            f"after the load: {self.unacknowledged_after_load} unacknowledged re-sent "
            f"({self.resent_acknowledged}/{self.resent_after_load} acknowledged); "
            f"{self.duplicates_resent} acknowledged ones re-sent as duplicates "
            f"({self.duplicates_resent_acknowledged} acknowledged)"
        )
        if self.verification:
            v = self.verification
            out.append(
                f"database: {v.acknowledged:,} acknowledged ids, {v.stored_once:,} stored exactly "
                f"once, {v.duplicates} duplicated, {v.missing} missing, {v.mismatched} with "
                f"other answers, {v.unexplained} stored without acknowledgement; "
                f"{v.stored:,} responses in all"
            )
        out.append(f"unhandled errors in the server log: {self.unhandled_errors_logged}")
        out.append(
            "load average (1, 5, 15 min) at the end: "
            + ", ".join(f"{x:.2f}" for x in self.load_average)
        )
        out.append("EXACTLY ONCE: OK" if self.ok else "EXACTLY ONCE: FAILED")
        return out


# --------------------------------------------------------------------------------- the clients

_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1] * 1000


def _describe(response: HttpResponse) -> str:
    title = _TITLE.search(response.text)
    shown = " ".join(title.group(1).split()) if title else response.text[:120]
    traceback = "Traceback" in response.text
    return f"HTTP {response.status} “{shown}”" + (" WITH A TRACEBACK" if traceback else "")


async def open_form(browser: Browser, code: str, give_up: float) -> FormClient:
    """GET the form once (cookie and CSRF token), retrying while the server starts."""
    while True:
        try:
            page = await browser.get(f"/s/{code}")
        except TransportError:
            if time.monotonic() > give_up:
                raise
            await asyncio.sleep(RETRY_PAUSE)
            continue
        if page.status != 200:
            raise RuntimeError(f"GET /s/{code} answered {page.status}")
        hidden: dict[str, str] = {}
        choices: dict[str, set[str]] = {}
        for tag in _INPUT.findall(page.text):
            attributes = dict(_ATTRIBUTE.findall(tag))
            name, value = attributes.get("name", ""), attributes.get("value", "")
            if attributes.get("type") == "hidden":
                hidden[name] = value
            elif attributes.get("type") == "radio" and name.startswith("q_"):
                choices.setdefault(name, set()).add(value)
        items = [(name, "na" in values) for name, values in choices.items()]
        if "csrf_token" not in hidden or not items:
            raise RuntimeError("the form page has no CSRF token or no questions")
        return FormClient(browser, code, hidden["csrf_token"], items)


async def submit(client: FormClient, submission: Submission, tally: Tally, until: float) -> bool:
    """Send until acknowledged or ``until`` (monotonic) passes; True when acknowledged."""
    while True:
        started = time.monotonic()
        try:
            response = await client.browser.post_form(
                f"/s/{submission.code}", submission.fields(client.csrf_token)
            )
        except TransportError as error:
            tally.failure(submission, f"no response ({error.kind})", str(error))
        else:
            thanks = response.headers.get("location", "").endswith(f"/s/{submission.code}/thanks")
            if response.status == 302 and thanks:
                now = time.monotonic()
                tally.acknowledged[submission.key] = submission
                tally.ack_times.append((started, now))
                tally.latencies.append(now - started)
                tally.outcomes["302 thank-you"] += 1
                return True
            tally.failure(submission, f"HTTP {response.status}", _describe(response))
        if time.monotonic() >= until:
            tally.pending[submission.key] = (submission, client)
            return False
        await asyncio.sleep(RETRY_PAUSE)


async def _form_client(client: FormClient, deadline: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        await submit(client, client.new_submission(rng), tally, until=deadline)


async def _trivial_client(browser: Browser, deadline: float, latencies: list[float]) -> None:
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            response = await browser.get(TRIVIAL_PATH)
        except TransportError:
            continue
        if response.status == 200:
            latencies.append(time.monotonic() - started)


async def _run_events(events: list[Event], start: float, tally: Tally) -> None:
    for event in events:
        await asyncio.sleep(max(0.0, start + event.at_seconds - time.monotonic()))
        event.started_at = time.monotonic()
        event.wall = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(event.action)
        event.duration = time.monotonic() - event.started_at


# ------------------------------------------------------------------------------------ the run


def run_scenario(options: LoadOptions) -> RunReport:
    """Start the servers, run the load (and the crashes), verify the database, stop everything."""
    workdir = Path(tempfile.mkdtemp(prefix="survey-load-"))
    postgres: PostgresServer | None = None
    try:
        if options.engine == "postgresql":
            postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="survey-load-pg-")))
            postgres.start()
            database_url = postgres.url
        elif options.engine == "sqlite":
            database_url = f"sqlite:///{workdir / 'load.sqlite3'}"
        else:
            raise ValueError(f"unknown engine {options.engine!r}")
        server = GunicornServer(database_url, workdir / "gunicorn.log", options.gunicorn)
        try:
            server.flask("init-db")
            codes = seed_service_points(database_url)
            server.start()
            # A thread of its own: the caller may already run an event loop (e.g. Playwright's).
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as runner:
                report = runner.submit(
                    asyncio.run, _drive(options, server, postgres, codes, database_url)
                ).result()
        finally:
            server.stop()
        report.unhandled_errors_logged = server.unhandled_errors()
        report.load_average = os.getloadavg()
        return report
    finally:
        if postgres is not None:
            postgres.stop()
            shutil.rmtree(postgres.root, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


async def _drive(
    options: LoadOptions,
    server: GunicornServer,
    postgres: PostgresServer | None,
    codes: list[str],
    database_url: str,
) -> RunReport:
    report = RunReport(options)
    if options.trivial_seconds > 0:
        report.trivial = await _trivial_phase(options, server)

    browsers = [Browser(LOOPBACK, server.port) for _ in range(options.clients)]
    clients = await asyncio.gather(
        *(
            open_form(browser, codes[number % len(codes)], time.monotonic() + 30)
            for number, browser in enumerate(browsers)
        )
    )
    events = _crash_events(options, server, postgres)
    tally = Tally()
    cpu_before, server_before = time.process_time(), server.cpu_seconds()
    database_before = postgres.cpu_seconds() if postgres else 0.0
    start = time.monotonic()
    deadline = start + options.seconds
    await asyncio.gather(
        *(
            _form_client(client, deadline, tally, options.seed * 1000 + number)
            for number, client in enumerate(clients)
        ),
        _run_events(events, start, tally),
    )
    elapsed = time.monotonic() - start
    report.form = PhaseFigures(
        requests=len(tally.acknowledged),
        seconds=elapsed,
        p50_ms=_percentile(tally.latencies, 0.50),
        p99_ms=_percentile(tally.latencies, 0.99),
        client_cpu=time.process_time() - cpu_before,
        server_cpu=server.cpu_seconds() + server.cpu_of_killed - server_before,
    )
    if postgres:
        report.database_cpu = postgres.cpu_seconds() - database_before
    report.stored_during_load = await asyncio.to_thread(_count_responses, database_url)
    for event in events:
        later = [done for sent, done in tally.ack_times if sent >= event.started_at]
        event.no_ack_for = (min(later) if later else time.monotonic()) - event.started_at
    report.events = events

    # Whatever was never acknowledged, and whatever lost an acknowledgement on the way, is sent
    # again now; so is a sample of acknowledged submissions (a double tap): all stored once.
    lost_stored = await asyncio.to_thread(_stored_before, database_url, tally.lost)
    report.lost_acknowledgements = len(tally.lost)
    report.lost_but_stored_before_resend = lost_stored
    pending = list(tally.pending.values())
    report.unacknowledged_after_load = len(pending)
    by_code = {client.code: client for client in clients}
    resend = [(sub, client.twin()) for sub, client in pending] + [
        (tally.acknowledged[key], by_code[tally.acknowledged[key].code].twin())
        for key in tally.lost
        if key in tally.acknowledged
    ]
    report.resent_after_load = len(resend)
    again = Tally()
    results = await asyncio.gather(
        *(submit(client, sub, again, until=time.monotonic() + 30) for sub, client in resend)
    )
    report.resent_acknowledged = sum(results)
    rng = random.Random(options.seed)
    doubles = rng.sample(sorted(tally.acknowledged), min(200, len(tally.acknowledged)))
    double_results = await asyncio.gather(
        *(
            submit(
                by_code[tally.acknowledged[key].code].twin(),
                tally.acknowledged[key],
                again,
                until=time.monotonic() + 30,
            )
            for key in doubles
        )
    )
    report.duplicates_resent = len(doubles)
    report.duplicates_resent_acknowledged = sum(double_results)
    tally.acknowledged.update(again.acknowledged)
    report.outcomes = tally.outcomes
    report.samples = tally.samples | {
        f"{k} (re-sent after the load)": v for k, v in again.samples.items()
    }
    for browser in browsers:
        browser.close()
    report.verification = await asyncio.to_thread(verify, database_url, tally.acknowledged)
    return report


async def _trivial_phase(options: LoadOptions, server: GunicornServer) -> PhaseFigures:
    browsers = [Browser(LOOPBACK, server.port) for _ in range(options.clients)]
    latencies: list[float] = []
    cpu_before, server_before = time.process_time(), server.cpu_seconds()
    start = time.monotonic()
    deadline = start + options.trivial_seconds
    await asyncio.gather(*(_trivial_client(b, deadline, latencies) for b in browsers))
    elapsed = time.monotonic() - start
    for browser in browsers:
        browser.close()
    return PhaseFigures(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        client_cpu=time.process_time() - cpu_before,
        server_cpu=server.cpu_seconds() - server_before,
    )


def _crash_events(
    options: LoadOptions, server: GunicornServer, postgres: PostgresServer | None
) -> list[Event]:
    if not options.crash:
        return []

    def kill_and_restart() -> None:
        server.kill()
        server.start()

    events = [
        Event(
            "SIGKILL gunicorn master and workers, restart", 0.3 * options.seconds, kill_and_restart
        )
    ]
    if postgres is not None:
        events.append(
            Event(
                "pg_ctl restart -m immediate", 0.65 * options.seconds, postgres.restart_immediately
            )
        )
    return events


# -------------------------------------------------------------------------------- the counting


def _count_responses(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count(Response.id))) or 0)
    finally:
        engine.dispose()


def _stored_before(database_url: str, first_failures: dict[str, dt.datetime]) -> int:
    """How many ids whose acknowledgement was lost had been stored before the failure was seen
    (stored by the request whose answer never arrived, not by a later re-send)."""
    if not first_failures:
        return 0
    engine = make_engine(database_url)
    stored = 0
    try:
        with engine.connect() as connection:
            keys = list(first_failures)
            for start in range(0, len(keys), 500):
                rows = connection.execute(
                    select(Response.idempotency_key, Response.submitted_at).where(
                        Response.idempotency_key.in_(keys[start : start + 500])
                    )
                )
                for key, submitted_at in rows:
                    if submitted_at.replace(tzinfo=dt.UTC) <= first_failures[key]:
                        stored += 1
    finally:
        engine.dispose()
    return stored


def verify(database_url: str, acknowledged: dict[str, Submission]) -> Verification:
    """Read every response back and compare it with what the clients had acknowledged."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = dict(
                connection.execute(
                    select(Response.idempotency_key, func.count()).group_by(
                        Response.idempotency_key
                    )
                ).all()
            )
            stored = {
                key: (code, comment or "")
                for key, code, comment in connection.execute(
                    select(
                        Response.idempotency_key, ServicePoint.public_code, Response.comment
                    ).join(ServicePoint, Response.service_point_id == ServicePoint.id)
                )
            }
            answers: dict[str, dict[str, str]] = {}
            for key, code, value in connection.execute(
                select(Response.idempotency_key, Item.code, Answer.value)
                .join(Answer, Answer.response_id == Response.id)
                .join(Item, Answer.item_id == Item.id)
            ):
                answers.setdefault(key, {})["q_" + code] = "na" if value is None else str(value)
    finally:
        engine.dispose()
    once = sum(1 for key in acknowledged if counts.get(key) == 1)
    mismatched = 0
    for key, submission in acknowledged.items():
        if key not in stored:
            continue
        expected = (submission.code, submission.comment.strip())
        if stored[key] != expected or answers.get(key) != dict(submission.answers):
            mismatched += 1
    return Verification(
        acknowledged=len(acknowledged),
        stored=sum(counts.values()),
        stored_once=once,
        duplicates=sum(1 for n in counts.values() if n > 1),
        missing=sum(1 for key in acknowledged if key not in counts),
        mismatched=mismatched,
        unexplained=sum(1 for key in counts if key not in acknowledged),
    )
