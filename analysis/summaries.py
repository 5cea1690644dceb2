"""Plain-language sentences in English and Vietnamese built from results.

Numbers are rounded here and only here. Vietnamese uses a decimal comma ("78,4%") and
"KTC 95%" (khoảng tin cậy) for the confidence interval. Comparisons never use ranking words
("higher", "best") unless the difference's interval excludes 0.
"""

from __future__ import annotations

from typing import Any

from analysis.errors import AnalysisError
from analysis.results import ComparisonTest, Estimate, PairwiseDifference, TargetTest

LANGUAGES = ("en", "vi")


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise AnalysisError(f"language must be 'en' or 'vi' (got {language!r})")


def format_number(x: float, decimals: int, language: str) -> str:
    """Fixed decimals, with a decimal comma in Vietnamese; a true minus sign for negatives."""
    s = f"{abs(x):.{decimals}f}"
    if language == "vi":
        s = s.replace(".", ",")
    return ("−" if x < 0 and float(s.replace(",", ".")) != 0 else "") + s


def format_percent(x: float, language: str = "en", decimals: int = 1) -> str:
    """0.784 → "78.4%" (en) or "78,4%" (vi)."""
    return format_number(100 * x, decimals, language) + "%"


def _pct_target(x: float, language: str) -> str:
    v = 100 * x
    return format_number(v, 0 if abs(v - round(v)) < 1e-9 else 1, language) + "%"


def format_p(p: float, language: str = "en") -> str:
    """p-value: three decimals, "p < 0.001" below that."""
    if p < 0.001:
        return "p < " + format_number(0.001, 3, language)
    return "p = " + format_number(p, 3, language)


def _name(group: dict[str, Any], name: str | None, language: str) -> str:
    if name:
        return name
    if not group:
        return "Toàn tỉnh" if language == "vi" else "All respondents"
    return ", ".join(str(v) for v in group.values())


def summarize_estimate(
    estimate: Estimate,
    target_test: TargetTest | None = None,
    *,
    name: str | None = None,
    language: str = "en",
    min_n: int = 30,
) -> str:
    """One sentence for one group, e.g. "Sở Tư pháp: 78.4% satisfied (95% CI 74.1–82.2%,
    n = 412), significantly above the 70% target (p = 0.001)."."""
    _check(language)
    e = estimate
    vi = language == "vi"
    who = _name(e.group, name, language)
    if e.status == "insufficient_data" or e.estimate is None:
        if vi:
            return f"{who}: chưa đủ số phiếu để báo cáo (n = {e.n}, cần ít nhất {min_n})."
        return f"{who}: too few responses to report (n = {e.n}; at least {min_n} are needed)."
    pct = format_percent(e.estimate, language)
    if e.status == "variance_not_estimable" or e.ci_low is None or e.ci_high is None:
        if vi:
            return (
                f"{who}: {pct} hài lòng (n = {e.n}); không ước lượng được sai số "
                "với thiết kế mẫu này nên không kết luận được."
            )
        return (
            f"{who}: {pct} satisfied (n = {e.n}); its uncertainty cannot be estimated "
            "from this sampling design, so no conclusion is drawn."
        )
    lvl = format_number(100 * e.confidence_level, 0, language)
    lo = format_number(100 * e.ci_low, 1, language)
    hi = format_number(100 * e.ci_high, 1, language)
    if vi:
        head = f"{who}: {pct} hài lòng (KTC {lvl}%: {lo}–{hi}%, n = {e.n})"
    else:
        head = f"{who}: {pct} satisfied ({lvl}% CI {lo}–{hi}%, n = {e.n})"
    if target_test is None:
        return head + "."
    return head + ", " + _target_clause(target_test, language) + "."


def _target_clause(t: TargetTest, language: str) -> str:
    vi = language == "vi"
    tgt = t.target
    if tgt.high is None:
        label = _pct_target(tgt.low, language)
    else:
        label = _pct_target(tgt.low, language).rstrip("%") + "–" + _pct_target(tgt.high, language)
    p = f" ({format_p(t.p_value, language)})" if t.p_value is not None else ""
    more = ""
    if t.additional_n:
        more = (
            f"; cần thêm khoảng {t.additional_n} phiếu để kết luận"
            if vi
            else f"; about {t.additional_n} more responses would be needed to decide"
        )
    if vi:
        phrases = {
            "met": f"cao hơn có ý nghĩa thống kê so với mục tiêu {label}{p}",
            "not_met": f"thấp hơn có ý nghĩa thống kê so với mục tiêu {label}{p}",
            "above_band": f"cao hơn có ý nghĩa thống kê so với khoảng mục tiêu {label}{p}",
            "below_band": f"thấp hơn có ý nghĩa thống kê so với khoảng mục tiêu {label}{p}",
            "within_band": f"nằm trong khoảng mục tiêu {label}{p}",
            "undetermined": (
                f"chưa đủ cơ sở thống kê để kết luận so với mục tiêu {label}{p}{more}"
            ),
        }
    else:
        phrases = {
            "met": f"significantly above the {label} target{p}",
            "not_met": f"significantly below the {label} target{p}",
            "above_band": f"significantly above the {label} target band{p}",
            "below_band": f"significantly below the {label} target band{p}",
            "within_band": f"within the {label} target band{p}",
            "undetermined": (f"not yet distinguishable from the {label} target{p}{more}"),
        }
    return phrases.get(t.verdict, phrases["undetermined"])


def summarize_difference(
    pair: PairwiseDifference,
    *,
    names: tuple[str, str] | None = None,
    language: str = "en",
    adjusted: str = "holm",
) -> str:
    """A sentence about two groups. Ranking words only when the difference is significant
    (adjusted p below 1 − level and the interval of the difference excludes 0)."""
    _check(language)
    vi = language == "vi"
    a = names[0] if names else _name(pair.group_a, None, language)
    b = names[1] if names else _name(pair.group_b, None, language)
    pts = format_number(100 * abs(pair.difference), 1, language)
    p = pair.p_holm if adjusted == "holm" else pair.p_bh if adjusted == "bh" else pair.p_value
    alpha = 1 - pair.confidence_level
    lvl = format_number(100 * pair.confidence_level, 0, language)
    if pair.ci_low is None or pair.ci_high is None or p is None:
        if vi:
            return f"Không so sánh được {a} và {b}: không ước lượng được sai số."
        return f"{a} and {b} cannot be compared: the uncertainty cannot be estimated."
    lo_txt = format_number(100 * pair.ci_low, 1, language)
    hi_txt = format_number(100 * pair.ci_high, 1, language)
    ci = f"{lo_txt} đến {hi_txt}" if vi else f"{lo_txt} to {hi_txt}"
    significant = p < alpha and (pair.ci_low > 0 or pair.ci_high < 0)
    if not significant:
        if vi:
            return (
                f"Chưa phân biệt được {a} và {b} (chênh lệch {pts} điểm phần trăm, "
                f"KTC {lvl}%: {ci}; {format_p(p, language)})."
            )
        return (
            f"{a} and {b} cannot be told apart (difference {pts} percentage points, "
            f"{lvl}% CI {ci}; {format_p(p, language)})."
        )
    hi_name, lo_name = (a, b) if pair.difference > 0 else (b, a)
    if vi:
        return (
            f"{hi_name} cao hơn {lo_name} {pts} điểm phần trăm (KTC {lvl}%: {ci}; "
            f"{format_p(p, language)})."
        )
    return (
        f"{hi_name} is higher than {lo_name} by {pts} percentage points ({lvl}% CI {ci}; "
        f"{format_p(p, language)})."
    )


def summarize_test(test: ComparisonTest, *, what: str = "", language: str = "en") -> str:
    """A sentence about a test among groups (Rao–Scott for shares, Wald for indices)."""
    _check(language)
    vi = language == "vi"
    where = (
        what
        or ", ".join(str(v) for v in test.within.values())
        or ("toàn tỉnh" if vi else "all respondents")
    )
    if test.statistic is None or test.p_value is None:
        return (
            f"{where}: không kiểm định được sự khác biệt giữa các nhóm."
            if vi
            else f"{where}: no test of differences between groups is possible."
        )
    f = format_number(test.statistic, 2, language)
    p = format_p(test.p_value, language)
    rao_scott = test.method == "rao-scott"
    stat_vi = f"F Rao–Scott = {f}" if rao_scott else f"F Wald = {f}"
    stat_en = f"Rao–Scott F = {f}" if rao_scott else f"Wald F = {f}"
    if test.p_value < 0.05:
        if vi:
            what_vi = "tỷ lệ hài lòng" if rao_scott else "chỉ số"
            return (
                f"{where}: {what_vi} khác nhau có ý nghĩa thống kê giữa {test.groups} nhóm "
                f"({stat_vi}, {p})."
            )
        what_en = "the share satisfied" if rao_scott else "the index"
        return f"{where}: {what_en} differs between the {test.groups} groups ({stat_en}, {p})."
    if vi:
        return (
            f"{where}: chưa có bằng chứng thống kê về khác biệt giữa {test.groups} nhóm "
            f"({stat_vi}, {p})."
        )
    return (
        f"{where}: no statistical evidence that the {test.groups} groups differ ({stat_en}, {p})."
    )
