"""A province (or several) with years of responses, written fast: the organisation through the
models (a few hundred rows), volumes, responses and answers generated with numpy and written with
``COPY`` on PostgreSQL or one ``executemany`` per 100,000 rows on SQLite — never ORM objects.

Shape of one province (seeded, every size the same shape): 10 districts of 15 communes; each
commune has a people's committee (one-stop desk), a health station and two schools, one service
point each; each district a committee with two desks and a hospital with two counters; the
province 10 departments with a desk each and a hospital with three counters — 650 service points
and 631 agencies. Monthly volumes are entered for every point and month (about ten clients per
response); responses follow the volumes, each answers the sector's shipped questionnaire (seven
items, the overall one last) from a per-point satisfaction level; 5% leave a comment, 0.2% are
excluded by an administrator. ``responses`` is the count per year; ``years`` years end with the
reported one.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from sqlalchemy import text
from sqlalchemy.orm import Session

from survey.services.qr import new_public_code
from survey.services.questionnaires import seed_questionnaires
from survey.storage import queries
from survey.storage.models import Agency, Questionnaire, ServicePoint

SINCE = dt.date(2015, 1, 1)
VIETNAM = dt.timezone(dt.timedelta(hours=7))
RESPONSES_PER_CLIENT = 0.1
COMMENTS = (
    "Cán bộ nhiệt tình, hướng dẫn rõ ràng.",
    "Phải chờ lâu, cần thêm quầy tiếp nhận.",
    "Thủ tục nhanh gọn.",
    "Phòng chờ nóng, thiếu ghế ngồi.",
)
_CUTS = np.array([-2.0, -1.2, -0.3, 1.0])  # latent cut points between answers 1|2 … 4|5
CHUNK = 500_000


@dataclass
class Point:
    id: int
    sector: str
    size: float  # relative client volume
    satisfaction: float  # share of satisfied answers it tends to get


@dataclass
class Province:
    root: Agency
    communes: list[Agency] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)


def _agency(
    session: Session, code: str, name: str, sector: str, level: str, parent: Agency | None
) -> Agency:
    record = Agency(
        code=code,
        name_vi=name,
        name_en=name,
        sector=sector,
        level=level,
        parent=parent,
        valid_from=SINCE,
    )
    session.add(record)
    return record


def build_structure(session: Session, provinces: int, rng: np.random.Generator) -> list[Province]:
    """Questionnaires and the organisation of ``provinces`` provinces (through the models)."""
    seed_questionnaires(session)
    out = []
    pending: list[tuple[Province, ServicePoint, str, float]] = []

    def point(province: Province, owner: Agency, name: str, size: float) -> None:
        record = ServicePoint(
            agency=owner, public_code=new_public_code(), name_vi=name, name_en=name, active=True
        )
        session.add(record)
        pending.append((province, record, owner.sector, size))

    for p in range(provinces):
        code = f"T{p:02d}"
        root = _agency(session, code, f"Tỉnh {p}", "administrative", "province", None)
        province = Province(root)
        for k in range(10):
            department = _agency(
                session, f"{code}-S{k}", f"Sở {k}", "administrative", "province", root
            )
            point(province, department, "Bộ phận một cửa", 3.0)
        hospital = _agency(session, f"{code}-BV", "Bệnh viện tỉnh", "health", "province", root)
        for k in range(3):
            point(province, hospital, f"Quầy {k}", 6.0)
        for d in range(10):
            district = _agency(
                session, f"{code}-H{d}", f"Huyện {d}", "administrative", "district", root
            )
            for k in range(2):
                point(province, district, f"Bộ phận một cửa {k}", 4.0)
            district_hospital = _agency(
                session, f"{code}-H{d}-BV", f"Bệnh viện huyện {d}", "health", "district", district
            )
            for k in range(2):
                point(province, district_hospital, f"Quầy {k}", 4.0)
            for c in range(15):
                prefix = f"{code}-H{d}-X{c:02d}"
                commune = _agency(
                    session, prefix, f"Xã {d}.{c}", "administrative", "commune", district
                )
                province.communes.append(commune)
                point(province, commune, "Bộ phận một cửa", 1.0)
                station = _agency(
                    session, f"{prefix}-TYT", f"Trạm y tế {d}.{c}", "health", "commune", commune
                )
                point(province, station, "Trạm y tế", 1.0)
                for s in range(2):
                    school = _agency(
                        session,
                        f"{prefix}-TH{s}",
                        f"Trường {d}.{c}.{s}",
                        "education",
                        "commune",
                        commune,
                    )
                    point(province, school, "Văn phòng", 0.6)
        out.append(province)
    session.flush()
    for province, record, sector, size in pending:
        province.points.append(
            Point(
                id=record.id,
                sector=sector,
                size=size * float(rng.lognormal(0.0, 0.4)),
                satisfaction=float(rng.uniform(0.55, 0.95)),
            )
        )
    session.commit()
    return out


def _questionnaires(session: Session) -> dict[str, tuple[int, list[int]]]:
    """Sector → (questionnaire id, its item ids in order, the overall item last)."""
    out = {}
    for sector in ("administrative", "health", "education"):
        questionnaire: Questionnaire | None = queries.active_questionnaire(session, sector)
        if questionnaire is None:
            raise RuntimeError(f"no questionnaire for {sector}")
        items = sorted(questionnaire.items, key=lambda item: (item.is_overall, item.position))
        out[sector] = (questionnaire.id, [item.id for item in items])
    return out


def _write(session: Session, table: str, frame: pd.DataFrame) -> None:
    """COPY the frame (PostgreSQL) or insert it with executemany (SQLite); NaN/None → NULL."""
    connection = session.connection()
    columns = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for start in range(0, len(frame), CHUNK):
                buffer = io.StringIO()
                frame.iloc[start : start + CHUNK].to_csv(
                    buffer, sep="\t", header=False, index=False, na_rep="\\N"
                )
                copy.write(buffer.getvalue())
        return
    marks = ", ".join("?" for _ in frame.columns)
    # table and column names are this module's constants, never input
    statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    for start in range(0, len(frame), 100_000):
        part = frame.iloc[start : start + 100_000].astype(object)
        rows = list(part.where(part.notna(), None).itertuples(index=False, name=None))
        connection.exec_driver_sql(statement, rows)


def _timestamps(utc: np.ndarray, dialect: str) -> np.ndarray:
    """UTC instants as the engine stores them (SQLite: SQLAlchemy's naive text)."""
    wall = np.datetime_as_string(utc.astype("datetime64[s]"), unit="s")
    if dialect == "postgresql":
        return np.char.add(np.char.replace(wall, "T", " "), "+00")
    return np.char.add(np.char.replace(wall, "T", " "), ".000000")


@dataclass
class Loaded:
    responses: int = 0
    answers: int = 0
    seconds: float = 0.0


def load_responses(
    session: Session,
    provinces: list[Province],
    responses_per_year: int,
    years: list[int],
    rng: np.random.Generator,
) -> Loaded:
    """Volumes, responses and answers of every year (``responses_per_year`` over all provinces)."""
    started = time.perf_counter()
    dialect = session.get_bind().dialect.name
    questionnaires = _questionnaires(session)
    points = [p for province in provinces for p in province.points]
    size = np.array([p.size for p in points])
    share = size / size.sum()
    sectors = np.array([p.sector for p in points])
    loaded = Loaded()
    next_id = 1
    months = [(year, month) for year in years for month in range(1, 13)]
    per_month = responses_per_year / 12
    volume_rows = []
    for year, month in months:
        expected = per_month * share * rng.uniform(0.8, 1.2, len(points))
        counts = rng.poisson(expected)
        volumes = np.maximum(np.round(expected / RESPONSES_PER_CLIENT), counts).astype(np.int64)
        volume_rows.append(
            pd.DataFrame(
                {
                    "service_point_id": [p.id for p in points],
                    "month": dt.date(year, month, 1).isoformat(),
                    "volume": volumes,
                    "planned": False,
                }
            )
        )
        for chunk in _month_responses(rng, points, sectors, counts, year, month, next_id):
            frame, answers = chunk
            frame["questionnaire_id"] = [questionnaires[s][0] for s in frame.pop("sector")]
            frame["submitted_at"] = _timestamps(frame["submitted_at"].to_numpy(), dialect)
            _write(session, "response", frame)
            _write(session, "answer", _answer_frame(answers, frame, questionnaires))
            loaded.responses += len(frame)
            loaded.answers += len(frame) * 7
            next_id += len(frame)
    _write(session, "service_volume", pd.concat(volume_rows, ignore_index=True))
    if dialect == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('response', 'id'), max(id)) FROM response")
        )
    session.commit()
    loaded.seconds = time.perf_counter() - started
    return loaded


def _month_responses(
    rng: np.random.Generator,
    points: list[Point],
    sectors: np.ndarray,
    counts: np.ndarray,
    year: int,
    month: int,
    first_id: int,
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """One month of responses (one frame) and their latent answers (n × 7)."""
    n = int(counts.sum())
    if n == 0:
        return
    which = np.repeat(np.arange(len(points)), counts)
    start = np.datetime64(f"{year}-{month:02d}-01T00:00")
    after = np.datetime64(dt.date(year + month // 12, month % 12 + 1, 1))
    days = int((after - start.astype("datetime64[D]")).astype(int))
    minutes = rng.integers(0, days, n) * 1440 + rng.integers(7 * 60 + 30, 17 * 60, n)
    local = (
        start + minutes.astype("timedelta64[m]") + rng.integers(0, 60, n).astype("timedelta64[s]")
    )
    utc = local - np.timedelta64(7, "h")
    ids = np.arange(first_id, first_id + n)
    satisfaction = np.array([p.satisfaction for p in points])[which]
    mean = norm.ppf(satisfaction) - 0.3
    latent = (mean + rng.normal(0, 0.8, n))[:, None] + rng.normal(0, 0.6, (n, 7))
    values = 1 + np.searchsorted(_CUTS, latent)
    pool = np.asarray(COMMENTS, dtype=object)
    comment = np.where(rng.random(n) < 0.05, pool[rng.integers(0, len(pool), n)], None)
    frame = pd.DataFrame(
        {
            "id": ids,
            "idempotency_key": np.char.add("bench-", ids.astype(str)),
            "service_point_id": np.array([p.id for p in points])[which],
            "sector": sectors[which],
            "channel": np.where(rng.random(n) < 0.8, "qr", "paper"),
            "language": "vi",
            "submitted_at": utc,
            "comment": comment,
            "excluded": rng.random(n) < 0.002,
        }
    )
    yield frame, values


def _answer_frame(
    values: np.ndarray,
    responses: pd.DataFrame,
    questionnaires: dict[str, tuple[int, list[int]]],
) -> pd.DataFrame:
    item_ids = {qid: items for qid, items in questionnaires.values()}
    items = np.array([item_ids[q] for q in responses["questionnaire_id"]])  # n × 7
    return pd.DataFrame(
        {
            "response_id": np.repeat(responses["id"].to_numpy(), 7),
            "item_id": items.ravel(),
            "value": values.ravel(),
        }
    )
