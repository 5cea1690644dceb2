"""The citizen's form in a real browser: a phone, touch, Vietnamese first, no JavaScript needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from survey.extensions import get_session
from survey.storage import queries
from survey.storage.models import Response
from tests.browser.conftest import LiveServer
from tests.browser.text_layout import MIN_LABEL_PX, font_sizes, label_problems, set_text_size

COMMENT = "Cán bộ hướng dẫn tận tình, nhưng phải chờ hơi lâu."
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) / Apple & Android guidance
BLOCKING_IMPACTS = ("serious", "critical")


def stored_responses(app: Flask) -> list[tuple[str | None, dict[str, int | None]]]:
    """(comment, {item code: value}) of every stored response, read through the app's session."""
    with app.app_context():
        session = get_session()
        responses = session.scalars(select(Response).order_by(Response.id)).all()
        return [
            (
                response.comment,
                {answer.item.code: answer.value for answer in response.answers},
            )
            for response in responses
        ]


def count_stored(app: Flask) -> int:
    with app.app_context():
        return queries.count_responses(get_session())


def choose(page: Page, values: list[str | None], *, tap: bool = True) -> None:
    """Answer question i with values[i] by touching its labelled face (None leaves it blank)."""
    questions = page.locator("fieldset.question")
    expect(questions).to_have_count(len(values))
    for index, value in enumerate(values):
        if value is None:
            continue
        label = questions.nth(index).locator(f"label.choice-{value}")
        if tap:
            label.tap()
        else:
            label.click()
        expect(label.locator("input")).to_be_checked()


def question_count(page: Page) -> int:
    return page.locator("fieldset.question").count()


def answers_for(count: int) -> list[str | None]:
    """A plausible, varied set of answers, one per question."""
    cycle = ["5", "4", "3", "4", "2"]
    return [cycle[index % len(cycle)] for index in range(count)]


def assert_no_serious_violations(page: Page, where: str) -> None:
    results = Axe().run(page)
    blocking = [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]
    details = "\n".join(
        f"- {violation['id']} ({violation['impact']}): {violation['help']} "
        f"[{violation['helpUrl']}] at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"])
        for violation in blocking
    )
    assert not blocking, f"axe found serious/critical violations on {where}:\n{details}"


def test_phone_answers_every_question_by_touch(
    live_server: LiveServer, phone: Page, screenshot: Callable[[Any, str], Any]
) -> None:
    province = live_server.province
    response = phone.goto(live_server.form_url())
    assert response is not None and response.status == 200
    expect(phone.locator("html")).to_have_attribute("lang", "vi")
    expect(phone.locator(".agency")).to_have_text(province.department.name_vi)
    expect(phone.locator(".desk")).to_have_text(province.desk.name_vi)
    expect(phone.get_by_role("button", name="Gửi")).to_be_visible()
    expect(phone.get_by_role("link", name="English")).to_be_visible()

    values = answers_for(question_count(phone))
    choose(phone, values)
    phone.get_by_label("Ông/Bà có góp ý gì thêm không?", exact=False).fill(COMMENT)
    # Each question holds exactly one checked answer.
    for index in range(len(values)):
        checked = phone.locator("fieldset.question").nth(index).locator("input:checked")
        expect(checked).to_have_count(1)
    screenshot(phone, "form-filled")

    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url(f"{live_server.form_url()}/thanks")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Xin cảm ơn")
    expect(phone.locator("body")).to_contain_text(province.department.name_vi)
    screenshot(phone, "thank-you")

    stored = stored_responses(live_server.app)
    assert len(stored) == 1
    assert count_stored(live_server.app) == 1
    comment, answers = stored[0]
    assert comment == COMMENT
    assert sorted(answers.values()) == sorted(int(value) for value in values if value)


def test_missing_answer_shows_summary_and_keeps_the_others(
    live_server: LiveServer, phone: Page, screenshot: Callable[[Any, str], Any]
) -> None:
    phone.goto(live_server.form_url())
    count = question_count(phone)
    assert count >= 2
    values = answers_for(count)
    blank = 1
    values[blank] = None
    choose(phone, values)
    phone.locator("#comment").fill(COMMENT)

    with phone.expect_response(lambda r: r.request.method == "POST") as posted:
        phone.get_by_role("button", name="Gửi").tap()
    assert posted.value.status == 422

    summary = phone.locator("#problems")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Vui lòng kiểm tra lại câu trả lời")
    expect(summary.locator("li")).to_have_count(1)
    questions = phone.locator("fieldset.question")
    expect(questions.nth(blank)).to_have_class("card question invalid")
    expect(questions.nth(blank).locator("input:checked")).to_have_count(0)
    # The summary's link leads to the first choice of the unanswered question.
    first_choice_id = questions.nth(blank).locator("input").first.get_attribute("id")
    expect(summary.locator("a")).to_have_attribute("href", f"#{first_choice_id}")
    for index, value in enumerate(values):
        if value is None:
            continue
        expect(questions.nth(index).locator(f"label.choice-{value} input")).to_be_checked()
    expect(phone.locator("#comment")).to_have_value(COMMENT)
    screenshot(phone, "error-summary")
    assert count_stored(live_server.app) == 0

    # Answering the missing question now completes the submission.
    questions.nth(blank).locator("label.choice-3").tap()
    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url("**/thanks")
    assert count_stored(live_server.app) == 1


def test_english_switch(live_server: LiveServer, phone: Page) -> None:
    province = live_server.province
    phone.goto(live_server.form_url())
    phone.get_by_role("link", name="English").tap()
    phone.wait_for_url("**?lang=en")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator(".agency")).to_have_text(province.department.name_en)
    expect(phone.get_by_role("button", name="Send")).to_be_visible()
    expect(phone.locator("body")).to_contain_text("Choose one face per question")
    expect(phone.locator("fieldset.question label.choice-5").first).to_contain_text("Very happy")
    expect(phone.get_by_role("link", name="Tiếng Việt")).to_be_visible()
    # The choice is remembered: the plain address stays in English.
    phone.goto(live_server.form_url())
    expect(phone.get_by_role("button", name="Send")).to_be_visible()
    # And English answers are stored too.
    choose(phone, answers_for(question_count(phone)))
    phone.get_by_role("button", name="Send").tap()
    phone.wait_for_url("**/thanks")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Thank you")
    assert count_stored(live_server.app) == 1


def test_accessibility_with_axe(
    live_server: LiveServer, phone: Page, screenshot: Callable[[Any, str], Any]
) -> None:
    phone.goto(live_server.form_url())
    assert_no_serious_violations(phone, "the form")

    values = answers_for(question_count(phone))
    values[0] = None
    choose(phone, values)
    phone.get_by_role("button", name="Gửi").tap()
    expect(phone.locator("#problems")).to_be_visible()
    assert_no_serious_violations(phone, "the form with errors")

    phone.locator("fieldset.question").first.locator("label.choice-4").tap()
    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url("**/thanks")
    assert_no_serious_violations(phone, "the thank-you page")

    response = phone.goto(f"{live_server.url}/s/NO-SUCH-CODE")
    assert response is not None and response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    screenshot(phone, "not-found")
    assert_no_serious_violations(phone, "the 404 page")

    phone.goto(f"{live_server.form_url()}?lang=en")
    assert_no_serious_violations(phone, "the English form")


def _small_targets(page: Page, selector: str) -> list[str]:
    too_small = []
    targets = page.locator(selector)
    assert targets.count() > 0, f"no {selector} on {page.url}"
    for index in range(targets.count()):
        target = targets.nth(index)
        box = target.bounding_box()
        assert box is not None, f"{selector} #{index} is not rendered"
        if box["width"] < MIN_TARGET or box["height"] < MIN_TARGET:
            text = " ".join(target.inner_text().split())
            too_small.append(
                f"{selector} #{index} {text!r}: {box['width']:.0f}×{box['height']:.0f}"
            )
    return too_small


def test_touch_targets_are_at_least_44px(live_server: LiveServer, phone: Page) -> None:
    problems: list[str] = []
    for language in ("vi", "en"):
        phone.goto(f"{live_server.form_url()}?lang={language}")
        for selector in ("label.choice", "button", "header a"):
            problems += [f"[{language}] {line}" for line in _small_targets(phone, selector)]
    # With the error summary shown, the layout must still hold.
    phone.goto(live_server.form_url() + "?lang=vi")
    phone.get_by_role("button", name="Gửi").tap()
    expect(phone.locator("#problems")).to_be_visible()
    for selector in ("label.choice", "button", "header a"):
        problems += [f"[errors] {line}" for line in _small_targets(phone, selector)]
    assert not problems, "touch targets smaller than 44×44 CSS px:\n" + "\n".join(problems)


def test_form_works_without_javascript(
    live_server: LiveServer, new_context: Callable[..., Any], screenshot: Callable[[Any, str], Any]
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server.form_url())
    assert page.locator("script").count() == 0
    choose(page, answers_for(question_count(page)), tap=False)
    page.locator("#comment").fill(COMMENT)
    page.get_by_role("button", name="Gửi").click()
    page.wait_for_url("**/thanks")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Xin cảm ơn")
    screenshot(page, "thank-you-no-js")
    assert count_stored(live_server.app) == 1


def test_double_tap_on_send_stores_one_response(live_server: LiveServer, phone: Page) -> None:
    phone.goto(live_server.form_url())
    choose(phone, answers_for(question_count(phone)))
    posts: list[str] = []
    phone.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    phone.get_by_role("button", name="Gửi").dblclick()
    phone.wait_for_url("**/thanks")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Xin cảm ơn")
    assert posts, "no POST was sent"
    assert count_stored(live_server.app) == 1


def test_resent_post_stores_one_response(live_server: LiveServer, phone: Page) -> None:
    """The same filled form sent again (a retry, a re-sent POST) is stored once."""
    phone.goto(live_server.form_url())
    choose(phone, answers_for(question_count(phone)))
    fields = phone.evaluate(
        "Object.fromEntries(new FormData(document.querySelector('form.survey')))"
    )
    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url("**/thanks")
    assert count_stored(live_server.app) == 1

    # Re-post the very same form data with the browser's cookies (session, CSRF).
    again = phone.request.post(live_server.form_url(), form=fields, max_redirects=0)
    assert again.status == 302
    assert again.headers["location"].endswith("/thanks")
    assert count_stored(live_server.app) == 1


def test_back_and_resend_stores_one_response(live_server: LiveServer, phone: Page) -> None:
    phone.goto(live_server.form_url())
    choose(phone, answers_for(question_count(phone)))
    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url("**/thanks")
    assert count_stored(live_server.app) == 1

    phone.go_back()
    phone.wait_for_url(live_server.form_url())
    # Chromium restores the answers, so to the citizen this is the same form, sent twice.
    expect(phone.locator("fieldset.question input:checked")).to_have_count(question_count(phone))
    phone.get_by_role("button", name="Gửi").tap()
    phone.wait_for_url("**/thanks")
    assert count_stored(live_server.app) == 1


@pytest.mark.parametrize(
    "language",
    [
        "vi",
        "en",
    ],
)
def test_no_horizontal_scrolling_on_a_phone(
    live_server: LiveServer, phone: Page, screenshot: Callable[[Any, str], Any], language: str
) -> None:
    phone.goto(f"{live_server.form_url()}?lang={language}")
    screenshot(phone, "form")
    overflowing = phone.evaluate(
        """() => Array.from(document.querySelectorAll('main *'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + '.' + e.className + ' right='
                 + Math.round(e.getBoundingClientRect().right))"""
    )
    widths = phone.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], (
        f"page is {widths[0]} px wide on a {widths[1]} px screen: {overflowing}"
    )


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("text_size", [100, 150])
def test_face_labels_are_readable_and_wrap_only_between_words(
    live_server: LiveServer,
    phone: Page,
    screenshot: Callable[[Any, str], Any],
    language: str,
    text_size: int,
) -> None:
    """360×740 phone, text at 100% and 150%: every face label is at least 14 px (scaled with the
    reader's text size) and wraps only at a space, never inside a syllable ("Khôn/g hài lòng")."""
    phone.goto(f"{live_server.form_url()}?lang={language}")
    set_text_size(phone, text_size)
    screenshot(phone, f"faces-{text_size}")
    problems = label_problems(phone, "label.choice .text")
    sizes = font_sizes(phone, "label.choice .text")
    widths = phone.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert not problems, "\n".join(problems)
    assert min(sizes) >= MIN_LABEL_PX * text_size / 100 - 0.01, sizes
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide on a {widths[1]} px screen"
    assert _small_targets(phone, "label.choice") == []


def test_chromium_gets_the_form_and_its_stylesheet_compressed(
    live_server: LiveServer, phone: Page
) -> None:
    encodings: dict[str, str | None] = {}
    phone.on(
        "response",
        lambda response: encodings.__setitem__(
            response.url.split("?")[0].removeprefix(live_server.url),
            response.headers.get("content-encoding"),
        ),
    )
    phone.goto(live_server.form_url())
    expect(phone.locator("label.choice .text").first).to_have_css("font-size", "14px")
    form_path = live_server.form_url().removeprefix(live_server.url)
    assert encodings[form_path] in ("br", "gzip"), encodings
    assert encodings["/static/css/public.css"] in ("br", "gzip"), encodings
