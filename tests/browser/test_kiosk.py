"""The kiosk in a real headless Chromium: a tablet on a counter, touch, offline, self-resetting."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from survey.extensions import get_session
from survey.services.accounts import create_user
from survey.services.kiosks import register_kiosk
from survey.services.questionnaires import open_service_point
from survey.storage import queries
from survey.storage.models import Response
from tests.browser.conftest import DESKTOP, LiveServer
from tests.browser.text_layout import MIN_LABEL_PX, label_problems

TABLET = {
    "viewport": {"width": 1024, "height": 768},
    "device_scale_factor": 1,
    "is_mobile": False,
    "has_touch": True,
    "locale": "vi-VN",
}
MIN_TARGET = 44
BLOCKING_IMPACTS = ("serious", "critical")
FIRST_LOAD_BUDGET = 200 * 1024
OFFLINE_SHELL_BUDGET_S = 1.0
COMMENT = "Cán bộ nhiệt tình"
KEPT_KEYS = {"kiosk.token", "kiosk.setup", "kiosk.lastSubmit"}

READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("kiosk", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const request = open.result.transaction("outbox").objectStore("outbox").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  };
})"""
WRITE_OUTBOX = """(items) => new Promise((resolve, reject) => {
  const open = indexedDB.open("kiosk", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const transaction = open.result.transaction("outbox", "readwrite");
    for (const item of items) transaction.objectStore("outbox").put({...item, next_try: 0});
    transaction.oncomplete = () => resolve(items.length);
    transaction.onerror = () => reject(transaction.error);
  };
})"""
TRACES = """() => ({
  session: sessionStorage.length,
  local: Object.keys(localStorage),
  history: history.length,
  pressed: document.querySelectorAll('[aria-pressed="true"]').length,
  fields: Array.from(document.querySelectorAll("textarea, input")).map((f) => f.value),
  lang: document.documentElement.lang,
  url: location.pathname + location.search + location.hash,
})"""


@pytest.fixture
def kiosk_server(live_server: LiveServer) -> LiveServer:
    """Short thank-you screen and interval so that three citizens take seconds, not minutes."""
    live_server.app.config.update(
        KIOSK_THANKS_SECONDS=1, KIOSK_MIN_INTERVAL_SECONDS=1, KIOSK_IDLE_SECONDS=5
    )
    return live_server


@pytest.fixture
def tablet_context(new_context: Callable[..., Any]) -> BrowserContext:
    return new_context(**TABLET)


@pytest.fixture
def item_count(kiosk_server: LiveServer) -> int:
    with kiosk_server.app.app_context():
        _point, questionnaire = open_service_point(
            get_session(), kiosk_server.province.desk.public_code
        )
        return len(questionnaire.items)


def pairing_url(server: LiveServer) -> str:
    with server.app.app_context():
        pairing = register_kiosk(
            get_session(),
            service_point_id=server.province.desk.id,
            label="Quầy 1",
            user_id=None,
        )
        get_session().commit()
    return f"{server.url}/kiosk/pair/{pairing.code}"


def pair(page: Page, server: LiveServer) -> None:
    page.goto(pairing_url(server))
    page.get_by_role("button", name="Ghép nối máy tính bảng này").tap()
    page.wait_for_url(f"{server.url}/kiosk/")
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()


def wait_for_worker(page: Page) -> None:
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def answer_citizen(page: Page, count: int, level: int, comment: str = "") -> None:
    """Start, touch one face per question, optionally write a comment, send."""
    page.get_by_role("button", name="Bắt đầu").tap()
    for index in range(count):
        expect(page.locator(".progress")).to_have_text(f"Câu {index + 1}/{count}")
        page.locator(f"#screen .choice-{level}").tap()
    comment_box = page.get_by_label("Ông/Bà có góp ý gì thêm không?", exact=False)
    expect(comment_box).to_be_visible()
    if comment:
        comment_box.fill(comment)
    page.get_by_role("button", name="Gửi").tap()
    expect(
        page.get_by_role("heading", name="Xin cảm ơn! Câu trả lời đã được ghi nhận.")
    ).to_be_visible()


def stored(app: Flask) -> list[Response]:
    with app.app_context():
        session = get_session()
        responses = session.scalars(select(Response).order_by(Response.id)).all()
        for response in responses:
            _ = [answer.value for answer in response.answers]
        return list(responses)


def count_stored(app: Flask) -> int:
    with app.app_context():
        return queries.count_responses(get_session())


def assert_no_serious_violations(page: Page, where: str) -> None:
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    details = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in blocking
    )
    assert not blocking, f"axe found serious/critical violations on {where}:\n{details}"


def small_targets(page: Page) -> list[str]:
    small = []
    for target in page.locator("button:visible, textarea:visible, a:visible").all():
        box = target.bounding_box()
        if box and (box["width"] < MIN_TARGET or box["height"] < MIN_TARGET):
            small.append(f"{target.inner_text()!r} {box['width']:.0f}×{box['height']:.0f}")
    return small


OVERLAPS = """() => {
  const boxes = Array.from(document.querySelectorAll("#screen button, #screen textarea"))
    .filter((node) => node.getClientRects().length > 0)
    .map((node) => [node.className || node.tagName, node.getBoundingClientRect()]);
  const found = [];
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    const apart = p.right - 1 <= q.left || q.right - 1 <= p.left
      || p.bottom - 1 <= q.top || q.bottom - 1 <= p.top;
    if (!apart) {
      found.push(a + " / " + b);
    }
  }));
  return found;
}"""


def overlapping(page: Page) -> list[str]:
    """Pairs of controls drawn over each other (a layout squeezed below its content)."""
    return list(page.evaluate(OVERLAPS))


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_full_session_then_reset_wipes_every_trace(
    kiosk_server: LiveServer,
    tablet_context: BrowserContext,
    item_count: int,
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#where")).to_contain_text(kiosk_server.province.desk.name_vi)
    screenshot(page, "welcome")
    history_before = page.evaluate("() => history.length")
    assert_no_serious_violations(page, "welcome screen")
    assert small_targets(page) == []

    page.get_by_role("button", name="Bắt đầu").tap()
    expect(page.locator(".progress")).to_have_text(f"Câu 1/{item_count}")
    assert_no_serious_violations(page, "first question")
    assert small_targets(page) == []
    # The language switch works on any screen and translates the question and the faces.
    page.get_by_role("button", name="English").tap()
    expect(page.locator(".progress")).to_have_text(f"Question 1 of {item_count}")
    expect(page.locator("#screen .choice-5")).to_contain_text("Very happy")
    screenshot(page, "question-english")
    page.get_by_role("button", name="Tiếng Việt").tap()
    expect(page.locator("#screen .choice-5")).to_contain_text("Rất hài lòng")

    levels = [5, 4, 4, 3, 5, 4, 2, 5, 4, 3][:item_count]
    for index, level in enumerate(levels):
        expect(page.locator(".progress")).to_have_text(f"Câu {index + 1}/{item_count}")
        if index == 1:
            screenshot(page, "question-2")
        page.locator(f"#screen .choice-{level}").tap()
        if index == 0:
            expect(page.locator("#screen .choice-5")).to_have_attribute("aria-pressed", "true")
    comment_box = page.get_by_label("Ông/Bà có góp ý gì thêm không?", exact=False)
    comment_box.tap()
    page.keyboard.type(COMMENT)  # as the on-screen keyboard types
    expect(comment_box).to_have_value(COMMENT)
    assert_no_serious_violations(page, "comment screen")
    assert small_targets(page) == []
    screenshot(page, "comment")
    page.get_by_role("button", name="Gửi").tap()

    expect(
        page.get_by_role("heading", name="Xin cảm ơn! Câu trả lời đã được ghi nhận.")
    ).to_be_visible()
    screenshot(page, "thanks")
    assert_no_serious_violations(page, "thank-you screen")
    # It resets by itself, to the start, with nothing of the citizen left.
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible(timeout=5_000)
    expect(page.locator("#badge")).to_be_hidden()
    traces = page.evaluate(TRACES)
    assert traces["session"] == 0
    assert set(traces["local"]) <= KEPT_KEYS
    assert traces["history"] == history_before  # no screen of the citizen to go Back to
    assert traces["pressed"] == 0 and traces["fields"] == []
    assert traces["lang"] == "vi" and traces["url"] == "/kiosk/"
    assert page.evaluate(READ_OUTBOX) == []
    page.get_by_role("button", name="Bắt đầu").tap()
    expect(page.locator("#screen .choice-5")).to_have_attribute("aria-pressed", "false")

    responses = stored(kiosk_server.app)
    assert len(responses) == 1
    assert responses[0].channel == "kiosk" and responses[0].comment == COMMENT
    assert sorted(answer.value for answer in responses[0].answers) == sorted(levels)


def test_idle_countdown_offers_more_time_then_wipes(
    kiosk_server: LiveServer,
    tablet_context: BrowserContext,
    screenshot: Callable[[Any, str], Any],
) -> None:
    page = tablet_context.new_page()
    page.clock.install()
    pair(page, kiosk_server)
    page.get_by_role("button", name="Bắt đầu").tap()
    page.locator("#screen .choice-2").tap()
    page.clock.run_for(1_000)
    expect(page.locator(".progress")).to_contain_text("Câu 2/")

    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_hidden()
    page.clock.run_for(6_000)  # KIOSK_IDLE_SECONDS=5 of inactivity
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(re.compile(r"sau (2\d|30) giây"))  # at least 20 s to respond
    more_time = page.get_by_role("button", name="Tôi cần thêm thời gian")
    expect(more_time).to_be_focused()
    box = more_time.bounding_box()
    assert box and box["height"] >= MIN_TARGET and box["width"] >= MIN_TARGET
    screenshot(page, "idle-countdown")
    assert_no_serious_violations(page, "idle countdown")

    more_time.tap()
    expect(dialog).to_be_hidden()
    expect(page.locator(".progress")).to_contain_text("Câu 2/")  # nothing lost

    page.clock.run_for(6_000)
    expect(dialog).to_be_visible()
    page.clock.run_for(19_000)  # at least 20 s to respond
    expect(dialog).to_be_visible()
    expect(page.locator(".progress")).to_contain_text("Câu 2/")
    page.clock.run_for(12_000)
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()
    traces = page.evaluate(TRACES)
    assert traces["pressed"] == 0 and traces["session"] == 0
    assert count_stored(kiosk_server.app) == 0  # policy "discard": half an answer is not stored


def test_offline_three_citizens_then_stored_exactly_once(
    kiosk_server: LiveServer,
    tablet_context: BrowserContext,
    item_count: int,
    screenshot: Callable[[Any, str], Any],
) -> None:
    transferred: list[int] = []

    def on_finished(request: Any) -> None:
        sizes = request.sizes()
        transferred.append(sizes["responseBodySize"] + sizes["responseHeadersSize"])

    tablet_context.on("requestfinished", on_finished)
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    wait_for_worker(page)
    page.wait_for_load_state("networkidle")
    first_load = sum(transferred)
    print(f"\nfirst load (pairing page + shell + worker + precache): {first_load} bytes")
    assert first_load < FIRST_LOAD_BUDGET

    tablet_context.set_offline(True)
    for level in (5, 4, 2):
        answer_citizen(page, item_count, level)
        expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible(timeout=5_000)
    badge = page.locator("#badge")
    expect(badge).to_have_text("3 phiếu đang chờ gửi")
    expect(page.locator("#staff")).to_contain_text("Mất kết nối mạng")
    screenshot(page, "offline-three-waiting")
    assert count_stored(kiosk_server.app) == 0

    # The shell comes from the service worker, and the queue survives a reload.
    started = time.monotonic()
    reloaded = page.reload(wait_until="load")
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()
    elapsed = time.monotonic() - started
    print(f"offline shell load: {elapsed * 1000:.0f} ms")
    assert reloaded is not None and reloaded.from_service_worker
    assert elapsed < OFFLINE_SHELL_BUDGET_S
    expect(badge).to_have_text("3 phiếu đang chờ gửi")
    queue = sorted(page.evaluate(READ_OUTBOX), key=lambda item: item["created"])
    assert len(queue) == 3 and len({item["client_id"] for item in queue}) == 3

    tablet_context.set_offline(False)
    expect(badge).to_be_hidden(timeout=20_000)
    wait_until(lambda: count_stored(kiosk_server.app) == 3)
    responses = stored(kiosk_server.app)
    assert [r.idempotency_key for r in responses] == [item["client_id"] for item in queue]
    assert {r.channel for r in responses} == {"kiosk"}
    assert sorted({a.value for a in responses[2].answers} - {None}) == [2]

    # Replaying the same queue (a crash after sending, before deleting) stores nothing new.
    page.evaluate(WRITE_OUTBOX, queue)
    page.reload()
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()
    expect(badge).to_be_hidden(timeout=20_000)
    assert page.evaluate(READ_OUTBOX) == []
    token = page.evaluate("() => localStorage.getItem('kiosk.token')")
    for item in queue:
        again = tablet_context.request.post(
            f"{kiosk_server.url}/kiosk/api/responses",
            data={
                key: item[key]
                for key in (
                    "client_id",
                    "answers",
                    "comment",
                    "language",
                    "device_time",
                    "questionnaire_id",
                )
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        assert again.status == 200
    assert count_stored(kiosk_server.app) == 3


def test_revoked_kiosk_keeps_answers_and_tells_staff(
    kiosk_server: LiveServer,
    tablet_context: BrowserContext,
    item_count: int,
    screenshot: Callable[[Any, str], Any],
) -> None:
    from survey.services.kiosks import revoke_kiosk
    from survey.storage.models import Kiosk

    page = tablet_context.new_page()
    pair(page, kiosk_server)
    with kiosk_server.app.app_context():
        session = get_session()
        kiosk = session.scalar(select(Kiosk))
        assert kiosk is not None
        revoke_kiosk(session, kiosk.id, None)
        session.commit()
    answer_citizen(page, item_count, 4)
    expect(page.locator("#staff")).to_contain_text("thu hồi", timeout=10_000)
    expect(
        page.get_by_role("heading", name="Máy này tạm thời không nhận ý kiến", exact=False)
    ).to_be_visible(timeout=5_000)
    expect(page.locator("#badge")).to_have_text("1 phiếu đang chờ gửi")
    screenshot(page, "revoked")
    assert count_stored(kiosk_server.app) == 0


def test_server_error_keeps_the_answer_and_tells_staff(
    kiosk_server: LiveServer, tablet_context: BrowserContext, item_count: int
) -> None:
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    page.route("**/kiosk/api/responses", lambda route: route.fulfill(status=503, body="busy"))
    answer_citizen(page, item_count, 4)
    expect(page.locator("#staff")).to_contain_text("Máy chủ gặp sự cố")
    expect(page.locator("#badge")).to_have_text("1 phiếu đang chờ gửi")
    assert count_stored(kiosk_server.app) == 0
    page.unroute("**/kiosk/api/responses")
    expect(page.locator("#badge")).to_be_hidden(timeout=15_000)  # retried with backoff
    expect(page.locator("#staff")).to_be_hidden()
    assert count_stored(kiosk_server.app) == 1


def test_permanent_refusal_is_dropped_with_a_message_to_staff(
    kiosk_server: LiveServer, tablet_context: BrowserContext, item_count: int
) -> None:
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    error = {"error": {"code": "InvalidAnswers", "message_vi": "Sai phiếu", "message_en": "Bad"}}
    page.route("**/kiosk/api/responses", lambda route: route.fulfill(status=422, json=error))
    answer_citizen(page, item_count, 3)
    expect(page.locator("#staff")).to_contain_text("Máy chủ từ chối một phiếu")
    expect(page.locator("#staff")).to_contain_text("Sai phiếu")
    expect(page.locator("#badge")).to_be_hidden()  # not retried forever
    assert page.evaluate(READ_OUTBOX) == []


def test_full_device_storage_still_sends_and_tells_staff(
    kiosk_server: LiveServer, tablet_context: BrowserContext, item_count: int
) -> None:
    tablet_context.add_init_script(
        "IDBObjectStore.prototype.put = function () {"
        " throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };"
    )
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    answer_citizen(page, item_count, 5)
    expect(page.locator("#staff")).to_contain_text("Bộ nhớ của máy tính bảng đã đầy")
    wait_until(lambda: count_stored(kiosk_server.app) == 1)


def test_timeout_policy_keep_complete_sends_a_finished_answer(
    kiosk_server: LiveServer, tablet_context: BrowserContext, item_count: int
) -> None:
    kiosk_server.app.config["KIOSK_TIMEOUT_POLICY"] = "keep_complete"
    page = tablet_context.new_page()
    page.clock.install()
    pair(page, kiosk_server)
    page.get_by_role("button", name="Bắt đầu").tap()
    for index in range(item_count):
        expect(page.locator(".progress")).to_have_text(f"Câu {index + 1}/{item_count}")
        page.locator("#screen .choice-4").tap()
        page.clock.run_for(400)
    expect(page.get_by_role("button", name="Gửi")).to_be_visible()
    page.clock.run_for(6_000)
    expect(page.get_by_role("alertdialog")).to_be_visible()
    page.clock.run_for(31_000)
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()
    wait_until(lambda: count_stored(kiosk_server.app) == 1)
    page.clock.run_for(5_000)
    expect(page.locator("#badge")).to_be_hidden()
    assert count_stored(kiosk_server.app) == 1  # one citizen, one response


def test_official_registers_a_kiosk_and_the_tablet_pairs_with_the_link(
    kiosk_server: LiveServer,
    new_context: Callable[..., Any],
    item_count: int,
    screenshot: Callable[[Any, str], Any],
) -> None:
    kiosk_server.app.config["INTEGRITY_BURST_SIZE"] = 2  # two identical answers make a burst
    with kiosk_server.app.app_context():
        session = get_session()
        create_user(session, "officer", "correct horse battery")
        session.commit()
    desk = kiosk_server.province.desk
    official = new_context(**DESKTOP, is_mobile=False, has_touch=False).new_page()
    official.goto(f"{kiosk_server.url}/admin/sign-in")
    official.get_by_label("Tên đăng nhập").fill("officer")
    official.get_by_label("Mật khẩu").fill("correct horse battery")
    official.get_by_role("button", name="Đăng nhập").click()
    official.get_by_role("link", name="Kiosk", exact=True).click()
    official.get_by_label("Điểm phục vụ").select_option(str(desk.id))
    official.get_by_label("Tên kiosk", exact=False).fill("Quầy tiếp dân số 1")
    official.get_by_role("button", name="Đăng ký kiosk").click()
    expect(official.get_by_role("heading", level=1)).to_contain_text("Quầy tiếp dân số 1")
    expect(official.get_by_role("img", name="Mã QR của đường dẫn ghép nối")).to_be_visible()
    screenshot(official, "pairing-code")
    assert_no_serious_violations(official, "pairing code page")
    link = official.locator("a[href*='/kiosk/pair/']").first.get_attribute("href")
    assert link is not None

    tablet = new_context(**TABLET).new_page()
    tablet.goto(link.replace("https://survey.example.vn", kiosk_server.url))
    screenshot(tablet, "tablet-pairing")
    assert_no_serious_violations(tablet, "tablet pairing page")
    tablet.get_by_role("button", name="Ghép nối máy tính bảng này").tap()
    tablet.wait_for_url(f"{kiosk_server.url}/kiosk/")
    for level in (5, 5):
        answer_citizen(tablet, item_count, level)
        expect(tablet.get_by_role("button", name="Bắt đầu")).to_be_visible(timeout=5_000)
    wait_until(lambda: count_stored(kiosk_server.app) == 2)

    official.goto(f"{kiosk_server.url}/admin/kiosks")
    expect(official.locator("body")).to_contain_text("Quầy tiếp dân số 1")
    expect(official.locator("body")).to_contain_text("Đã ghép nối")
    assert_no_serious_violations(official, "kiosk list")
    screenshot(official, "kiosk-list")
    official.goto(f"{kiosk_server.url}/admin/flags")
    expect(official.locator("body")).to_contain_text("Nhiều phiếu giống hệt nhau liên tiếp")
    assert_no_serious_violations(official, "flagged responses")
    screenshot(official, "flags")
    first = official.locator("section").filter(has_text="Nhiều phiếu giống hệt nhau").first
    first.get_by_label("Loại phiếu này khỏi chỉ số").check()
    first.get_by_label("Lý do", exact=False).fill("Cán bộ bấm thử máy")
    first.get_by_role("button", name="Ghi nhận quyết định").click()
    expect(official.get_by_role("status")).to_contain_text("Đã ghi nhận quyết định")
    excluded = [r for r in stored(kiosk_server.app) if r.excluded]
    assert len(excluded) == 1


@pytest.mark.parametrize(
    ("name", "viewport"),
    [
        ("portrait-tablet", {"width": 800, "height": 1280}),
        ("small-phone", {"width": 360, "height": 640}),
    ],
)
def test_layout_fits_other_screens_with_large_targets(
    kiosk_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    name: str,
    viewport: dict[str, int],
) -> None:
    page = new_context(**{**TABLET, "viewport": viewport}).new_page()
    pair(page, kiosk_server)
    page.get_by_role("button", name="Bắt đầu").tap()
    page.get_by_role("button", name="English").tap()  # the longer labels
    expect(page.locator(".progress")).to_contain_text("Question 1 of")
    assert small_targets(page) == []
    assert overlapping(page) == []
    assert label_problems(page, "#screen .choice .label") == []
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scrolling on {name}"
    screenshot(page, name)


QUEUE_THREE = """() => {
  const setup = JSON.parse(localStorage.getItem("kiosk.setup"));
  const answers = {};
  for (const item of setup.questionnaire.items) answers[item.code] = 4;
  const now = Date.now();
  return [0, 1, 2].map((index) => ({
    client_id: crypto.randomUUID(), answers, comment: null, language: "vi",
    device_time: new Date(now - (3 - index) * 20000).toISOString(),
    questionnaire_id: setup.questionnaire.id, kiosk_id: setup.kiosk.id,
    created: now - (3 - index) * 20000, attempts: 0,
  }));
}"""


def test_rate_limited_queue_waits_for_retry_after_then_sends_everything(
    kiosk_server: LiveServer, tablet_context: BrowserContext
) -> None:
    """A 429 stops the round (the rest of the queue is not hammered) until its Retry-After."""
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    page.evaluate(WRITE_OUTBOX, page.evaluate(QUEUE_THREE))
    calls: list[float] = []
    limited = {"error": {"code": "http_429", "message_vi": "Chậm lại", "message_en": "Slow down"}}

    def handle(route: Any) -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            route.fulfill(status=429, headers={"Retry-After": "3"}, json=limited)
        else:
            route.continue_()

    page.route("**/kiosk/api/responses", handle)
    page.reload()
    expect(page.get_by_role("button", name="Bắt đầu")).to_be_visible()
    # Route handlers run only while Playwright is called: wait in the page, not in time.sleep.
    for _ in range(100):
        if calls:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(2_000)
    assert len(calls) == 1  # nothing else sent before Retry-After
    expect(page.locator("#badge")).to_have_text("3 phiếu đang chờ gửi")
    expect(page.locator("#badge")).to_be_hidden(timeout=15_000)
    assert calls[1] - calls[0] >= 3
    assert count_stored(kiosk_server.app) == 3
    assert page.evaluate(READ_OUTBOX) == []


FULL_SCREEN_TABLETS = [
    ("landscape-1280x800", {"width": 1280, "height": 800}),
    ("portrait-800x1280", {"width": 800, "height": 1280}),
]
LAYOUT = """() => {
  const rect = (selector) => {
    const node = document.querySelector(selector);
    if (!node) return null;
    const box = node.getBoundingClientRect();
    return {left: box.left, top: box.top, width: box.width, height: box.height, bottom: box.bottom};
  };
  return {
    viewport: [window.innerWidth, window.innerHeight],
    scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    body: rect("body"), faces: rect("#screen .faces"), nav: rect("#screen .nav"),
  };
}"""
NOT_APPLICABLE_STYLE = """() => {
  const na = document.querySelector("#screen .choice-na");
  const face = document.querySelector("#screen .choice-3");
  const label = face.querySelector(".label");
  const box = (node) => node.getBoundingClientRect();
  const style = (node) => getComputedStyle(node);
  return {
    na: {width: box(na).width, height: box(na).height, font: parseFloat(style(na).fontSize),
         border: parseFloat(style(na).borderTopWidth), weight: style(na).fontWeight},
    face: {width: box(face).width, height: box(face).height,
           border: parseFloat(style(face).borderTopWidth),
           font: parseFloat(style(label).fontSize), weight: style(face).fontWeight},
  };
}"""


def go_to_question_with_not_applicable(page: Page) -> None:
    """From the welcome screen to the first question that offers "not applicable"."""
    items = page.evaluate(
        "() => JSON.parse(localStorage.getItem('kiosk.setup')).questionnaire.items"
    )
    target = next(index for index, item in enumerate(items) if item["not_applicable"])
    page.get_by_role("button", name="Bắt đầu").tap()
    for index in range(target):
        expect(page.locator(".progress")).to_have_text(f"Câu {index + 1}/{len(items)}")
        page.locator("#screen .choice-4").tap()
    expect(page.locator(".progress")).to_have_text(f"Câu {target + 1}/{len(items)}")
    expect(page.locator("#screen .choice-na")).to_be_visible()


@pytest.mark.parametrize(("name", "viewport"), FULL_SCREEN_TABLETS)
def test_kiosk_fills_the_tablet_and_not_applicable_is_quieter_than_the_faces(
    kiosk_server: LiveServer,
    new_context: Callable[..., Any],
    screenshot: Callable[[Any, str], Any],
    name: str,
    viewport: dict[str, int],
) -> None:
    page = new_context(**{**TABLET, "viewport": viewport}).new_page()
    pair(page, kiosk_server)
    screenshot(page, f"{name}-welcome")
    go_to_question_with_not_applicable(page)
    for language in ("vi", "en"):
        if language == "en":
            page.get_by_role("button", name="English").tap()
            expect(page.locator(".progress")).to_contain_text("Question")
        screenshot(page, f"{name}-question-{language}")
        layout = page.evaluate(LAYOUT)
        width, height = layout["viewport"]
        # The whole screen, and not a pixel more: nothing to scroll on a question screen.
        assert layout["scroll"] == [width, height], f"{language}: {layout}"
        assert layout["body"]["width"] == width and layout["body"]["height"] == height, layout
        assert layout["faces"]["width"] >= 0.85 * width, f"faces use little of the width: {layout}"
        assert layout["nav"]["bottom"] <= height, layout
        problems = label_problems(page, "#screen .choice .label")
        assert not problems, "\n".join(problems)
        assert small_targets(page) == []
        assert overlapping(page) == []

    looks = page.evaluate(NOT_APPLICABLE_STYLE)
    na, face = looks["na"], looks["face"]
    assert na["width"] >= MIN_TARGET and na["height"] >= MIN_TARGET, na
    assert na["height"] < face["height"] / 2, f"'not applicable' as tall as a face: {looks}"
    assert na["font"] < face["font"] and na["border"] < face["border"], looks
    assert na["font"] >= MIN_LABEL_PX, na
    assert_no_serious_violations(page, f"a question with 'not applicable' on {name}")  # contrast
    page.locator("#screen .choice-na").tap()  # still answers the question
    expect(page.locator(".progress")).not_to_contain_text(
        page.locator(".progress").inner_text(), timeout=5_000
    )


def test_first_touch_asks_for_the_full_screen(
    kiosk_server: LiveServer, tablet_context: BrowserContext
) -> None:
    page = tablet_context.new_page()
    pair(page, kiosk_server)
    assert page.evaluate("() => document.fullscreenElement === null")
    page.locator("#screen h1").tap()  # anywhere: a touch is the gesture the browser requires
    page.wait_for_function("() => document.fullscreenElement === document.documentElement")
    page.evaluate("() => document.exitFullscreen()")
    page.wait_for_function("() => document.fullscreenElement === null")
    page.get_by_role("button", name="Bắt đầu").tap()  # asked again after staff left it
    page.wait_for_function("() => document.fullscreenElement === document.documentElement")
