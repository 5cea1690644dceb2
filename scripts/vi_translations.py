"""Vietnamese texts of the interface: writes translations/vi/LC_MESSAGES/messages.po and .mo.

Run after adding or changing a user-facing string:
``pybabel extract -F babel.cfg -k _l -o messages.pot . && python scripts/vi_translations.py``.
A test fails when a string in the code has no Vietnamese text here.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
VIETNAMESE = {
    "Administrative services": "Dịch vụ hành chính công",
    "Public health": "Dịch vụ y tế công",
    "Public education": "Dịch vụ giáo dục công",
    "Province": "Cấp tỉnh",
    "District": "Cấp huyện",
    "Commune": "Cấp xã",
    "Username": "Tên đăng nhập",
    "Password": "Mật khẩu",
    "Wrong username or password.": "Sai tên đăng nhập hoặc mật khẩu.",
    "Very unhappy": "Rất không hài lòng",
    "Unhappy": "Không hài lòng",
    "Neutral": "Bình thường",
    "Happy": "Hài lòng",
    "Very happy": "Rất hài lòng",
    "Leave this field empty": "Để trống ô này",
    "Anything else you would like to tell us? (optional, do not write your name or phone)": "Ông/Bà có góp ý gì thêm không? (không bắt buộc, xin đừng ghi tên hay số điện thoại)",
    "Not applicable": "Không sử dụng / không áp dụng",
    "Please choose an answer for this question.": "Vui lòng chọn một câu trả lời cho câu hỏi này.",
    "Citizen satisfaction": "Đánh giá sự hài lòng",
    "Skip to content": "Chuyển đến nội dung",
    "Language": "Ngôn ngữ",
    "Citizen satisfaction — officials": "Đánh giá sự hài lòng — dành cho cán bộ",
    "Administration": "Quản trị",
    "Responses": "Phiếu trả lời",
    "Agencies and QR codes": "Cơ quan và mã QR",
    "Sign out": "Đăng xuất",
    "Agency": "Cơ quan",
    "Sector": "Lĩnh vực",
    "Level": "Cấp",
    "Service points": "Điểm phục vụ",
    "QR posters": "Áp phích QR",
    "retired": "đã giải thể",
    "part of": "trực thuộc",
    "Retired on %(day)s.": "Giải thể từ ngày %(day)s.",
    "Successor:": "Đơn vị kế thừa:",
    "Print QR posters (A4 PDF)": "In áp phích mã QR (PDF khổ A4)",
    "Service point": "Điểm phục vụ",
    "Public address": "Địa chỉ công khai",
    "QR code": "Mã QR",
    "This agency has no service points.": "Cơ quan này chưa có điểm phục vụ.",
    "Responses received": "Số phiếu đã nhận",
    "Responses by sector": "Số phiếu theo lĩnh vực",
    "Responses by agency": "Số phiếu theo cơ quan",
    "Latest": "Gần nhất",
    "Latest responses": "Phiếu mới nhất",
    "Time": "Thời gian",
    "Channel": "Kênh",
    "Answers": "Câu trả lời",
    "Comment": "Góp ý",
    "Sign in": "Đăng nhập",
    "Sign in for officials": "Đăng nhập dành cho cán bộ",
    "Home page": "Trang chủ",
    "Anonymous. Under a minute. Choose one face per question.": "Ẩn danh. Chưa đến một phút. Mỗi câu chọn một biểu tượng.",
    "Please check your answers": "Vui lòng kiểm tra lại câu trả lời",
    "The form stayed open for a long time. Your answers are kept: please press Send again.": "Phiếu đã mở quá lâu. Câu trả lời của Ông/Bà vẫn được giữ: vui lòng bấm Gửi lại.",
    "Please press Send again.": "Vui lòng bấm Gửi lại.",
    "Send": "Gửi",
    "How satisfied are you with our public services?": "Ông/Bà hài lòng thế nào với dịch vụ công?",
    "Scan the QR code at the desk where you were served to answer a short, anonymous "
    "questionnaire. It takes less than a minute.": "Quét mã QR tại quầy đã phục vụ Ông/Bà để trả lời một phiếu ngắn, ẩn danh. "
    "Chưa đến một phút.",
    "Thank you": "Cảm ơn",
    "You sent your answers from this device a moment ago. Sending this form again will not count twice.": "Ông/Bà vừa gửi câu trả lời từ thiết bị này. Gửi lại phiếu này sẽ không được tính hai lần.",
    "Answer as another person": "Trả lời với tư cách người khác",
    "Thank you! Your answers have been recorded.": "Xin cảm ơn! Câu trả lời đã được ghi nhận.",
    "They help %(agency)s serve citizens better.": "Ý kiến của Ông/Bà giúp %(agency)s phục vụ người dân tốt hơn.",
}


def main(template: Path) -> int:
    with template.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing = []
    for message in catalog:
        if message.id:
            text = VIETNAMESE.get(str(message.id))
            if text is None:
                missing.append(message.id)
            message.string = text or ""
    if missing:
        print("No Vietnamese text for:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    out = ROOT / "translations" / "vi" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.po").open("wb") as handle:
        write_po(handle, catalog, omit_header=False, width=100)
    with (out / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "messages.pot"))
