"""What the chat page reads from the API, in a real headless Chromium against a real `serve`
and the stand-in: the picker lists chat-capable models only (`GET /v1/models` says each
model's `capabilities`), a RAG reply's sources are drawn under it (the message JSON's
`sources`), the search box finds sessions by what was said in them (`GET /v1/sessions?q=`),
and an idle tab shows an exchange made in another tab on the same session."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser import browser, wait
from tests.rag_support import write_docs
from tests.serve_client import events, new_session
from tests.serve_proc import Server
from tests.standin import StandIn, replies
from tests.test_web_page import done, page, send, served, shown, standin

__all__ = ["browser", "page", "served", "standin"]  # the fixtures

OPTIONS = "return [...document.querySelectorAll('#model option')].map(o => o.value)"
LISTED = "return [...document.querySelectorAll('#sessions .open')].map(b => b.innerText)"


def test_models_say_their_capabilities_and_are_asked_once(
    served: Server, standin: StandIn
) -> None:
    shows = len(standin.requests.to("/api/show"))
    first = httpx.get(f"{served.url}/v1/models", timeout=10)
    assert first.status_code == 200, first.text
    caps = {m["id"]: m.get("capabilities") for m in first.json()["data"]}
    assert caps["nomic-embed-text:latest"] == ["embedding"]
    assert "completion" in caps["llama3.2:1b"]
    asked = len(standin.requests.to("/api/show")) - shows
    assert asked >= len(caps)
    again = httpx.get(f"{served.url}/v1/models", timeout=10).json()["data"]
    assert {m["id"]: m.get("capabilities") for m in again} == caps
    assert len(standin.requests.to("/api/show")) - shows == asked  # kept, not asked again


def test_the_picker_lists_chat_models_only(page: WebDriver) -> None:
    options = wait(page, lambda d: "llama3.2:1b" in (o := d.execute_script(OPTIONS)) and o)
    assert "nomic-embed-text:latest" not in options
    assert options[0] == ""  # "server default"


def test_a_rag_reply_shows_its_sources(page: WebDriver, served: Server, standin: StandIn) -> None:
    """The page open (idle) on a session; a terminal on the same data dir answers in it from a
    collection (`ask --collection -s`): the page shows the reply with its sources."""
    folder = write_docs(served.data / "notes")
    ingest = served.pocketchat("--host", standin.url, "rag", "ingest", str(folder),
                               "--collection", "notes")  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    sid = new_session(served.url, title="about lenses")
    page.get(f"{served.url}/#{sid}")
    page.refresh()  # a new hash alone does not load the page again
    wait(page, lambda d: d.find_element(By.ID, "title").text == "about lenses")
    asked = served.pocketchat("--host", standin.url, "ask", "-s", sid, "--collection", "notes",
                              "How is the lens polished?")  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    messages = httpx.get(f"{served.url}/v1/sessions/{sid}", timeout=10).json()["messages"]
    reply = messages[-1]
    assert reply["role"] == "assistant" and reply["sources"], reply
    assert [s["n"] for s in reply["sources"]] == list(range(1, len(reply["sources"]) + 1))
    assert any(s["path"].endswith("lighthouse.md") for s in reply["sources"])
    assert all(isinstance(s["chunk"], int) and s["collection"] == "notes"
               for s in reply["sources"])  # fmt: skip
    assert messages[-2]["role"] == "user" and messages[-2]["sources"] == []
    drawn = wait(page, lambda d: [e.text for e in d.find_elements(
        By.CSS_SELECTOR, "#log .msg.assistant .sources li")])  # fmt: skip
    assert len(drawn) == len(reply["sources"])
    assert any("lighthouse.md (chunk " in line for line in drawn)


def test_search_finds_sessions_by_what_was_said(page: WebDriver, served: Server) -> None:
    said = new_session(served.url, title="a chat about fruit")
    asked = httpx.post(f"{served.url}/v1/sessions/{said}/messages", timeout=10,
                       json={"content": "what is a quokkaberry worth"})  # fmt: skip
    assert asked.status_code == 202, asked.text
    events(served.url, asked.json()["run_id"])
    other = new_session(served.url, title="nothing here")
    found = httpx.get(f"{served.url}/v1/sessions", params={"q": "QUOKKABERRY worth"},
                      timeout=10).json()["sessions"]  # fmt: skip
    assert [s["id"] for s in found] == [said]
    assert "[quokkaberry]" in found[0]["match"]
    assert httpx.get(f"{served.url}/v1/sessions", params={"q": "quokkaberry zebra"},
                     timeout=10).json()["sessions"] == []  # fmt: skip
    page.refresh()
    wait(page, lambda d: "nothing here" in d.execute_script(LISTED))
    page.find_element(By.ID, "search").send_keys("quokkaberry")
    wait(page, lambda d: d.execute_script(LISTED) == ["a chat about fruit"])
    match = page.find_element(By.CSS_SELECTOR, "#sessions .match").text
    assert "quokkaberry" in match
    assert other not in page.page_source


def test_two_tabs_on_one_session_see_the_same_conversation(
    page: WebDriver, served: Server, standin: StandIn
) -> None:
    standin.reply = replies.fixed("Both tabs see this reply.")
    send(page, "hello from the first tab")
    assert done(page)["text"] == "Both tabs see this reply."
    sid = page.execute_script("return location.hash.slice(1)")
    first = page.current_window_handle
    page.switch_to.new_window("window")
    second = page.current_window_handle
    try:
        page.get(f"{served.url}/#{sid}")
        wait(page, lambda d: len(shown(d)) == 1)
        page.switch_to.window(first)  # the second tab stays open, idle
        standin.reply = replies.fixed("A second answer, made in the first tab.")
        send(page, "and again")
        assert done(page)["text"] == "A second answer, made in the first tab."
        page.switch_to.window(second)
        texts = wait(page, lambda d: len(shown(d)) == 2 and [r["text"] for r in shown(d)], 20)
        assert texts == ["Both tabs see this reply.", "A second answer, made in the first tab."]
        users = [e.text for e in page.find_elements(By.CSS_SELECTOR, "#log .msg.user .plain")]
        assert users == ["hello from the first tab", "and again"]
    finally:
        page.switch_to.window(second)
        page.close()
        page.switch_to.window(first)
