"""The words of a filed report, in Vietnamese and in English.

The document's language is an argument (the reader's page language), never the request's, so the
same report can be printed from a background job. Headings follow the administrative style of
Decree 30/2020/NĐ-CP: numbered sections, a document type in capitals above the title.
"""

from __future__ import annotations

from survey.formatting import number
from survey.services.reporting import ScopeReport
from survey.services.reporting.present import VERDICT_NAMES

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "emblem": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "number": "Số:",
        "kind": "BÁO CÁO",
        "translation": "",
        "recipients": "Nơi nhận:",
        "archive": "Lưu",
        "scope": "Phạm vi",
        "period": "Kỳ báo cáo",
        "responses": "Số phiếu hợp lệ",
        "summary": "Kết quả so với mục tiêu",
        "tables": "Kết quả theo lĩnh vực và theo đơn vị",
        "charts": "Biểu đồ",
        "comments": "Ý kiến của người dân, tổ chức",
        "method": "Ghi chú phương pháp",
        "by_sector": "Bảng {n}. Chỉ số hài lòng theo lĩnh vực",
        "by_agency": "Bảng {n}. Chỉ số hài lòng theo cơ quan, đơn vị",
        "by_point": "Bảng {n}. Chỉ số hài lòng theo điểm phục vụ",
        "by_quarter": "Bảng {n}. Chỉ số hài lòng theo quý",
        "by_topic": "Bảng {n}. Số ý kiến theo chủ đề",
        "figure": "Hình {n}. {title}",
        "part": " (phần {part}/{parts})",
        "unit": "Đơn vị",
        "sector": "Lĩnh vực",
        "quarter": "Quý",
        "share": "Tỷ lệ hài lòng",
        "ci": "KTC 95%",
        "target": "Mục tiêu",
        "verdict": "Kết luận",
        "topic": "Chủ đề",
        "count": "Số ý kiến",
        "of_tagged": "Tỷ lệ trên số ý kiến đã phân loại",
        "too_few": "Chưa đủ phiếu (n < {min_n})",
        "not_estimable": "Không ước lượng được",
        "retired": "đã giải thể",
        "coverage": "Điểm phục vụ chưa đủ phiếu để kết luận (n < {min_n}):",
        "comparison": "So sánh giữa các đơn vị:",
        "change": "Thay đổi so với kỳ trước:",
        "none": "Chưa có phiếu nào trong kỳ này.",
        "no_charts": "Không có biểu đồ cho kỳ này.",
        "comments_total": (
            "Trong kỳ có {total} ý kiến góp ý, trong đó {tagged} ý kiến đã được phân loại theo "
            "chủ đề bằng bộ từ khóa tiếng Việt (một ý kiến có thể thuộc nhiều chủ đề)."
        ),
        "comments_untagged": "{untagged} ý kiến chưa được phân loại khi lập báo cáo.",
        "comments_caveat": (
            "Đây là số ý kiến, không phải ước lượng khảo sát: người góp ý là những người tự chọn "
            "viết ý kiến, nên tỷ lệ cho biết những vấn đề người góp ý nêu ra, không phải tỷ lệ "
            "người dân gặp vấn đề đó."
        ),
        "comments_none": "Không có ý kiến góp ý nào trong kỳ này.",
        "examples": "Một số ý kiến tiêu biểu (ẩn danh, đã che số điện thoại và email):",
    },
    "en": {
        "emblem": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "number": "No.:",
        "kind": "REPORT",
        "translation": (
            "English version for reference; the Vietnamese version is the document that is "
            "signed and filed."
        ),
        "recipients": "Recipients:",
        "archive": "Archived",
        "scope": "Scope",
        "period": "Period",
        "responses": "Valid responses",
        "summary": "Results against targets",
        "tables": "Results by sector and by unit",
        "charts": "Charts",
        "comments": "Comments from citizens and organisations",
        "method": "Method note",
        "by_sector": "Table {n}. Satisfaction index by sector",
        "by_agency": "Table {n}. Satisfaction index by agency",
        "by_point": "Table {n}. Satisfaction index by service point",
        "by_quarter": "Table {n}. Satisfaction index by quarter",
        "by_topic": "Table {n}. Comments by topic",
        "figure": "Figure {n}. {title}",
        "part": " (part {part} of {parts})",
        "unit": "Unit",
        "sector": "Sector",
        "quarter": "Quarter",
        "share": "Share satisfied",
        "ci": "95% CI",
        "target": "Target",
        "verdict": "Verdict",
        "topic": "Topic",
        "count": "Comments",
        "of_tagged": "Share of the comments tagged",
        "too_few": "Too few responses (n < {min_n})",
        "not_estimable": "Not estimable",
        "retired": "retired",
        "coverage": "Service points with too few responses to conclude (n < {min_n}):",
        "comparison": "Comparison between units:",
        "change": "Change since the previous period:",
        "none": "No responses in this period.",
        "no_charts": "No charts for this period.",
        "comments_total": (
            "{total} comments were received in the period; {tagged} of them are tagged by topic "
            "with the Vietnamese lexicon (a comment may have several topics)."
        ),
        "comments_untagged": "{untagged} comments were not yet tagged when the report was made.",
        "comments_caveat": (
            "These are counts of comments, not survey estimates: citizens who comment chose to, "
            "so a share says what commenters raise, not how many citizens met the problem."
        ),
        "comments_none": "No comments in this period.",
        "examples": "A few of the comments (anonymous; phone numbers and e-mails masked):",
    },
}
VERDICTS = VERDICT_NAMES  # one vocabulary with the pages (survey/services/reporting/present.py)


def words(language: str) -> dict[str, str]:
    """The document's words in ``language`` (Vietnamese for anything but English)."""
    return TEXT["en" if language == "en" else "vi"]


def method_note(report: ScopeReport, language: str) -> str:
    """How the figures were computed, in one paragraph (the last section of the report)."""
    min_n = number(report.min_n, language)
    if language == "vi":
        text = (
            "Chỉ số chính là tỷ lệ người trả lời hài lòng (mức 4 hoặc 5 trên thang 5 mức) với câu "
            "hỏi hài lòng chung. Thiết kế mẫu tại quầy: mỗi điểm phục vụ trong mỗi quý là một "
            "tầng, "
            "người trả lời là mẫu ngẫu nhiên đơn giản của người được phục vụ, số lượt phục vụ là "
            "quy mô tổng thể; trọng số = số lượt phục vụ / số phiếu. Phương sai ước lượng bằng "
            "tuyến tính hóa Taylor (như gói survey của R); khoảng tin cậy 95% theo phương pháp "
            "logit với phân phối t theo bậc tự do của thiết kế; nhóm mà mọi người đều hài lòng "
            "(hoặc không ai hài lòng) dùng khoảng Korn–Graubard trên cỡ mẫu hiệu dụng. Kết luận "
            "so với mục tiêu: “đạt” khi cả khoảng tin cậy cao hơn mục tiêu, “chưa đạt” khi thấp "
            "hơn, còn lại là chưa kết luận được; giá trị p đi kèm là p một phía, tính từ chính "
            "khoảng tin cậy đó. Số phiếu cần thêm để kết luận được tính với giả định tỷ lệ hiện "
            "tại là đúng (xác suất kết luận 80%), không vượt quá số người được phục vụ chưa được "
            "khảo sát. Mức thay đổi so với kỳ trước là kỳ này trừ kỳ trước, kèm khoảng tin cậy "
            "của chính hiệu đó, và chỉ được báo cáo khi cả hai kỳ có ít nhất "
            f"{min_n} phiếu. Chỉ báo cáo số liệu khi có ít nhất "
            f"{min_n} phiếu. Chỉ số thành phần là tỷ lệ câu trả lời hài lòng trên các câu "
            "trả lời hợp lệ của từng nhóm tiêu chí; “không áp dụng” không tính vào mẫu số. Dữ liệu "
            "QR và kiosk là tự nguyện tham gia, không phải mẫu xác suất. Tầng chỉ có một phiếu "
            "(không ước lượng được phương sai trong tầng) được xử lý như tùy chọn "
            'survey.lonely.psu = "adjust" của R: độ lệch của tầng so với trung bình chung '
            "được tính vào phương sai, để khoảng tin cậy không bị hẹp đi."
        )
    else:
        text = (
            "The headline index is the share of respondents satisfied (4 or 5 on the five-point "
            "scale) on the overall question. Counter design: each service point in each quarter "
            "is a stratum, respondents a simple random sample of the citizens served, the service "
            "volume the population size; weights = volume / responses. Variances by Taylor "
            "linearisation (as R's survey package); 95% intervals on the logit scale with t on "
            "the design's degrees of freedom; a group where everyone (or no one) is satisfied gets "
            "a Korn–Graubard interval on the effective sample size. Against a target: “met” when "
            "the whole interval is above it, “not met” when below, otherwise not yet "
            "distinguishable; the p-value beside a verdict is one-sided and comes from that same "
            "interval. The responses still needed to decide assume the current share is the "
            "truth (80% chance of deciding) and never exceed the citizens served who were not "
            "surveyed. The change since the previous period is this period minus the previous "
            "one, with the interval of that difference, shown only when both periods have at "
            f"least {min_n} responses. Figures are shown only from {min_n} "
            "responses. Element "
            "indices are the share of satisfied answers among valid answers of each element; "
            "“not applicable” is left out of the denominator. QR and kiosk data are self-selected, "
            "not a probability sample. A stratum with a single response (no within-stratum "
            'variance to estimate) is treated as R\'s survey.lonely.psu = "adjust": its '
            "deviation from the overall mean counts in the variance, so that the interval is not "
            "made narrower."
        )
    if report.volume_note:
        text += " " + report.volume_note
    return text
