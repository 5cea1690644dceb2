"""The words of a report: names of sectors, channels, levels and quarters, and the sentences the
computed figures are read with. One vocabulary for the web pages, charts, PDF, Word files and
exports (``survey.formatting`` formats every number and date through Babel)."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.reference import ReferenceComparison
from survey.formatting import number, percent
from survey.services.periods import parse_period

SECTOR_NAMES = {
    "administrative": ("Dịch vụ hành chính công", "Administrative services"),
    "health": ("Dịch vụ y tế công", "Public health"),
    "education": ("Dịch vụ giáo dục công", "Public education"),
}
CHANNEL_NAMES = {
    "qr": ("Mã QR", "QR code"),
    "kiosk": ("Kiosk", "Kiosk"),
    "paper": ("Phiếu giấy", "Paper forms"),
    "import": ("Nhập từ tệp", "Imported files"),
}
LEVEL_NAMES = {
    "province": ("Cấp tỉnh", "Province level"),
    "district": ("Cấp huyện", "District level"),
    "commune": ("Cấp xã", "Commune level"),
}

#: The verdicts against a target and the statuses of an estimate, as every page, chart, PDF,
#: Word file and export names them.
VERDICT_NAMES: dict[str, dict[str, str]] = {
    "vi": {
        "met": "Đạt",
        "not_met": "Chưa đạt",
        "undetermined": "Chưa kết luận được",
        "within_band": "Trong khoảng mục tiêu",
        "above_band": "Cao hơn khoảng mục tiêu",
        "below_band": "Thấp hơn khoảng mục tiêu",
        "insufficient_data": "Chưa đủ phiếu",
        "variance_not_estimable": "Không ước lượng được",
    },
    "en": {
        "met": "Met",
        "not_met": "Not met",
        "undetermined": "Not yet distinguishable",
        "within_band": "Within the band",
        "above_band": "Above the band",
        "below_band": "Below the band",
        "insufficient_data": "Too few responses",
        "variance_not_estimable": "Not estimable",
    },
}


def verdict_name(verdict: str, language: str) -> str:
    """ "Within the band" / "Trong khoảng mục tiêu" (the code itself when unknown)."""
    return VERDICT_NAMES["vi" if language == "vi" else "en"].get(verdict, verdict)


def sector_name(sector: str, language: str) -> str:
    names = SECTOR_NAMES.get(sector)
    if names is None:
        return sector
    return names[0] if language == "vi" else names[1]


def quarter_names(label: str) -> tuple[str, str]:
    """A quarter of the counts (``2025Q3``) as readers write it ("Quý 3/2025", "Q3 2025")."""
    period = parse_period(label.replace("Q", "-Q"))
    return period.label("vi"), period.label("en")


def describe_filters(
    channel: str | None, level: str | None, sector: str | None, language: str
) -> str:
    """ "Kênh: Mã QR · Cấp xã" / "Channel: QR code · Commune level"; "" without filters."""
    vi = language == "vi"
    parts = []
    if channel:
        name = CHANNEL_NAMES[channel][0 if vi else 1]
        parts.append(f"Kênh: {name}" if vi else f"Channel: {name}")
    if level:
        parts.append(LEVEL_NAMES[level][0 if vi else 1])
    if sector:
        parts.append(sector_name(sector, language))
    return " · ".join(parts)


def volume_note(points: int, response_rate: float) -> str:
    """What was assumed for service points without a recorded volume (the report's footnote)."""
    return (
        f"{points} service point(s) had no recorded service volume; their volume was "
        f"taken as responses ÷ {percent(response_rate, 'en')}, the median response rate."
    )


def no_change_reason(
    previous_label: str, previous_responses: int, current_responses: int, min_n: int, language: str
) -> str:
    """Why no change is reported: no responses in the previous period, or one of the two
    periods below the minimum sample, or no variance."""
    vi = language == "vi"
    previous = previous_label
    if previous_responses == 0:
        if vi:
            return f"Không có phiếu trong {previous} để so sánh."
        return f"No responses in {previous} to compare with."
    if min(previous_responses, current_responses) < min_n:
        now = number(current_responses, language)
        before = number(previous_responses, language)
        if vi:
            return (
                f"Chưa đủ phiếu để báo cáo mức thay đổi so với {previous} (kỳ này "
                f"{now} phiếu, {previous} {before} phiếu; "
                f"cần ít nhất {min_n} phiếu mỗi kỳ)."
            )
        return (
            f"Too few responses to report a change since {previous} "
            f"({now} now, {before} in {previous}; at "
            f"least {min_n} are needed in each period)."
        )
    if vi:
        return f"Không ước lượng được sai số của mức thay đổi so với {previous}."
    return f"The uncertainty of the change since {previous} cannot be estimated."


def against_sector_summary(comparisons: Sequence[ReferenceComparison], language: str) -> str:
    """ "Compared with their sector: 3 agencies above, 2 below, 40 not distinguishable (95%,
    Holm-adjusted)." — "" when no agency was compared."""
    counted = [c for c in comparisons if c.verdict in ("above", "below", "not_distinguishable")]
    if not counted:
        return ""
    tally = {v: sum(c.verdict == v for c in counted) for v in ("above", "below")}
    rest = len(counted) - tally["above"] - tally["below"]
    above, below, same = (number(x, language) for x in (tally["above"], tally["below"], rest))
    if language == "vi":
        return (
            f"So với lĩnh vực của mình: {above} cơ quan cao hơn, {below} cơ quan thấp hơn, "
            f"{same} cơ quan chưa phân biệt được (độ tin cậy 95%, đã hiệu chỉnh Holm cho "
            "nhiều phép so sánh)."
        )
    return (
        f"Compared with their sector: {above} agencies above, {below} below, {same} not "
        "distinguishable (95% confidence, Holm-adjusted for multiple comparisons)."
    )
