"""The chat page in a real headless Chromium against a real `pocketchat serve` (uvicorn on an
ephemeral loopback port) with the one-slot stand-in behind it: send and stream, Stop keeps the
partial reply, a reload mid-reply shows the whole reply once, a second page waits in line and
says so, a reply (or a message) carrying HTML or a `javascript:` link is shown as text, and a
key is asked for once."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import alert_shown, browser, wait
from tests.serve_proc import Server, serving
from tests.standin import StandIn, replies
from tests.standin.models import default_models

__all__ = ["browser"]  # the fixture

REPLIES = """return [...document.querySelectorAll('#log .msg.assistant')].map(m => ({
  text: m.querySelector('.md').innerText.replace(/\\s+/g, ' ').trim(),
  done: m.dataset.done || null, mark: m.querySelector('.mark')?.innerText || null}))"""


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn(default_models(), num_parallel=1)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("page") / "d", standin.url) as server:
        yield server


@pytest.fixture
def page(browser: WebDriver, served: Server, standin: StandIn) -> WebDriver:
    """A new chat on a fresh page (nothing kept in this tab's sessionStorage)."""
    standin.reply, standin.tokens_per_second = replies.friendly, None
    browser.get(f"{served.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{served.url}/")
    wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    return browser


def send(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "box")
    lines = text.split("\n")
    box.send_keys(lines[0])
    for line in lines[1:]:
        ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        box.send_keys(line)
    box.send_keys(Keys.ENTER)
    wait(driver, lambda d: d.find_element(By.ID, "box").get_attribute("value") == "")


def shown(driver: WebDriver) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = driver.execute_script(REPLIES)
    return result


def done(driver: WebDriver, seconds: float = 20) -> dict[str, Any]:
    last: dict[str, Any] = wait(
        driver, lambda d: shown(d) and shown(d)[-1]["done"] and shown(d)[-1], seconds
    )
    return last


def stored(served: Server) -> list[tuple[str, str, str]]:
    with sqlite3.connect(served.data / "pocketchat.db") as conn:
        rows = conn.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()
    return [(r, c, s) for r, c, s in rows]


def lengths_while_streaming(driver: WebDriver, seconds: float = 20) -> set[int]:
    """The lengths of the last reply's text seen before it was done (polled)."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        last = (shown(driver) or [{"text": "", "done": None}])[-1]
        if last["done"]:
            return seen
        if last["text"]:
            seen.add(len(last["text"]))
        time.sleep(0.02)
    raise AssertionError("the reply did not end")


def words_seen(driver: WebDriver, count: int) -> str:
    """Wait until the last reply shows at least `count` words (still streaming); its text."""
    text: str = wait(driver, lambda d: (t := (shown(d) or [{"text": ""}])[-1]["text"])
                     and len(t.split()) >= count and t)  # fmt: skip
    return text


def test_send_and_stream(page: WebDriver, served: Server, standin: StandIn) -> None:
    text = replies.essay_text(40)
    standin.reply, standin.tokens_per_second = replies.fixed(text), 50
    send(page, "first line\nsecond line")
    seen = lengths_while_streaming(page)
    assert len(seen) >= 2, "the reply was drawn whole, not streamed"
    assert done(page)["text"] == text
    user = page.find_element(By.CSS_SELECTOR, "#log .msg.user .plain").text
    assert user == "first line\nsecond line"
    assert stored(served)[-2:] == [("user", "first line\nsecond line", "complete"),
                                   ("assistant", text, "complete")]  # fmt: skip
    assert page.find_element(By.ID, "title").text == "first line"


def test_stop_keeps_the_partial_reply(page: WebDriver, served: Server, standin: StandIn) -> None:
    text = replies.essay_text(400)
    standin.reply, standin.tokens_per_second = replies.fixed(text), 40
    send(page, "a long one please")
    words_seen(page, 5)
    page.find_element(By.ID, "stop").click()
    reply = done(page)
    assert reply["done"] == "interrupted" and reply["mark"] == "(stopped)"
    assert 5 <= len(reply["text"].split()) < 400 and text.startswith(reply["text"])
    role, content, status = stored(served)[-1]
    assert (role, status) == ("assistant", "interrupted")
    assert " ".join(content.split()) == reply["text"]
    assert not page.find_element(By.ID, "stop").is_displayed()


def test_reload_mid_reply_shows_the_whole_reply_once(
    page: WebDriver, served: Server, standin: StandIn
) -> None:
    text = replies.essay_text(60)
    standin.reply, standin.tokens_per_second = replies.fixed(text), 40
    send(page, "tell me something")
    before = words_seen(page, 8)
    rejoins = rejoined(served)
    page.refresh()
    reply = done(page)
    assert reply == {"text": text, "done": "complete", "mark": None}
    assert len(before.split()) < 60  # the reload really came mid-reply
    assert [r["text"] for r in shown(page)] == [text]
    assert page.find_element(By.CSS_SELECTOR, "#log .msg.user .plain").text == "tell me something"
    assert rejoined(served) == rejoins + 1  # with Last-Event-ID, not from the start
    assert stored(served)[-1] == ("assistant", text, "complete")


def rejoined(served: Server) -> float:
    metrics = httpx.get(f"{served.url}/metrics", timeout=5).text
    found = re.search(r"^pocketchat_serve_stream_rejoins_total (\S+)$", metrics, re.M)
    assert found, metrics
    return float(found.group(1))


def test_a_second_page_says_its_place_in_line_then_replies(
    page: WebDriver, served: Server, standin: StandIn
) -> None:
    text = replies.essay_text(50)
    standin.reply, standin.tokens_per_second = replies.fixed(text), 40
    first = page.current_window_handle
    page.switch_to.new_window("window")
    page.get(f"{served.url}/")
    wait(page, lambda d: d.execute_script("return document.readyState") == "complete")
    second = page.current_window_handle
    try:
        page.switch_to.window(first)
        send(page, "me first")
        words_seen(page, 2)
        page.switch_to.window(second)
        send(page, "me second")
        line = wait(page, lambda d: re.fullmatch(r"#1 in line( · about \d+ s)?",
                                                 d.find_element(By.ID, "status").text))
        assert line is not None
        assert done(page)["text"] == text
        page.switch_to.window(first)
        assert done(page)["text"] == text
        assert standin.max_concurrent == 1
    finally:
        page.switch_to.window(second)
        page.close()
        page.switch_to.window(first)


HOSTILE = ("Look <img src=x onerror=alert(1)> here, [click me](javascript:alert(2)) and "
           "<script>alert(3)</script> `<b>code</b>`")  # fmt: skip


def test_html_and_javascript_links_render_as_text(page: WebDriver, standin: StandIn) -> None:
    standin.reply = replies.fixed(HOSTILE)
    send(page, "<img src=y onerror=alert(4)> <a href='javascript:alert(5)'>me</a>")
    reply = done(page)
    assert "<img src=x onerror=alert(1)>" in reply["text"]
    assert "[click me](javascript:alert(2))" in reply["text"]
    assert "<script>alert(3)</script>" in reply["text"]
    log = page.find_element(By.ID, "log")
    for tag in ("img", "script", "b", "iframe"):
        assert log.find_elements(By.TAG_NAME, tag) == [], tag
    assert [a.get_attribute("href") for a in log.find_elements(By.TAG_NAME, "a")] == []
    user = page.find_element(By.CSS_SELECTOR, "#log .msg.user .plain").text
    assert user == "<img src=y onerror=alert(4)> <a href='javascript:alert(5)'>me</a>"
    page.refresh()  # drawn again from the stored messages: the same
    wait(page, lambda d: shown(d) and shown(d)[-1]["text"] == reply["text"])
    assert page.find_element(By.ID, "log").find_elements(By.TAG_NAME, "img") == []
    assert not alert_shown(page)


def test_sessions_search_rename_archive(page: WebDriver, served: Server) -> None:
    for title in ("apples to compare", "bananas ripening"):
        made = httpx.post(f"{served.url}/v1/sessions", json={"title": title}, timeout=5)
        assert made.status_code == 201
    page.refresh()
    listed = """return [...document.querySelectorAll('#sessions .open')].map(b => b.innerText)"""
    wait(page, lambda d: "bananas ripening" in d.execute_script(listed))
    page.find_element(By.ID, "search").send_keys("BANANA")
    assert page.execute_script(listed) == ["bananas ripening"]
    page.find_element(By.CSS_SELECTOR, "#sessions [aria-label='Rename bananas ripening']").click()
    prompt = page.switch_to.alert
    prompt.send_keys("cherries now")
    prompt.accept()
    page.find_element(By.ID, "search").send_keys(Keys.BACKSPACE * len("BANANA"))
    wait(page, lambda d: "cherries now" in d.execute_script(listed))
    assert "bananas ripening" not in page.execute_script(listed)
    page.find_element(By.CSS_SELECTOR, "#sessions [aria-label='Archive cherries now']").click()
    wait(page, lambda d: "cherries now" not in d.execute_script(listed))
    page.find_element(By.ID, "archived").click()
    wait(page, lambda d: d.find_elements(By.CSS_SELECTOR, "[aria-label='Restore cherries now']"))
    sessions = httpx.get(f"{served.url}/v1/sessions?archived=true", timeout=5).json()["sessions"]
    assert [s["title"] for s in sessions if s["status"] == "archived"] == ["cherries now"]


def test_a_key_is_asked_for_once_and_kept(page: WebDriver, served: Server) -> None:
    """Last in this module: once a key exists, every /v1 request needs one."""
    made = served.pocketchat("keys", "create", "browser")
    assert made.returncode == 0, made.stderr
    page.refresh()
    dialog = wait(page, lambda d: (e := d.find_element(By.ID, "key-dialog")).is_displayed() and e)
    page.find_element(By.ID, "key-input").send_keys(made.stdout.strip(), Keys.ENTER)
    wait(page, lambda d: not dialog.is_displayed())
    send(page, "with a key")
    assert done(page)["done"] == "complete"
    assert not dialog.is_displayed()  # asked once, though several requests got 401
    kept = page.execute_script("return localStorage.getItem('pocketchat.key')")
    assert kept == made.stdout.strip()
    page.refresh()
    wait(page, lambda d: len(shown(d)) == 1)  # the session, read with the kept key
    assert not page.find_element(By.ID, "key-dialog").is_displayed()
    assert page.find_element(By.ID, "status").text == ""
