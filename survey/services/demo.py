"""The demo province: Điện Biên across the 1 July 2025 reorganisation, with a year of responses.

Names are real (from the project's seed documents 000 and 003); numbers are invented. The demo is
a user of the set-up services like any province: its organisation goes through the organisation
import, its volumes through the volumes import and its responses through the bulk path of the
response imports (survey/services/setup/). Calendar
year 2025: January–June under the three-level structure (province → district → commune), July–
December under the two-level one: the ten districts are retired and a sample of old communes is
merged into new communes and wards (the merger map below is illustrative). Each agency has a
persistent level of satisfaction (some above 90%, some below 60%) and a drift over the quarters, so
that indices, targets and tests of significance have something true to find.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sqlalchemy.orm import Session

from survey.services.importing import ImportReport, Row
from survey.services.local_time import VIETNAM_TIME
from survey.services.questionnaires import seed_questionnaires
from survey.services.reporting.rollup import roll_up
from survey.services.setup.names import english_unit_name
from survey.services.setup.organisation import store_organisation
from survey.services.setup.paper import store_response_rows
from survey.services.setup.volumes import store_volumes
from survey.services.targets import seed_targets
from survey.storage import queries
from survey.storage.models import Questionnaire, ServicePoint

PROVINCE_CODE = "DIENBIEN"
YEAR = 2025
REORGANISATION = dt.date(2025, 7, 1)
ESTABLISHED = dt.date(2004, 1, 1)
TARGET_RESPONSES = 20_000

DEPARTMENTS = (
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Kế hoạch và Đầu tư",
    "Sở Tài chính",
    "Sở Thông tin và Truyền thông",
    "Sở Khoa học và Công nghệ",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Xây dựng",
    "Sở Tài nguyên và Môi trường",
    "Sở Lao động – Thương binh và Xã hội",
    "Sở Giao thông vận tải",
    "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Công Thương",
)
DEPARTMENTS_EN = (
    "Department of Home Affairs",
    "Department of Justice",
    "Department of Planning and Investment",
    "Department of Finance",
    "Department of Information and Communications",
    "Department of Science and Technology",
    "Department of Health",
    "Department of Education and Training",
    "Department of Culture, Sports and Tourism",
    "Department of Construction",
    "Department of Natural Resources and Environment",
    "Department of Labour, Invalids and Social Affairs",
    "Department of Transport",
    "Department of Agriculture and Rural Development",
    "Department of Industry and Trade",
)
DISTRICTS = (
    "Thành phố Điện Biên Phủ",
    "Thị xã Mường Lay",
    "Huyện Điện Biên",
    "Huyện Điện Biên Đông",
    "Huyện Mường Ảng",
    "Huyện Mường Chà",
    "Huyện Mường Nhé",
    "Huyện Nậm Pồ",
    "Huyện Tủa Chùa",
    "Huyện Tuần Giáo",
)
# New commune or ward (from 1 July 2025) → (district, old communes merged into it).
MERGERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Phường Điện Biên Phủ": (
        "Thành phố Điện Biên Phủ",
        ("Phường Him Lam", "Phường Tân Thanh", "Phường Noong Bua"),
    ),
    "Phường Mường Thanh": (
        "Thành phố Điện Biên Phủ",
        ("Phường Mường Thanh", "Phường Thanh Bình", "Phường Nam Thanh", "Xã Thanh Minh"),
    ),
    "Phường Mường Lay": ("Thị xã Mường Lay", ("Phường Na Lay", "Phường Sông Đà")),
    "Xã Thanh Nưa": ("Huyện Điện Biên", ("Xã Thanh Nưa", "Xã Thanh Luông")),
    "Xã Thanh An": ("Huyện Điện Biên", ("Xã Thanh An", "Xã Thanh Xương")),
    "Xã Tuần Giáo": ("Huyện Tuần Giáo", ("Thị trấn Tuần Giáo", "Xã Quài Cang", "Xã Quài Nưa")),
    "Xã Chiềng Sinh": ("Huyện Tuần Giáo", ("Xã Chiềng Sinh", "Xã Tỏa Tình")),
    "Xã Mường Ảng": ("Huyện Mường Ảng", ("Thị trấn Mường Ảng", "Xã Ẳng Nưa")),
    "Xã Tủa Chùa": ("Huyện Tủa Chùa", ("Thị trấn Tủa Chùa", "Xã Mường Báng")),
    "Xã Mường Chà": ("Huyện Mường Chà", ("Thị trấn Mường Chà", "Xã Sa Lông")),
}
HOSPITALS = (
    (
        "Bệnh viện Đa khoa tỉnh Điện Biên",
        "Điện Biên Provincial General Hospital",
        (
            ("Quầy đăng ký khám bệnh", "Registration counter"),
            ("Khoa Khám bệnh", "Outpatient clinic"),
            ("Nhà thuốc bệnh viện", "Hospital pharmacy"),
            ("Khoa Nội tổng hợp", "General internal medicine ward"),
        ),
    ),
    (
        "Bệnh viện Sản Nhi tỉnh Điện Biên",
        "Điện Biên Provincial Obstetrics and Paediatrics Hospital",
        (("Quầy đăng ký khám bệnh", "Registration counter"), ("Khoa Nhi", "Paediatric ward")),
    ),
    ("Trung tâm Y tế huyện Tuần Giáo", "Tuần Giáo District Health Centre", ()),
    ("Trung tâm Y tế huyện Mường Chà", "Mường Chà District Health Centre", ()),
    ("Trung tâm Y tế huyện Điện Biên Đông", "Điện Biên Đông District Health Centre", ()),
    ("Trung tâm Y tế huyện Nậm Pồ", "Nậm Pồ District Health Centre", ()),
)
SCHOOLS = (
    (
        "Trường THPT Chuyên Lê Quý Đôn",
        "Lê Quý Đôn Specialised Upper-Secondary School",
        "province",
    ),
    ("Trường THPT Phan Đình Giót", "Phan Đình Giót Upper-Secondary School", "province"),
    ("Trường THPT Tuần Giáo", "Tuần Giáo Upper-Secondary School", "province"),
    ("Trường THCS Thanh Bình", "Thanh Bình Lower-Secondary School", "commune"),
    ("Trường THCS Quài Cang", "Quài Cang Lower-Secondary School", "commune"),
    ("Trường Tiểu học Him Lam", "Him Lam Primary School", "commune"),
    ("Trường Tiểu học Quài Nưa", "Quài Nưa Primary School", "commune"),
    ("Trường Mầm non Hoa Ban", "Hoa Ban Kindergarten", "commune"),
    ("Trường Mầm non Tuần Giáo", "Tuần Giáo Kindergarten", "commune"),
)
POSITIVE_COMMENTS = (
    "Cán bộ hướng dẫn tận tình, cảm ơn.",
    "Thủ tục nhanh gọn, trả kết quả đúng hẹn.",
    "Nơi chờ sạch sẽ, có nước uống.",
    "Rất hài lòng với thái độ phục vụ.",
)
NEGATIVE_COMMENTS = (
    "Phải đi lại nhiều lần mới xong hồ sơ.",
    "Chờ quá lâu, cần thêm quầy tiếp nhận.",
    "Biển chỉ dẫn khó hiểu, không biết nộp ở đâu.",
    "Kết quả trả chậm so với giấy hẹn.",
    "Nhà vệ sinh chưa sạch.",
)


@dataclass
class DemoPoint:
    sector: str
    monthly_volume: int
    response_rate: float
    satisfaction: float  # latent share satisfied in Q1
    drift: float  # change in the latent share per quarter
    active_months: tuple[int, ...]
    channel: str = "qr"
    stored: ServicePoint | None = None  # set once the organisation is stored

    @property
    def point(self) -> ServicePoint:
        if self.stored is None:
            raise RuntimeError("the demo organisation is not stored yet")
        return self.stored


@dataclass
class DemoProvince:
    points: list[DemoPoint] = field(default_factory=list)
    created: bool = True


def slug(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in ascii_text.upper()).strip("-")


def english_name(unit_vi: str) -> str:
    """The English name of a district, commune or ward of the demo ("Huyện Tuần Giáo" →
    "Tuần Giáo District")."""
    name = english_unit_name(unit_vi)
    if name is None:
        raise ValueError(f"no English name for {unit_vi!r}")
    return name


def load_demo_province(session: Session, seed: int = 2025) -> DemoProvince:
    """Create the demo province and its year of responses, unless it is already there.

    Returns the demo's service points; ``created`` is False when nothing was added.
    """
    seed_questionnaires(session)
    if queries.agency_by_code(session, PROVINCE_CODE) is not None:
        seed_targets(session)
        session.flush()
        return DemoProvince(created=False)
    rng = np.random.default_rng(seed)
    demo = DemoProvince()
    _build_structure(session, rng, demo)  # through the organisation import
    seed_targets(session)
    _add_volumes_and_responses(session, rng, demo)
    session.flush()
    queries.refresh_statistics(session)  # before the roll-up: its joins need the row counts
    roll_up(session)  # the reports' element sums, as cron keeps them (flask roll-up-reports)
    return demo


class _Organisation:
    """The demo's agencies and points as rows of the organisation file, and the demo points whose
    answers are simulated (``rng`` drawn in the same order as always: the demo stays the same)."""

    def __init__(self, rng: np.random.Generator, demo: DemoProvince) -> None:
        self.rng = rng
        self.demo = demo
        self.rows: list[Row] = []
        self.pending: list[tuple[str, DemoPoint]] = []  # point code → its simulation
        self.points = 0

    def agency(
        self,
        name_vi: str,
        name_en: str,
        code: str,
        *,
        sector: str,
        level: str,
        valid_from: dt.date,
        parent: str = "",
        valid_to: dt.date | None = None,
        successor: str = "",
    ) -> str:
        self._row(code, name_vi, name_en, parent, sector, level, valid_from, valid_to, successor)
        return code

    def point(
        self,
        agency: str,
        name_vi: str,
        name_en: str,
        sector: str,
        volume: tuple[int, int],
        months: tuple[int, ...],
        channel: str = "qr",
    ) -> None:
        first = next(row for row in self.rows if row["agency_code"] == agency)
        self.points += 1
        code = f"{PROVINCE_CODE}-SP{self.points:03d}"
        self.rows.append(
            Row(
                len(self.rows) + 2,
                {
                    **first.cells,
                    "service_point_code": code,
                    "service_point_name": name_vi,
                    "service_point_name_en": name_en,
                },
            )
        )
        satisfaction = float(self.rng.uniform(0.50, 0.95))
        demo_point = DemoPoint(
            sector=sector,
            monthly_volume=int(self.rng.integers(*volume)),
            response_rate=float(self.rng.uniform(*RESPONSE_RATES[sector])),
            satisfaction=satisfaction,
            drift=float(self.rng.normal(0.015, 0.02)),
            active_months=months,
            channel=channel,
        )
        self.pending.append((code, demo_point))

    def _row(
        self,
        code: str,
        name_vi: str,
        name_en: str,
        parent: str,
        sector: str,
        level: str,
        valid_from: dt.date,
        valid_to: dt.date | None,
        successor: str,
    ) -> None:
        self.rows.append(
            Row(
                len(self.rows) + 2,
                {
                    "agency_code": code,
                    "agency_name": name_vi,
                    "agency_name_en": name_en,
                    "parent_code": parent,
                    "sector": sector,
                    "level": level,
                    "valid_from": valid_from.isoformat(),
                    "valid_to": valid_to.isoformat() if valid_to else "",
                    "successor_code": successor,
                    "service_point_code": "",
                    "service_point_name": "",
                    "service_point_name_en": "",
                },
            )
        )

    def store(self, session: Session) -> None:
        """Through the organisation import (survey/services/setup/organisation.py)."""
        store_organisation(session, self.rows, ImportReport(), actor=None, subject="demo")
        points = queries.service_points_by_code(session)
        for code, demo_point in self.pending:
            demo_point.stored = points[code]
            self.demo.points.append(demo_point)


# Hospital counters are busy and few patients answer; parents answer more often.
RESPONSE_RATES = {
    "administrative": (0.03, 0.20),
    "health": (0.01, 0.05),
    "education": (0.15, 0.35),
}


def _build_structure(session: Session, rng: np.random.Generator, demo: DemoProvince) -> None:
    all_year = tuple(range(1, 13))
    first_half, second_half = tuple(range(1, 7)), tuple(range(7, 13))
    org = _Organisation(rng, demo)
    province = org.agency(
        "Tỉnh Điện Biên",
        "Điện Biên Province",
        PROVINCE_CODE,
        sector="administrative",
        level="province",
        valid_from=ESTABLISHED,
    )
    centre = org.agency(
        "Trung tâm Phục vụ hành chính công tỉnh",
        "Provincial Public Administration Service Centre",
        f"{PROVINCE_CODE}-TTPVHCC",
        sector="administrative",
        level="province",
        valid_from=ESTABLISHED,
        parent=province,
    )
    for counter in range(1, 4):
        org.point(
            centre,
            f"Quầy tiếp nhận số {counter}",
            f"Reception counter {counter}",
            "administrative",
            (800, 2500),
            all_year,
            channel="kiosk" if counter == 1 else "qr",
        )
    departments: dict[str, str] = {}
    for name_vi, name_en in zip(DEPARTMENTS, DEPARTMENTS_EN, strict=True):
        department = org.agency(
            name_vi,
            name_en,
            f"{PROVINCE_CODE}-{slug(name_vi)}",
            sector="administrative",
            level="province",
            valid_from=ESTABLISHED,
            parent=province,
        )
        departments[name_vi] = department
        org.point(
            department,
            "Bộ phận tiếp nhận và trả kết quả",
            "One-stop reception desk",
            "administrative",
            (100, 1500),
            all_year,
        )

    districts: dict[str, str] = {}
    for name in DISTRICTS:
        district = org.agency(
            name,
            english_name(name),
            f"{PROVINCE_CODE}-{slug(name)}",
            sector="administrative",
            level="district",
            valid_from=ESTABLISHED,
            valid_to=REORGANISATION,
            parent=province,
        )
        districts[name] = district
        org.point(
            district,
            "Bộ phận tiếp nhận và trả kết quả UBND cấp huyện",
            "District one-stop reception desk",
            "administrative",
            (200, 900),
            first_half,
        )

    for new_name, (district_name, old_names) in MERGERS.items():
        new_commune = org.agency(
            new_name,
            english_name(new_name),
            f"{PROVINCE_CODE}-{slug(new_name)}-2025",
            sector="administrative",
            level="commune",
            valid_from=REORGANISATION,
            parent=province,
        )
        org.point(
            new_commune,
            "Bộ phận một cửa UBND cấp xã",
            "Commune one-stop desk",
            "administrative",
            (250, 900),
            second_half,
        )
        for old_name in old_names:
            old_commune = org.agency(
                old_name,
                english_name(old_name),
                f"{PROVINCE_CODE}-{slug(district_name)}-{slug(old_name)}",
                sector="administrative",
                level="commune",
                valid_from=ESTABLISHED,
                valid_to=REORGANISATION,
                parent=districts[district_name],
                successor=new_commune,
            )
            org.point(
                old_commune,
                "Bộ phận một cửa UBND cấp xã",
                "Commune one-stop desk",
                "administrative",
                (40, 300),
                first_half,
            )

    health_department = departments["Sở Y tế"]
    for name_vi, name_en, counters in HOSPITALS:
        hospital = org.agency(
            name_vi,
            name_en,
            f"{PROVINCE_CODE}-{slug(name_vi)}",
            sector="health",
            level="province",
            valid_from=ESTABLISHED,
            parent=health_department,
        )
        for counter_vi, counter_en in counters or (("Khoa Khám bệnh", "Outpatient clinic"),):
            org.point(hospital, counter_vi, counter_en, "health", (1500, 6000), all_year)

    education_department = departments["Sở Giáo dục và Đào tạo"]
    for name_vi, name_en, level in SCHOOLS:
        school = org.agency(
            name_vi,
            name_en,
            f"{PROVINCE_CODE}-{slug(name_vi)}",
            sector="education",
            level=level,
            valid_from=ESTABLISHED,
            parent=education_department,
        )
        org.point(
            school, "Văn phòng nhà trường", "School office", "education", (150, 600), all_year
        )
    org.store(session)


def _add_volumes_and_responses(
    session: Session, rng: np.random.Generator, demo: DemoProvince
) -> None:
    questionnaires: dict[str, Questionnaire] = {}
    for sector in ("administrative", "health", "education"):
        questionnaire = queries.active_questionnaire(session, sector)
        if questionnaire is None:
            raise RuntimeError(f"no active questionnaire for {sector}")
        questionnaires[sector] = questionnaire
    volumes: list[Row] = []
    volume_of: dict[tuple[int, dt.date], int] = {}
    expected = 0.0
    for demo_point in demo.points:
        for month in demo_point.active_months:
            volume = max(1, int(demo_point.monthly_volume * rng.uniform(0.8, 1.2)))
            volumes.append(
                Row(
                    len(volumes) + 2,
                    {
                        "service_point_code": demo_point.point.code,
                        "month": f"{YEAR}-{month:02d}",
                        "citizens_served": str(volume),
                    },
                )
            )
            volume_of[(demo_point.point.id, dt.date(YEAR, month, 1))] = volume
            expected += volume * demo_point.response_rate
    # Through the volumes import (survey/services/setup/volumes.py): counts, not plans.
    store_volumes(
        session, volumes, ImportReport(), actor=None, subject="demo", today=dt.date(YEAR, 12, 31)
    )
    rate_scale = TARGET_RESPONSES / expected

    response_rows: list[dict[str, Any]] = []
    answer_values: list[dict[str, int | None]] = []
    for demo_point in demo.points:
        questionnaire = questionnaires[demo_point.sector]
        for month in demo_point.active_months:
            volume = volume_of[(demo_point.point.id, dt.date(YEAR, month, 1))]
            count = int(rng.poisson(volume * demo_point.response_rate * rate_scale))
            count = min(count, volume)
            quarter = pd.Period(dt.date(YEAR, month, 1), freq="Q").quarter - 1  # 0 … 3
            share = float(np.clip(demo_point.satisfaction + demo_point.drift * quarter, 0.2, 0.98))
            for _ in range(count):
                response_rows.append(
                    _response_row(rng, demo_point, questionnaire, month, len(response_rows))
                )
                answer_values.append(_answers(rng, questionnaire, share))
    item_ids = {
        (questionnaire.id, item.code): item.id
        for questionnaire in questionnaires.values()
        for item in questionnaire.items
    }
    # Through the bulk path of the response imports (survey/services/setup/paper.py).
    store_response_rows(
        session,
        [
            (
                {**row, "excluded": False},
                {
                    item_ids[(row["questionnaire_id"], code)]: value
                    for code, value in values.items()
                },
            )
            for row, values in zip(response_rows, answer_values, strict=True)
        ],
    )


def _response_row(
    rng: np.random.Generator,
    demo_point: DemoPoint,
    questionnaire: Questionnaire,
    month: int,
    index: int,
) -> dict[str, object]:
    day = int(rng.integers(1, 29))
    minute = int(rng.integers(7 * 60 + 30, 17 * 60))
    local = dt.datetime(
        YEAR, month, day, minute // 60, minute % 60, int(rng.integers(0, 60)), tzinfo=VIETNAM_TIME
    )
    comment = None
    if rng.random() < 0.06:
        pool = POSITIVE_COMMENTS if rng.random() < demo_point.satisfaction else NEGATIVE_COMMENTS
        comment = pool[int(rng.integers(0, len(pool)))]
    return {
        "idempotency_key": f"demo-{YEAR}-{index:010d}",
        "service_point_id": demo_point.point.id,
        "questionnaire_id": questionnaire.id,
        "channel": demo_point.channel,
        "language": "vi" if rng.random() < 0.97 else "en",
        "submitted_at": local.astimezone(dt.UTC),
        "comment": comment,
    }


# Latent-scale cut points between answers 1|2, 2|3, 3|4 and 4|5: answer ≥ 4 when the latent
# value exceeds -0.3, so a latent mean of Φ⁻¹(p) − 0.3 gives a share p of satisfied answers.
_CUTS = np.array([-2.0, -1.2, -0.3, 1.0])


def _answers(
    rng: np.random.Generator, questionnaire: Questionnaire, share: float
) -> dict[str, int | None]:
    mean = float(norm.ppf(share)) - 0.3
    person = rng.normal(0.0, 0.8)
    latent = mean + person + rng.normal(0.0, 0.6, size=len(questionnaire.items))
    values = 1 + np.searchsorted(_CUTS, latent)
    answers: dict[str, int | None] = {}
    for item, value in zip(questionnaire.items, values, strict=True):
        not_applicable = item.allows_not_applicable and rng.random() < 0.15
        answers[item.code] = None if not_applicable else int(value)
    return answers
