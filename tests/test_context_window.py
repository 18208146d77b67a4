"""Context window management against the stand-in: trimming, summary memory, calibration."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.chat_rig import ChatRig, memory_rule
from tests.standin import StandIn
from tests.standin.faults import Fault
from tests.standin.tokenizer import message_tokens
from utils.context import calibration, summaries
from utils.queue import WaitCallback

FILLER = [
    "Tell me about lighthouses and the keepers who lived in them, long ago.",
    "What is 1234 times 5678, roughly? I never remember multiplication tables.",
    "Could you suggest a recipe for bread that uses rye flour and caraway seeds?",
    "Über Leuchttürme: wie funktioniert die Fresnel-Linse eigentlich genau?",
    "Write a haiku about autumn rain on a tin roof, please.",
    "def add(a, b): return a + b  # is this Python function idiomatic enough?",
    "I'm planning a trip to Lisbon in spring; which neighbourhoods are nice?",
]


@pytest.fixture
def rig(tmp_path: Path, standin: StandIn) -> Iterator[ChatRig]:
    standin.reply = memory_rule(lambda text: f"Noted: {' '.join(text.split()[:6])}.")
    r = ChatRig(tmp_path, standin)
    yield r
    r.close()


def turn_requests(standin: StandIn) -> list[dict[str, Any]]:
    return [r.body for r in standin.requests.to("/api/chat") if r.streamed]


def test_sixty_turns_in_a_512_window_keep_the_system_prompt_and_the_name(
    rig: ChatRig, standin: StandIn
) -> None:
    options = {"num_ctx": 512}
    rig.turn("My name is Alice.", system="You are a helpful assistant.", options=options)
    for i in range(59):
        rig.turn(f"Turn {i}. {FILLER[i % len(FILLER)]}")
    records = standin.requests.to("/api/chat")
    assert all(r.outcome == "ok" for r in records)
    assert not any(r.truncated for r in records), "a prompt went over num_ctx"
    assert all(r.num_ctx == 512 for r in records)  # the summary call does not reload the model
    turns = [r for r in records if r.streamed]
    assert len(turns) == 60
    folds = len(records) - len(turns)  # the summary calls: one per batch, not one per turn
    assert 1 <= folds <= 60 // 3, folds
    for record in turns:
        messages = record.body["messages"]
        assert messages[0] == {"role": "system", "content": "You are a helpful assistant."}
        assert sum(message_tokens(m) for m in messages) <= 512 - 256  # within the budget
    last = turns[-1].body["messages"]
    assert "Alice" in " ".join(m["content"] for m in last[:-1])
    assert "Alice" not in " ".join(m["content"] for m in last[-6:])  # not by recency
    assert rig.session_id is not None
    summary = summaries.latest(rig.store, rig.session_id)
    assert summary is not None and "Alice" in summary.text
    assert (
        rig.sink.notices.count(
            "(Older turns no longer fit the context window; they are kept as a summary.)"
        )
        == 1
    )


def test_calibration_gets_within_ten_percent_of_ollamas_count(
    rig: ChatRig, standin: StandIn
) -> None:
    # Five- and six-letter words: one token each to the heuristic, two to the stand-in.
    words = "quick brown jumps seven bright stars above quiet hills rivers"
    for i in range(6):
        shared = rig.turn(f"{FILLER[i]} {words} {words}")
    context, turn = shared["context"], shared["turn"]
    error = abs(context["estimated_tokens"] - turn["prompt_tokens"]) / turn["prompt_tokens"]
    assert error < 0.10
    first = rig.store.db.execute(
        "SELECT estimated, actual FROM token_samples ORDER BY id"
    ).fetchone()
    assert abs(first[0] - first[1]) / first[1] > 0.2  # the heuristic alone was far off
    assert calibration.estimate_error_by_model(rig.store)["llama3.2:1b"] < 20.0
    assert calibration.load(rig.store, "llama3.2:1b").samples == 6


def test_a_huge_paste_is_cut_visibly_and_never_overflows(rig: ChatRig, standin: StandIn) -> None:
    paste = "START " + "lorem ipsum dolor sit amet, " * 40_000 + " END?"
    shared = rig.turn(paste, options={"num_ctx": 2048})
    sent = turn_requests(standin)[-1]["messages"][-1]["content"]
    assert sent.startswith("START") and sent.endswith("END?")
    assert "characters cut here to fit the context window" in sent
    assert not standin.requests.to("/api/chat")[-1].truncated
    assert shared["context"]["cut"] is True
    assert any("it was cut to fit, marked in the text sent" in n for n in rig.sink.notices)
    stored = rig.store.get_message(shared["user_message_id"])
    assert stored is not None and stored.content == paste  # the person's text is kept whole


def test_the_cut_notice_names_the_room_left_after_the_reply_reserve(rig: ChatRig) -> None:
    shared = rig.turn("word " * 3500)  # ~3.5k tokens: under the window, over its room
    assert shared["context"]["cut"] is True
    assert rig.sink.notices == [
        "Your message is longer than the room the context window leaves for it "
        "(3,584 of 4,096 tokens, after the reply reserve); it was cut to fit, "
        "marked in the text sent."
    ]


def test_ollama_truncating_anyway_is_said_once_and_recorded(rig: ChatRig, standin: StandIn) -> None:
    standin.reply = memory_rule(lambda text: "ok")
    big = " ".join(["xxxxx"] * 1300)  # 1,300 tokens to the heuristic, 2,600 to the stand-in
    first = rig.turn(big, options={"num_ctx": 2048})  # fits the estimate, not the window
    assert standin.requests.to("/api/chat")[-1].truncated
    assert first["context"]["truncated"] is True
    factor = calibration.load(rig.store, "llama3.2:1b").factor
    assert factor > 1.5  # the next estimate is safer at once
    second = rig.turn(big)  # now cut here, visibly, before Ollama could
    assert second["context"]["cut"] and not standin.requests.to("/api/chat")[-1].truncated
    rig.store.db.execute("DELETE FROM token_calibration")  # a forgotten calibration
    rig.store.db.conn.commit()
    third = rig.turn(big + " again")
    assert third["context"]["truncated"] is True
    notices = [n for n in rig.sink.notices if n.startswith("Ollama cut this prompt")]
    assert len(notices) == 1  # said once per session
    message = rig.store.get_message(first["turn"]["message_id"])
    assert message is not None and message.meta["truncated"] is True
    assert calibration.truncation_rate(rig.store, since=0) == pytest.approx(2 / 3)
    assert calibration.truncation_rate(rig.store, since=rig.clock.now() + 1) == 0.0


@dataclass
class FaultyGate:
    """A gate that records its use and breaks the summary call (every second acquire)."""

    standin: StandIn
    acquired: int = 0
    released: int = 0
    calls: list[str] = field(default_factory=list)

    def acquire(self, on_wait: WaitCallback) -> FaultyGate:
        self.acquired += 1
        if self.acquired % 2 == 0:
            self.standin.script_fault("chat", Fault.status(500, "boom"))
        return self

    def release(self) -> None:
        self.released += 1

    def held(self) -> bool:
        return True

    def depth(self) -> int:
        return self.acquired - self.released

    def estimate(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def test_summary_goes_through_the_gate_and_its_failure_never_fails_the_turn(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.reply = memory_rule(lambda text: "fine")
    gate = FaultyGate(standin)
    rig = ChatRig(tmp_path, standin, gate=gate)
    try:
        rig.turn("My name is Bob. " + FILLER[0], options={"num_ctx": 300, "num_predict": 100})
        for i in range(5):
            shared = rig.turn(FILLER[i + 1])
            assert shared["turn"]["status"] == "complete"
        assert gate.acquired == gate.released > 6  # the turn's calls and the summary calls
        assert rig.session_id is not None
        assert summaries.latest(rig.store, rig.session_id) is None  # every summary failed
    finally:
        rig.close()


def test_summary_off_sends_no_summary_call(tmp_path: Path, standin: StandIn) -> None:
    rig = ChatRig(tmp_path, standin, {"context.summary": False})
    try:
        for text in FILLER:
            rig.turn(text, options={"num_ctx": 200, "num_predict": 64})
        assert all(r.streamed for r in standin.requests.to("/api/chat"))
        shared = rig.turn("and now?")
        assert shared["context"]["dropped"] > 0
        note = [m for m in shared["prompt"] if "left out" in m["content"]]
        assert note and note[0]["role"] == "system"
    finally:
        rig.close()


@pytest.mark.parametrize(
    "text",
    ["你好世界" * 700, "é" * 1_000_000],  # the heuristic over-counts both (a 1 MB paste is cut)
    ids=["cjk-2800-chars", "e-acute-1mb"],
)
def test_an_over_estimate_is_no_truncation_alarm(rig: ChatRig, standin: StandIn, text: str) -> None:
    shared = rig.turn(text)  # a fresh database: the model has never been calibrated
    assert not standin.requests.to("/api/chat")[-1].truncated
    context, turn = shared["context"], shared["turn"]
    assert turn["prompt_tokens"] < 0.8 * context["estimated_tokens"]  # the old false alarm
    assert "truncated" not in context
    assert not [n for n in rig.sink.notices if n.startswith("Ollama cut this prompt")]
    assert calibration.truncation_rate(rig.store, since=0) == 0.0
    assert calibration.load(rig.store, "llama3.2:1b").factor < 1.0  # calibrated on it instead


@pytest.mark.parametrize(
    ("estimated", "actual", "num_ctx", "raw", "samples", "truncated"),
    [
        (2807, 904, 4096, 2807, 0, False),  # CJK counted far lower than estimated
        (3100, 1170, 4096, 3100, 5, False),  # an under-count, even once calibrated
        (1500, 3900, 4096, 1500, 0, True),  # Ollama kept about the whole window
        (4096, 4096, 4096, 4096, 0, True),
        (1307, 1024, 2048, 1307, 0, True),  # the last message cut to half the window
        (1100, 1024, 2048, 1100, 5, False),  # a prompt of half the window, as estimated
        (5000, 1900, 4096, 5000, 3, True),  # a trusted estimate far over the window
        (5000, 1900, 4096, 5000, 1, False),  # the raw heuristic alone: not far enough over
        (15000, 1900, 4096, 15000, 0, True),  # ... unless wildly over
        (2000, 0, 4096, 2000, 0, False),  # no count, no verdict
        (2000, 4000, None, 2000, 0, False),  # no window known
    ],
)
def test_truncation_signatures(
    estimated: int, actual: int, num_ctx: int | None, raw: int, samples: int, truncated: bool
) -> None:
    assert (
        calibration.looks_truncated(estimated, actual, num_ctx, raw=raw, samples=samples)
        is truncated
    )


def test_a_blank_summary_is_a_failure_and_keeps_the_coverage(
    tmp_path: Path, standin: StandIn
) -> None:
    blank = {"on": True}
    summarise = memory_rule(lambda text: "fine")

    def rule(messages: Any) -> str:
        first = str(messages[0].get("content", "")) if messages else ""
        if blank["on"] and "keep the memory of a conversation" in first:
            return "  \n "  # a thinking model whose reasoning used up num_predict
        return summarise(messages)

    def summary_calls() -> int:
        return sum(not r.streamed for r in standin.requests.to("/api/chat"))

    standin.reply = rule
    rig = ChatRig(tmp_path, standin, {"context.summary_batch": 2})
    filler = iter(FILLER * 4)

    def talk_until(done: Any) -> None:
        for _ in range(20):
            if done():
                return
            rig.turn(next(filler))
        raise AssertionError("no summary call")

    try:
        rig.turn("My name is Bob. " + next(filler), options={"num_ctx": 300, "num_predict": 100})
        talk_until(lambda: summary_calls() >= 1)
        assert rig.session_id is not None
        assert summaries.latest(rig.store, rig.session_id) is None  # nothing saved for ""
        blank["on"] = False
        talk_until(lambda: summaries.latest(rig.store, rig.session_id) is not None)
        kept = summaries.latest(rig.store, rig.session_id)
        assert kept is not None and "Bob" in kept.text
        blank["on"] = True
        calls = summary_calls()
        talk_until(lambda: summary_calls() > calls)
        after = summaries.latest(rig.store, rig.session_id)
        assert after == kept  # coverage not stretched over messages the blank text dropped
    finally:
        rig.close()


def test_the_planned_window_is_sent_so_a_smaller_server_default_cannot_truncate(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.default_num_ctx = 2048  # an old server (<= 0.6.6), or OLLAMA_CONTEXT_LENGTH
    standin.reply = memory_rule(lambda text: "Noted.")
    rig = ChatRig(tmp_path, standin, {"context.summary_batch": 2})
    try:
        assert rig.llm.load("llama3.2:1b", num_ctx=4096) >= 0  # the chat's warm-up
        loads = len(standin.requests.to("/api/chat"))
        shared = rig.turn("Hello there. " * 600)  # fits 4,096 tokens, not 2,048
        assert shared["context"]["num_ctx"] == 4096  # min(131072, context.default_num_ctx)
        first = standin.requests.to("/api/chat")[loads]
        assert first.body["options"]["num_ctx"] == 4096 and first.num_ctx == 4096
        assert not first.truncated
        assert not first.load_duration  # the warm-up loaded this very window
        for text in FILLER * 2:
            rig.turn(text * 20)
        records = standin.requests.to("/api/chat")
        assert any(not r.streamed for r in records)  # summary calls happened…
        assert all(r.num_ctx == 4096 for r in records)  # …in the same window: no reload
    finally:
        rig.close()


def test_trim_context_asks_the_window_in_exec_not_prep(tmp_path: Path, standin: StandIn) -> None:
    from dataclasses import replace

    from nodes.trim_context import TrimContext
    from utils.ollama import OllamaService

    rig = ChatRig(tmp_path, standin)
    llm = OllamaService(standin.url, rig.settings.ollama, rig.clock)  # nothing cached yet
    try:
        rig.turn("hi")
        node = TrimContext(replace(rig.deps, llm=llm))
        session = rig.store.resolve_session(str(rig.session_id))
        shows = len(standin.requests.to("/api/show"))
        data = node.prep({"session": session, "history": [], "pinned": []})
        assert len(standin.requests.to("/api/show")) == shows  # prep reads, never calls out
        assert node.exec(data).num_ctx == 4096
        assert node.exec(data).num_ctx == 4096
        assert len(standin.requests.to("/api/show")) == shows + 1  # once per process
        standin.go_down()
        fresh = TrimContext(replace(rig.deps, llm=OllamaService(standin.url, rig.settings.ollama,
                                                                 rig.clock)))  # fmt: skip
        assert fresh.exec(data).num_ctx == 4096  # Ollama unreachable: the setting's window
    finally:
        standin.come_up()
        llm.close()
        rig.close()
