"""Plain-language sentences in English and Vietnamese built from results.

Numbers are rounded here and only here. Vietnamese uses a decimal comma ("78,4%") and
"KTC 95%" (khoảng tin cậy) for the confidence interval. Each kind of estimate keeps its unit:
a share is "78.4% satisfied", a share of answers "78.4% of answers satisfied", a mean "mean 3.80",
the 0–100 index "index 70.0 out of 100"; differences of shares are in percentage points,
differences of means in the units of the mean. Comparisons never use ranking words ("higher",
"up") unless the difference is significant, and the interval printed next to a difference is the
interval of that same signed difference. P-values are labelled: the p-value of a target is
one-sided, adjusted p-values say how they were adjusted and are not printed next to a
per-comparison interval (which is not simultaneous).
"""

from __future__ import annotations

from typing import Any

from analysis.errors import AnalysisError
from analysis.results import (
    PROPORTION_KINDS,
    ComparisonTest,
    Estimate,
    PairwiseDifference,
    TargetTest,
)

LANGUAGES = ("en", "vi")
ADJUSTMENTS = ("holm", "bh", "none")


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise AnalysisError(f"language must be 'en' or 'vi' (got {language!r})")


def format_number(x: float, decimals: int, language: str) -> str:
    """Fixed decimals, with a decimal comma in Vietnamese; a true minus sign for negatives."""
    s = f"{abs(x):.{decimals}f}"
    if language == "vi":
        s = s.replace(".", ",")
    return ("−" if x < 0 and float(s.replace(",", ".")) != 0 else "") + s


def format_count(n: int, language: str = "en") -> str:
    """A count with thousands grouped: 20129 → "20,129" (en) or "20.129" (vi)."""
    s = f"{n:,}"
    return s.replace(",", ".") if language == "vi" else s


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


def _labelled_p(p: float, language: str, label: str) -> str:
    """A p-value with what it is: ``one-sided``, ``holm`` or ``bh`` (adjusted), or plain."""
    text = format_p(p, language)
    names = {
        "en": {
            "one-sided": "one-sided p",
            "holm": "Holm-adjusted p",
            "bh": "Benjamini–Hochberg-adjusted p",
        },
        "vi": {
            "one-sided": "p một phía",
            "holm": "p đã hiệu chỉnh Holm",
            "bh": "p đã hiệu chỉnh Benjamini–Hochberg",
        },
    }
    name = names[language].get(label)
    return text if name is None else name + text[1:]


def _name(group: dict[str, Any], name: str | None, language: str) -> str:
    if name:
        return name
    if not group:
        return "Toàn tỉnh" if language == "vi" else "All respondents"
    return ", ".join(str(v) for v in group.values())


# --------------------------------------------------------------------------------------------
# values by kind of estimate


def _value(kind: str, x: float, language: str) -> str:
    """A value in its unit: 78.4% for shares, 70.0 for the index, 3.80 for means."""
    if kind in PROPORTION_KINDS:
        return format_percent(x, language)
    return format_number(x, 1 if kind == "index" else 2, language)


def _range(kind: str, lo: float, hi: float, language: str) -> str:
    """An interval "74.1–82.2%" (shares) or "3.71–3.89" (means, index)."""
    if kind in PROPORTION_KINDS:
        return f"{format_number(100 * lo, 1, language)}–{format_percent(hi, language)}"
    return f"{_value(kind, lo, language)}–{_value(kind, hi, language)}"


def _what(kind: str, value: str, language: str) -> str:
    """The estimate with its meaning: "78.4% satisfied", "mean 3.80", "index 70.0 out of 100"."""
    if language == "vi":
        return {
            "share": f"{value} hài lòng",
            "answers": f"{value} câu trả lời hài lòng",
            "composite": f"chỉ số tổng hợp {value}",
            "mean": f"giá trị trung bình {value}",
            "index": f"chỉ số {value}/100",
        }.get(kind, f"ước lượng {value}")
    return {
        "share": f"{value} satisfied",
        "answers": f"{value} of answers satisfied",
        "composite": f"composite index {value}",
        "mean": f"mean {value}",
        "index": f"index {value} out of 100",
    }.get(kind, f"estimate {value}")


def summarize_estimate(
    estimate: Estimate,
    target_test: TargetTest | None = None,
    *,
    name: str | None = None,
    language: str = "en",
    min_n: int = 30,
) -> str:
    """One sentence for one group, e.g. "Sở Tư pháp: 78.4% satisfied (95% CI 74.1–82.2%,
    n = 412), significantly above the 70% target (one-sided p = 0.001)."; a mean reads
    "mean 3.80 (95% CI 3.71–3.89, n = 412)", the index "index 70.0 out of 100 (...)"."""
    _check(language)
    e = estimate
    vi = language == "vi"
    who = _name(e.group, name, language)
    n = format_count(e.n, language)
    if e.status == "insufficient_data" or e.estimate is None:
        if vi:
            return f"{who}: chưa đủ số phiếu để báo cáo (n = {n}, cần ít nhất {min_n})."
        return f"{who}: too few responses to report (n = {n}; at least {min_n} are needed)."
    kind = e.kind
    what = _what(kind, _value(kind, e.estimate, language), language)
    if e.status == "variance_not_estimable" or e.ci_low is None or e.ci_high is None:
        if vi:
            return (
                f"{who}: {what} (n = {n}); không ước lượng được sai số "
                "với thiết kế mẫu này nên không kết luận được."
            )
        return (
            f"{who}: {what} (n = {n}); its uncertainty cannot be estimated "
            "from this sampling design, so no conclusion is drawn."
        )
    lvl = format_number(100 * e.confidence_level, 0, language)
    ci = _range(kind, e.ci_low, e.ci_high, language)
    if vi:
        head = f"{who}: {what} (KTC {lvl}%: {ci}, n = {n})"
    else:
        head = f"{who}: {what} ({lvl}% CI {ci}, n = {n})"
    if target_test is None:
        return head + "."
    return head + ", " + _target_clause(target_test, language) + "."


def _df_text(df: float, language: str) -> str:
    return format_number(df, 0 if abs(df - round(df)) < 1e-9 else 1, language)


def _more_clause(t: TargetTest, language: str) -> str:
    """ "; about 120 more responses would be needed to decide" and its variants."""
    vi = language == "vi"
    if not t.additional_n:
        return ""
    if t.census:
        if vi:
            return (
                f"; khảo sát toàn bộ {t.additional_n} người còn lại trong tổng thể sẽ cho kết luận"
            )
        return f"; a census of the remaining {t.additional_n} people in the population would decide"
    if t.additional_n_range is not None and t.estimate.df is not None:
        lo, hi = t.additional_n_range
        df = _df_text(t.estimate.df, language)
        if vi:
            return (
                f"; cần thêm khoảng {t.additional_n} phiếu (từ {lo} đến {hi}, vì hệ số thiết kế "
                f"chỉ được ước lượng từ {df} bậc tự do) để kết luận"
            )
        return (
            f"; about {t.additional_n} more responses (between {lo} and {hi}, as the design "
            f"effect is estimated from only {df} degrees of freedom) would be needed to decide"
        )
    if vi:
        return f"; cần thêm khoảng {t.additional_n} phiếu để kết luận"
    return f"; about {t.additional_n} more responses would be needed to decide"


def _target_clause(t: TargetTest, language: str) -> str:
    vi = language == "vi"
    tgt = t.target
    if tgt.high is None:
        label = _pct_target(tgt.low, language)
    else:
        label = _pct_target(tgt.low, language).rstrip("%") + "–" + _pct_target(tgt.high, language)
    p = f" ({_labelled_p(t.p_value, language, 'one-sided')})" if t.p_value is not None else ""
    more = _more_clause(t, language)
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


# --------------------------------------------------------------------------------------------
# differences


def _difference_units(measure: str, language: str) -> tuple[float, int, str, str]:
    """(scale, decimals, unit after the number, note before the interval) of a difference."""
    vi = language == "vi"
    if measure in ("prop", "ratio"):
        return 100.0, 1, " điểm phần trăm" if vi else " percentage points", ""
    if measure == "index":
        return 1.0, 1, " điểm chỉ số" if vi else " index points", ""
    return 1.0, 2, "", "chênh lệch giá trị trung bình; " if vi else "difference of means; "


def summarize_difference(
    pair: PairwiseDifference,
    *,
    names: tuple[str, str] | None = None,
    language: str = "en",
    adjusted: str = "holm",
) -> str:
    """A sentence about two groups.

    ``adjusted="none"``: the two-sided t test of the difference with its (per-comparison) t
    interval; ranking words only when p < 1 − level and the interval excludes 0. ``"holm"`` or
    ``"bh"``: the adjusted p-value, labelled, with no interval (the per-comparison interval does
    not go with an adjusted p-value); ranking words when it is below 1 − level. When the second
    group is the higher one, the interval printed is that of (second − first), positive.
    """
    _check(language)
    if adjusted not in ADJUSTMENTS:
        raise AnalysisError(f"adjusted must be one of {', '.join(ADJUSTMENTS)}")
    vi = language == "vi"
    a = names[0] if names else _name(pair.group_a, None, language)
    b = names[1] if names else _name(pair.group_b, None, language)
    p = pair.p_holm if adjusted == "holm" else pair.p_bh if adjusted == "bh" else pair.p_value
    alpha = 1 - pair.confidence_level
    lvl = format_number(100 * pair.confidence_level, 0, language)
    if pair.ci_low is None or pair.ci_high is None or p is None:
        if vi:
            return f"Không so sánh được {a} và {b}: không ước lượng được sai số."
        return f"{a} and {b} cannot be compared: the uncertainty cannot be estimated."
    scale, decimals, unit, note = _difference_units(pair.measure, language)
    p_text = _labelled_p(p, language, adjusted)
    raw = adjusted == "none"
    excludes_zero = pair.ci_low > 0 or pair.ci_high < 0
    significant = p < alpha and (excludes_zero or not raw)

    def ci_text(lo: float, hi: float) -> str:
        lo_t = format_number(scale * lo, decimals, language)
        hi_t = format_number(scale * hi, decimals, language)
        return f"{lo_t} đến {hi_t}" if vi else f"{lo_t} to {hi_t}"

    if not significant:
        signed = format_number(scale * pair.difference, decimals, language)
        ci = ci_text(pair.ci_low, pair.ci_high)
        if vi:
            inner = f"chênh lệch {a} so với {b}: {signed}{unit}"
            tail = f"; {note}KTC {lvl}%: {ci}; {p_text}" if raw else f"; {p_text}"
            return f"Chưa phân biệt được {a} và {b} ({inner}{tail})."
        inner = f"{a} minus {b}: {signed}{unit}"
        tail = f"; {note}{lvl}% CI {ci}; {p_text}" if raw else f"; {p_text}"
        return f"{a} and {b} cannot be told apart ({inner}{tail})."
    if pair.difference > 0:
        hi_name, lo_name, lo, hi = a, b, pair.ci_low, pair.ci_high
    else:  # the interval of (b − a) is (−hi, −lo)
        hi_name, lo_name, lo, hi = b, a, -pair.ci_high, -pair.ci_low
    size = format_number(scale * abs(pair.difference), decimals, language) + unit
    if vi:
        tail = f"{note}KTC {lvl}%: {ci_text(lo, hi)}; {p_text}" if raw else f"{note}{p_text}"
        return f"{hi_name} cao hơn {lo_name} {size} ({tail})."
    tail = f"{note}{lvl}% CI {ci_text(lo, hi)}; {p_text}" if raw else f"{note}{p_text}"
    return f"{hi_name} is higher than {lo_name} by {size} ({tail})."


def summarize_change(
    pair: PairwiseDifference,
    *,
    names: tuple[str, str] | None = None,
    language: str = "en",
) -> str:
    """The change from a previous period (``group_b``) to the current one (``group_a``), e.g.
    "down 15.4 percentage points, from 60.0% to 44.6% (95% CI of the change −28.2 to −2.5
    percentage points; p = 0.021)". The change and its interval are printed with their sign
    (current − previous); "up"/"down" only when the interval excludes 0 and p < 1 − level.
    ``names`` = (current, previous) adds the periods' names to the values."""
    _check(language)
    vi = language == "vi"
    lvl = format_number(100 * pair.confidence_level, 0, language)
    kind = {"prop": "share", "ratio": "answers", "index": "index"}.get(pair.measure, "mean")
    scale, decimals, unit, _ = _difference_units(pair.measure, language)
    now = _value(kind, pair.estimate_a, language)
    before = _value(kind, pair.estimate_b, language)
    if names:
        where = "trong" if vi else "in"
        now, before = f"{now} {where} {names[0]}", f"{before} {where} {names[1]}"
    if pair.ci_low is None or pair.ci_high is None or pair.p_value is None:
        if vi:
            return f"{now} so với {before}; không ước lượng được sai số của mức thay đổi."
        return f"{now} against {before}; the uncertainty of the change cannot be estimated."
    lo = format_number(scale * pair.ci_low, decimals, language)
    hi = format_number(scale * pair.ci_high, decimals, language)
    p_text = format_p(pair.p_value, language)
    significant = pair.p_value < 1 - pair.confidence_level and (pair.ci_low > 0 or pair.ci_high < 0)
    if significant:
        size = format_number(scale * abs(pair.difference), decimals, language) + unit
        up = pair.difference > 0
        if vi:
            return (
                f"{'tăng' if up else 'giảm'} {size}, từ {before} {'lên' if up else 'xuống'} "
                f"{now} (KTC {lvl}% của mức thay đổi: {lo} đến {hi}; {p_text})."
            )
        return (
            f"{'up' if up else 'down'} {size}, from {before} to {now} "
            f"({lvl}% CI of the change {lo} to {hi}; {p_text})."
        )
    signed = format_number(scale * pair.difference, decimals, language) + unit
    if vi:
        return (
            f"chưa thay đổi có ý nghĩa thống kê ở mức tin cậy {lvl}%: {now} so với {before} "
            f"(thay đổi {signed}, KTC {lvl}%: {lo} đến {hi}; {p_text})."
        )
    return (
        f"no significant change at the {lvl}% level: {now} against {before} "
        f"(change {signed}, {lvl}% CI {lo} to {hi}; {p_text})."
    )


def summarize_test(test: ComparisonTest, *, what: str = "", language: str = "en") -> str:
    """A sentence about a test among groups (Rao–Scott for shares, Wald for indices), at the
    test's confidence level; a non-significant result is not read as "no difference"."""
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
    lvl = format_number(100 * test.confidence_level, 0, language)
    rao_scott = test.method == "rao-scott"
    stat_vi = f"F Rao–Scott = {f}" if rao_scott else f"F Wald = {f}"
    stat_en = f"Rao–Scott F = {f}" if rao_scott else f"Wald F = {f}"
    what_vi = "tỷ lệ hài lòng" if rao_scott else "chỉ số"
    what_en = "the share satisfied" if rao_scott else "the index"
    if test.p_value < 1 - test.confidence_level:
        if vi:
            return (
                f"{where}: {what_vi} khác nhau có ý nghĩa thống kê giữa {test.groups} nhóm "
                f"ở mức tin cậy {lvl}% ({stat_vi}, {p})."
            )
        return (
            f"{where}: {what_en} differs between the {test.groups} groups, significant at the "
            f"{lvl}% level ({stat_en}, {p})."
        )
    if vi:
        return (
            f"{where}: khác biệt về {what_vi} giữa {test.groups} nhóm chưa có ý nghĩa thống kê "
            f"ở mức tin cậy {lvl}% ({stat_vi}, {p}); điều này không có nghĩa là các nhóm "
            "như nhau."
        )
    return (
        f"{where}: the differences in {what_en} between the {test.groups} groups are not "
        f"statistically significant at the {lvl}% level ({stat_en}, {p}); this does not show "
        "that the groups are equal."
    )
