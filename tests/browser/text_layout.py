"""How text is laid out on a rendered page: font sizes, words broken across lines, overflow.

Vietnamese writes one syllable per space-separated word ("Không hài lòng"), so a label may wrap
only at a space: a syllable cut in two ("Khôn/g") is unreadable. The checks measure what Chromium
drew (``Range.getClientRects``), not what the CSS asks for.
"""

from __future__ import annotations

from typing import Any

MIN_LABEL_PX = 14.0

# For every element matching the selector: its text, computed font size, the words that Chromium
# spread over more than one line, and the words drawn outside the element's box.
MEASURE_LABELS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter((label) => label.getClientRects().length > 0)
  .map((label) => {
    const box = label.getBoundingClientRect();
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    const split = [], outside = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
        const lines = new Set(rects.map((r) => Math.round(r.top)));
        if (lines.size > 1) split.push(match[0]);
        const whole = range.getBoundingClientRect();
        if (whole.left < box.left - 0.5 || whole.right > box.right + 0.5) outside.push(match[0]);
      }
    }
    return {
      text: label.textContent.trim().replace(/\\s+/g, " "),
      fontSize: parseFloat(getComputedStyle(label).fontSize),
      split: split,
      outside: outside,
    };
  })"""


def set_text_size(page: Any, percent: int) -> None:
    """The text size a reader chose in the browser's settings (100 = the default 16 px). Set through
    the CSSOM, which the pages' Content-Security-Policy (no inline styles) allows."""
    page.evaluate(
        "(size) => document.documentElement.style.setProperty('font-size', size)", f"{percent}%"
    )


def label_problems(page: Any, selector: str, min_px: float = MIN_LABEL_PX) -> list[str]:
    """Every label matching ``selector`` that is too small, breaks a word or overflows its box."""
    labels = page.evaluate(MEASURE_LABELS, selector)
    assert labels, f"no visible {selector} on {page.url}"
    problems = []
    for label in labels:
        if label["fontSize"] < min_px:
            problems.append(f"{label['text']!r}: {label['fontSize']:.1f} px < {min_px} px")
        if label["split"]:
            problems.append(f"{label['text']!r}: word(s) broken across lines {label['split']}")
        if label["outside"]:
            problems.append(f"{label['text']!r}: word(s) drawn outside the box {label['outside']}")
    return problems


def font_sizes(page: Any, selector: str) -> list[float]:
    return [label["fontSize"] for label in page.evaluate(MEASURE_LABELS, selector)]
