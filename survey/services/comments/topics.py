"""The topics a citizen's comment is tagged with, by code, with their Vietnamese and English names.

Aspect topics name what a citizen complains about (or asks to improve); ``praise`` is a comment
that thanks or commends. A comment may carry several topics (``Cán bộ nhiệt tình nhưng chờ lâu``:
praise and waiting) or none (``Không có ý kiến``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    code: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str

    def name(self, language: str) -> str:
        return self.name_vi if language == "vi" else self.name_en


TOPICS: tuple[Topic, ...] = (
    Topic(
        "waiting",
        "Thời gian chờ đợi",
        "Waiting time",
        "Chờ lâu, xếp hàng, chưa đến lượt, cán bộ làm việc chậm tại chỗ.",
        "Long waits, queues, slow handling at the desk.",
    ),
    Topic(
        "attitude",
        "Thái độ, tác phong cán bộ",
        "Staff attitude and conduct",
        "Hách dịch, cáu gắt, thờ ơ, gây khó dễ, vắng mặt, thiếu công bằng.",
        "Rudeness, indifference, obstruction, absence, favouritism.",
    ),
    Topic(
        "fees",
        "Phí, lệ phí, chi phí không chính thức",
        "Fees and informal payments",
        "Phí cao hoặc không công khai, thu thêm, “bồi dưỡng”, phong bì, tiêu cực.",
        "High or undisclosed fees, extra charges, tips, envelopes, corruption.",
    ),
    Topic(
        "procedures",
        "Thủ tục, hồ sơ, giấy tờ",
        "Procedures and paperwork",
        "Thủ tục rườm rà, nhiều giấy tờ, bổ sung nhiều lần, hướng dẫn không rõ.",
        "Cumbersome steps, many documents, repeated requests, unclear guidance.",
    ),
    Topic(
        "facilities",
        "Cơ sở vật chất",
        "Facilities",
        "Chỗ ngồi, nhà vệ sinh, bãi xe, phòng ốc, trang thiết bị, lối đi.",
        "Seating, toilets, parking, rooms, equipment, access.",
    ),
    Topic(
        "results",
        "Kết quả và thời hạn trả kết quả",
        "Results and their timeliness",
        "Trễ hẹn, quá hạn, hẹn nhiều lần, kết quả sai hoặc chưa giải quyết.",
        "Late or overdue results, repeated postponements, wrong or unresolved outcomes.",
    ),
    Topic(
        "online",
        "Dịch vụ công trực tuyến, hệ thống",
        "Online services and systems",
        "Cổng dịch vụ công, ứng dụng, mạng, phần mềm bị lỗi hoặc khó dùng.",
        "Public-service portal, apps, network and software failing or hard to use.",
    ),
    Topic(
        "praise",
        "Khen ngợi",
        "Praise",
        "Cảm ơn, hài lòng, khen cán bộ hay dịch vụ.",
        "Thanks, satisfaction, commendation of staff or service.",
    ),
)
TOPIC_CODES: tuple[str, ...] = tuple(topic.code for topic in TOPICS)
BY_CODE: dict[str, Topic] = {topic.code: topic for topic in TOPICS}
