"""The shipped questionnaires, short forms of the official Vietnamese methods.

Each is answerable in under a minute: one satisfaction item per element, a few perception items,
the overall item and an optional comment. Sources (the official methods):

- administrative: SIPAS, Ministry of Home Affairs (1383/QĐ-BNV 2012, 2640/QĐ-BNV 2017): five
  elements access, procedures, civil servants, results, feedback handling.
- health: Ministry of Health patient survey (3869/QĐ-BYT 2019, 56/QĐ-BYT 2024): areas A–E.
- education: Ministry of Education and Training (3982/QĐ-BGDĐT 2013, 2329/QĐ-BGDĐT 2017).

Changing a question means adding a new version here; answered versions stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ItemSpec:
    code: str
    text_vi: str
    text_en: str
    allows_not_applicable: bool = False


@dataclass(frozen=True)
class ElementSpec:
    code: str
    name_vi: str
    name_en: str
    items: tuple[ItemSpec, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class QuestionnaireSpec:
    code: str
    version: int
    sector: str
    title_vi: str
    title_en: str
    source: str
    elements: tuple[ElementSpec, ...]
    overall: ItemSpec


OVERALL_CODE = "overall"

ADMINISTRATIVE = QuestionnaireSpec(
    code="administrative",
    version=1,
    sector="administrative",
    title_vi="Đánh giá sự hài lòng với dịch vụ hành chính công",
    title_en="Satisfaction with administrative services",
    source="SIPAS (1383/QĐ-BNV 2012, 2640/QĐ-BNV 2017); Nghị định 61/2018/NĐ-CP",
    elements=(
        ElementSpec(
            "access",
            "Tiếp cận dịch vụ",
            "Access to services",
            (
                ItemSpec(
                    "access",
                    "Nơi tiếp nhận hồ sơ dễ tìm, thuận tiện, có đủ chỗ ngồi",
                    "The reception desk was easy to find, convenient and had enough seats",
                ),
            ),
        ),
        ElementSpec(
            "procedures",
            "Thủ tục hành chính",
            "Administrative procedures",
            (
                ItemSpec(
                    "procedures",
                    "Thủ tục được niêm yết công khai, đầy đủ, dễ hiểu",
                    "The procedure was posted publicly, complete and easy to understand",
                ),
            ),
        ),
        ElementSpec(
            "staff",
            "Công chức trực tiếp giải quyết công việc",
            "Civil servants handling the case",
            (
                ItemSpec(
                    "staff_courtesy",
                    "Công chức có thái độ lịch sự, tận tình",
                    "Staff were polite and helpful",
                ),
                ItemSpec(
                    "staff_guidance",
                    "Công chức hướng dẫn kê khai hồ sơ đầy đủ, dễ hiểu",
                    "Staff explained clearly what the application needed",
                ),
            ),
        ),
        ElementSpec(
            "results",
            "Kết quả dịch vụ",
            "Service results",
            (
                ItemSpec(
                    "results",
                    "Kết quả được trả đúng hẹn và đúng quy định",
                    "The result came on time and as the law requires",
                    allows_not_applicable=True,
                ),
            ),
        ),
        ElementSpec(
            "feedback",
            "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị",
            "Receiving and handling feedback",
            (
                ItemSpec(
                    "feedback",
                    "Góp ý, phản ánh của Ông/Bà được tiếp nhận và trả lời thỏa đáng",
                    "Your comments or complaints were received and answered properly",
                    allows_not_applicable=True,
                ),
            ),
        ),
    ),
    overall=ItemSpec(
        OVERALL_CODE,
        "Nhìn chung, Ông/Bà hài lòng thế nào với việc giải quyết thủ tục hôm nay?",
        "Overall, how satisfied are you with how your case was handled today?",
    ),
)

HEALTH = QuestionnaireSpec(
    code="health",
    version=1,
    sector="health",
    title_vi="Khảo sát hài lòng người bệnh",
    title_en="Patient satisfaction survey",
    source="Bộ Y tế, 3869/QĐ-BYT 2019 và 56/QĐ-BYT 2024 (phiếu rút gọn tại quầy)",
    elements=(
        ElementSpec(
            "access",
            "Khả năng tiếp cận",
            "Access",
            (
                ItemSpec(
                    "access",
                    "Biển báo, chỉ dẫn đến khoa, phòng rõ ràng, dễ tìm",
                    "Signs to the departments were clear and easy to follow",
                ),
            ),
        ),
        ElementSpec(
            "transparency",
            "Minh bạch thông tin và thủ tục",
            "Transparent information and procedures",
            (
                ItemSpec(
                    "transparency",
                    "Giá dịch vụ được niêm yết rõ ràng, thủ tục đăng ký nhanh gọn",
                    "Prices were posted clearly and registration was quick",
                ),
            ),
        ),
        ElementSpec(
            "facilities",
            "Cơ sở vật chất và phương tiện phục vụ",
            "Facilities",
            (
                ItemSpec(
                    "facilities",
                    "Khu chờ, nhà vệ sinh sạch sẽ, đủ chỗ ngồi",
                    "Waiting areas and toilets were clean with enough seats",
                ),
            ),
        ),
        ElementSpec(
            "staff",
            "Thái độ ứng xử, năng lực chuyên môn",
            "Staff attitude and competence",
            (
                ItemSpec(
                    "staff_courtesy",
                    "Nhân viên y tế lịch sự, tôn trọng, không gợi ý bồi dưỡng",
                    "Health staff were polite and respectful and did not hint at informal payment",
                ),
                ItemSpec(
                    "staff_explanation",
                    "Bác sĩ, điều dưỡng giải thích rõ về bệnh và cách điều trị",
                    "Doctors and nurses explained the illness and treatment clearly",
                ),
            ),
        ),
        ElementSpec(
            "results",
            "Kết quả cung cấp dịch vụ",
            "Service results",
            (
                ItemSpec(
                    "results",
                    "Kết quả khám, chữa bệnh đáp ứng mong đợi",
                    "The care you received met your expectations",
                    allows_not_applicable=True,
                ),
            ),
        ),
    ),
    overall=ItemSpec(
        OVERALL_CODE,
        "Nhìn chung, Ông/Bà hài lòng thế nào với lần khám, chữa bệnh này?",
        "Overall, how satisfied are you with this visit?",
    ),
)

EDUCATION = QuestionnaireSpec(
    code="education",
    version=1,
    sector="education",
    title_vi="Khảo sát hài lòng của cha mẹ học sinh và người học",
    title_en="Satisfaction of parents and learners",
    source="Bộ GD&ĐT, 3982/QĐ-BGDĐT 2013; mẫu phiếu 2329/QĐ-BGDĐT 2017",
    elements=(
        ElementSpec(
            "access",
            "Tiếp cận dịch vụ giáo dục",
            "Access to education services",
            (
                ItemSpec(
                    "access",
                    "Thông tin tuyển sinh, học phí, các khoản thu được công khai rõ ràng",
                    "Admission information, fees and charges were published clearly",
                ),
            ),
        ),
        ElementSpec(
            "facilities",
            "Cơ sở vật chất, trang thiết bị",
            "Facilities and equipment",
            (
                ItemSpec(
                    "facilities",
                    "Phòng học, sân chơi, nhà vệ sinh sạch sẽ, an toàn",
                    "Classrooms, playground and toilets were clean and safe",
                ),
            ),
        ),
        ElementSpec(
            "environment",
            "Môi trường giáo dục",
            "Educational environment",
            (
                ItemSpec(
                    "environment",
                    "Học sinh được đối xử công bằng, an toàn, không bị bạo lực",
                    "Learners are treated fairly and kept safe from violence",
                ),
            ),
        ),
        ElementSpec(
            "activities",
            "Hoạt động giáo dục",
            "Educational activities",
            (
                ItemSpec(
                    "teaching",
                    "Giáo viên giảng dạy nhiệt tình, dễ hiểu",
                    "Teachers teach with care and clearly",
                ),
                ItemSpec(
                    "communication",
                    "Nhà trường trao đổi thường xuyên với gia đình",
                    "The school keeps in regular touch with the family",
                    allows_not_applicable=True,
                ),
            ),
        ),
        ElementSpec(
            "results",
            "Kết quả giáo dục",
            "Educational results",
            (
                ItemSpec(
                    "results",
                    "Học sinh tiến bộ về kiến thức, kỹ năng, đạo đức",
                    "The learner is making progress in knowledge, skills and character",
                ),
            ),
        ),
    ),
    overall=ItemSpec(
        OVERALL_CODE,
        "Nhìn chung, Ông/Bà hài lòng thế nào với nhà trường?",
        "Overall, how satisfied are you with the school?",
    ),
)

SHIPPED_QUESTIONNAIRES: tuple[QuestionnaireSpec, ...] = (ADMINISTRATIVE, HEALTH, EDUCATION)
