"""The public report's longer sentences in Vietnamese and English, shared by the page and the PDF
(as survey/services/report_pdf.py does for the official report): the method note and the note on
what is withheld. Short labels of the page are in its templates (gettext)."""

from __future__ import annotations

from survey.services.publication.suppression import PublicReport
from survey.services.reporting.present import VERDICT_NAMES, verdict_name

NBSP = "\u00a0"  # a no-break space

VERDICTS = VERDICT_NAMES  # one vocabulary with the pages (survey/services/reporting/present.py)
__all__ = ["VERDICTS", "document_title", "method_note", "verdict_name", "withheld_note"]


def withheld_note(report: PublicReport, language: str) -> str:
    """What this report leaves out, and why (the counts "< N" and "≥ N" never break apart)."""
    n = report.minimum
    below, above = f"<{NBSP}{n}", f"≥{NBSP}{n}"
    if language == "vi":
        return (
            "Báo cáo công khai không có ý kiến góp ý bằng lời của người dân và không công bố số "
            f"liệu của nhóm (lĩnh vực, cơ quan, điểm phục vụ, quý, câu hỏi) có dưới {n} phiếu: "
            f"số phiếu của nhóm đó chỉ ghi “{below}”. Khi một nhóm nhỏ có thể bị suy ra bằng phép "
            "trừ từ tổng đã công bố, nhóm cùng cấp có ít phiếu nhất cũng không được công bố "
            f"(số phiếu ghi “{above}”). Phiếu bị loại sau khi xem xét không được tính, như trong "
            "báo cáo chính thức."
        )
    return (
        "The public report holds no comment written by citizens and no figure for a group "
        f"(sector, agency, service point, quarter, question) with fewer than {n} responses: such "
        f"a group's count reads “{below}”. Where a small group could be worked out by subtraction "
        "from a published total, the group beside it with the fewest responses is not published "
        f"either (its count reads “{above}”). Responses excluded after review are not counted, as "
        "in the official report."
    )


def method_note(report: PublicReport, language: str) -> list[str]:
    """How the figures are made, in plain words (paragraphs)."""
    n = report.minimum
    if language == "vi":
        paragraphs = [
            "Chỉ số chính là tỷ lệ người trả lời hài lòng (mức 4 hoặc 5 trên thang 5 mức) với câu "
            "hỏi hài lòng chung. Người dân trả lời tự nguyện qua mã QR, máy tính bảng tại quầy "
            "hoặc phiếu giấy; mỗi phiếu được gán trọng số theo số lượt người được phục vụ tại điểm "
            "phục vụ trong quý, để điểm đông người không bị điểm vắng người lấn át.",
            "Khoảng tin cậy 95% cho biết độ không chắc chắn của tỷ lệ do chỉ một phần người được "
            "phục vụ trả lời. Kết luận so với mục tiêu: “Đạt” khi cả khoảng tin cậy cao hơn mục "
            "tiêu, “Chưa đạt” khi cả khoảng thấp hơn, còn lại là “Chưa kết luận được”.",
            "Mức thay đổi so với quý trước là quý này trừ quý trước, kèm khoảng tin cậy của chính "
            f"hiệu đó, chỉ khi cả hai quý có ít nhất {n} phiếu.",
            withheld_note(report, language),
        ]
        if report.volume_estimated:
            paragraphs.append(
                "Một số điểm phục vụ chưa có số lượt phục vụ; số lượt của các điểm đó được ước "
                "tính từ tỷ lệ trả lời trung vị của các điểm khác."
            )
        return paragraphs
    paragraphs = [
        "The headline index is the share of respondents satisfied (4 or 5 on a five-point scale) "
        "on the overall question. Citizens answer of their own accord, by QR code, on a tablet at "
        "the counter or on paper; each response is weighted by the number of citizens its service "
        "point served in the quarter, so that busy desks are not outweighed by quiet ones.",
        "The 95% interval shows the uncertainty of a share that comes from only some of the "
        "citizens served answering. Against a target: “Met” when the whole interval is above it, "
        "“Not met” when it is all below, otherwise “Not yet distinguishable”.",
        "The change since the previous quarter is this quarter minus the previous one, with the "
        f"interval of that difference, given only when both quarters have at least {n} "
        "responses.",
        withheld_note(report, language),
    ]
    if report.volume_estimated:
        paragraphs.append(
            "Some service points have no recorded number of citizens served; theirs was estimated "
            "from the median response rate of the others."
        )
    return paragraphs


def document_title(language: str) -> str:
    if language == "vi":
        return "BÁO CÁO CÔNG KHAI KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG CỦA NGƯỜI DÂN, TỔ CHỨC"
    return "PUBLIC REPORT ON CITIZEN AND ORGANISATION SATISFACTION"
