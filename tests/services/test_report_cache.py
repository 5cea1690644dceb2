"""The reports' cache: a bounded store, sealed entries, and keys that change with every piece of
data a report reads (responses, exclusions, volumes, dossiers, targets, the hierarchy)."""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.services import report_charts, reporting
from survey.services.access import Scope
from survey.services.caching import MemoryStore, SharedCache, key_digest
from survey.services.dossiers.importing import import_dossiers
from survey.services.periods import parse_period
from survey.services.questionnaires import open_service_point
from survey.services.report_charts import charts_for
from survey.services.reporting import build_report, report_version
from survey.services.responses import submit_response
from survey.services.setup.volumes import import_volumes
from survey.services.targets import add_target
from survey.storage.models import Agency, Response, ServicePoint
from tests.factories import SmallProvince

PERIOD = parse_period("2025-Q1")
EVERYTHING = Scope(everything=True, sector=None, agency_ids=None, can_manage=True)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_memory_store_keeps_the_latest_used_within_its_bytes():
    clock = Clock()
    store = MemoryStore(max_bytes=100, clock=clock)
    store.set("a", b"a" * 40, 60)
    store.set("b", b"b" * 40, 60)
    assert store.get("a") == b"a" * 40  # a is now the latest used
    store.set("c", b"c" * 40, 60)
    assert store.get("b") is None and store.get("a") and store.get("c")
    assert store.size_bytes == 80 and len(store) == 2
    store.set("huge", b"h" * 101, 60)  # larger than the whole budget: not kept, nothing evicted
    assert store.get("huge") is None and len(store) == 2
    clock.now = 61
    assert store.get("a") is None and store.size_bytes == 40  # expired entries go


def test_a_result_is_built_once_then_read():
    cache = SharedCache(MemoryStore(), secret="s" * 32)
    built: list[int] = []

    def build() -> dict[str, int]:
        built.append(1)
        return {"answer": 42}

    assert cache.get_or_build(("x", 1), build) == {"answer": 42}
    assert cache.get_or_build(("x", 1), build) == {"answer": 42}
    assert cache.get_or_build(("x", 2), build) == {"answer": 42}
    assert len(built) == 2


def test_keys_do_not_depend_on_the_order_of_a_set():
    assert key_digest(("r", frozenset({3, 1, 2}))) == key_digest(("r", frozenset([2, 3, 1])))
    assert key_digest(("r", None)) != key_digest(("r", frozenset()))
    with pytest.raises(TypeError):
        key_digest((object(),))


def _counting(value: object) -> tuple[list[int], Callable[[], object]]:
    built: list[int] = []

    def build() -> object:
        built.append(1)
        return value

    return built, build


def test_a_tampered_or_moved_entry_is_not_read_but_computed_again():
    store = MemoryStore()
    cache = SharedCache(store, secret="k" * 32)
    built, build = _counting("the province's report")
    cache.get_or_build(("province",), build)
    key = cache.key(("province",))
    sealed = store.get(key)
    assert sealed is not None
    # Someone with access to the store swaps the value for their own pickle …
    store.set(key, sealed[:32] + pickle.dumps("forged"), 60)
    assert cache.get_or_build(("province",), build) == "the province's report"
    assert len(built) == 2
    # … or copies a genuine entry under another report's key: refused too.
    other = cache.key(("commune",))
    store.set(other, store.get(key) or b"", 60)
    built_commune, build_commune = _counting("the commune's report")
    assert cache.get_or_build(("commune",), build_commune) == "the commune's report"
    assert built_commune == [1]


def test_an_entry_sealed_with_another_secret_is_not_read():
    store = MemoryStore()
    built, build = _counting(1)
    SharedCache(store, secret="a" * 32).get_or_build(("r",), build)
    SharedCache(store, secret="b" * 32).get_or_build(("r",), build)
    assert len(built) == 2
    SharedCache(store, secret="b" * 32).get_or_build(("r",), build)
    assert len(built) == 2


# --------------------------------------------------------------------------------------------
# Keys follow the data


def _answer(session: Session, point: ServicePoint, n: int, day: dt.date, start: int = 0) -> None:
    for i in range(start, start + n):
        found, questionnaire = open_service_point(session, point.public_code)
        submit_response(
            session,
            point=found,
            questionnaire=questionnaire,
            answers={item.code: 4 + i % 2 for item in questionnaire.items},
            idempotency_key=f"cache-{point.public_code}-{i:06d}",
            channel="qr",
            comment=f"Góp ý {i}",
            submitted_at=dt.datetime.combine(day, dt.time(3), tzinfo=dt.UTC),
        )


@pytest.fixture
def answered(session: Session, seeded: SmallProvince) -> SmallProvince:
    _answer(session, seeded.desk, 12, dt.date(2025, 2, 3))
    _answer(session, seeded.counter, 12, dt.date(2025, 2, 4))
    session.commit()
    return seeded


def _version(session: Session) -> tuple[str]:
    return report_version(session, PERIOD, "province", "", 30, None)


def test_the_key_is_stable_while_nothing_changes(session: Session, answered: SmallProvince):
    first = _version(session)
    assert _version(session) == first
    assert report_version(session, PERIOD, "province", "", 30, frozenset({1})) != first
    assert report_version(session, parse_period("2025-Q2"), "province", "", 30, None) != first


def test_a_response_in_the_period_changes_the_key_and_one_long_after_does_not(
    session: Session, answered: SmallProvince
):
    first = _version(session)
    _answer(session, answered.desk, 1, dt.date(2026, 6, 1), start=100)  # another year
    assert _version(session) == first
    _answer(session, answered.desk, 1, dt.date(2025, 3, 30), start=200)
    assert _version(session) != first


def test_excluding_a_response_changes_the_key(session: Session, answered: SmallProvince):
    first = _version(session)
    response = session.scalars(select(Response).limit(1)).one()
    response.excluded = True  # as an administrator's decision applies it
    session.commit()
    excluded = _version(session)
    assert excluded != first
    response.excluded = False
    session.commit()
    assert _version(session) != excluded


def test_a_blanked_comment_changes_the_key(session: Session, answered: SmallProvince):
    first = _version(session)
    response = session.scalars(select(Response).limit(1)).one()
    response.comment = None  # as purge-comments and a review blank it
    session.commit()
    assert _version(session) != first


def test_a_volume_import_changes_the_key_and_the_report(
    session: Session, answered: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    """The known bug: importing volumes left the cached report (and its weights) in place."""
    cache = SharedCache(MemoryStore(), secret="v" * 32)
    before = build_report(session, PERIOD, cache=cache)
    built = _count_builds(monkeypatch)
    assert build_report(session, PERIOD, cache=cache).version == before.version
    assert built == []
    code = answered.desk.code
    body = f"service_point_code,month,citizens_served\n{code},2025-02,400\n"
    import_volumes(session, body.encode(), today=dt.date(2025, 12, 31))
    after = build_report(session, PERIOD, cache=cache)
    assert built == [1] and after.version != before.version
    # Changing one stored month again (the same count of rows) moves the key again.
    import_volumes(
        session,
        f"service_point_code,month,citizens_served\n{code},2025-02,401\n".encode(),
        today=dt.date(2025, 12, 31),
    )
    assert _version(session) != after.version
    # A volume of a month outside the quarters of the period and the one before does not.
    settled = _version(session)
    import_volumes(
        session,
        f"service_point_code,month,citizens_served\n{code},2025-09,50\n".encode(),
        today=dt.date(2025, 12, 31),
    )
    assert _version(session) == settled


def test_a_dossier_import_changes_the_key(session: Session, answered: SmallProvince):
    first = _version(session)
    header = "dossier_code,service_point_code,procedure,received_at,due_at,returned_at,status"
    desk = answered.desk.public_code
    line = f"H40.123.45-250203-010001,{desk},Chứng thực,2025-02-03T08:30,,,đang xử lý"
    import_dossiers(session, f"{header}\n{line}\n".encode())
    assert _version(session) != first


def test_a_target_change_changes_the_key(session: Session, answered: SmallProvince):
    first = _version(session)
    target = add_target(
        session,
        None,
        EVERYTHING,
        sector="administrative",
        first=dt.date(2025, 1, 1),
        last=dt.date(2025, 12, 31),
        low=0.8,
        high=None,
        description="80%",
        source="test",
    )
    session.commit()  # the request that adds a target commits; the change below is another one
    added = _version(session)
    assert added != first
    target.low = 0.85
    session.commit()
    assert _version(session) != added


def test_a_hierarchy_change_changes_the_key(session: Session, answered: SmallProvince):
    first = _version(session)
    agency = session.get(Agency, answered.department.id)
    assert agency is not None
    agency.name_en = "Department of Justice"  # same length as before or not: a new key
    session.commit()
    renamed = _version(session)
    assert renamed != first
    agency.parent_id = answered.hospital.id
    session.commit()
    assert _version(session) != renamed


def test_charts_are_cached_per_report_version_and_language(
    session: Session, answered: SmallProvince, monkeypatch: pytest.MonkeyPatch
):
    cache = SharedCache(MemoryStore(), secret="c" * 32)
    report = build_report(session, PERIOD, cache=cache)
    drawn: list[str] = []
    real = report_charts.build_charts

    def spy(report: reporting.ScopeReport, language: str) -> object:
        drawn.append(language)
        return real(report, language)

    monkeypatch.setattr("survey.services.report_charts.build_charts", spy)
    first = charts_for(report, "vi", cache=cache)
    assert charts_for(report, "vi", cache=cache) == first
    charts_for(report, "en", cache=cache)
    assert drawn == ["vi", "en"]


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    real = reporting.compute_report

    def spy(*args: Any, **kwargs: Any) -> reporting.ScopeReport:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reporting, "compute_report", spy)
    return built
