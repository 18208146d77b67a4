"""StreamReply and the turn's ends: coalescing, never holding text, saving as it grows, broken
streams, /retry, Ctrl+C (before and during the reply), model switches and context modes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.standin import Fault, StandIn, replies
from tests.turn_kit import TimedSink, ctrl_c_after, rows, runner, wait_for


def test_fast_text_is_coalesced_into_pieces_of_about_50_chars(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(300)
    sink = TimedSink()
    runner(standin, tmp_path, sink).turn(user_message="go")
    assert sink.text.count(" ") == 299
    assert len(sink.pieces[0]) < 50  # the first piece is shown at once, never held
    assert all(len(p) >= 50 for p in sink.pieces[1:-1])  # every piece but the first and last
    assert len(sink.pieces) < 300 / 5


def test_slow_text_is_never_held_longer_than_the_delay(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.essay(8)  # about 40 characters: under the coalescing size
    standin.tokens_per_second = 5.0  # a word every 200 ms
    sink = TimedSink()
    began = time.monotonic()
    runner(standin, tmp_path, sink).turn(user_message="go")
    assert len(sink.pieces) >= 6  # each word shown on its own, not held for 50 characters
    gaps = [b - a for a, b in zip([began, *sink.times], sink.times, strict=False)][1:]
    assert max(gaps) < 0.2 + 0.1 + 0.1  # a word's wait + the delay + slack


def test_the_reply_is_saved_sentence_by_sentence_while_it_streams(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.fixed("One is first. Two comes next. Three is here. Four ends it.")
    standin.tokens_per_second = 25.0
    seen: list[tuple[str, str]] = []
    raw: list[tuple[str, list[str]]] = []  # the row's own content, and its parts

    class Peek(TimedSink):
        def reply(self, piece: str) -> None:
            super().reply(piece)
            saved = [r for r in rows(tmp_path) if r["role"] == "assistant"]
            if saved:
                seen.append((saved[-1]["status"], saved[-1]["content"]))
                raw.append(_raw(tmp_path, saved[-1]["id"]))

    runner(standin, tmp_path, Peek()).turn(user_message="count")
    mid = [content for status, content in seen if status == "partial"]
    assert any(c.startswith("One is first. Two comes next.") and "Four" not in c for c in mid)
    # while it streamed, the row kept its first piece and only new text was appended as parts
    assert len({content for content, _ in raw}) == 1
    assert [c + "".join(p) for c, p in raw] == [c for _, c in seen]
    assert max(len(parts) for _, parts in raw) >= 2
    final = [r for r in rows(tmp_path) if r["role"] == "assistant"][-1]
    assert final["status"] == "complete" and final["content"].endswith("Four ends it.")
    assert _raw(tmp_path, final["id"]) == (final["content"], [])  # folded once, at the end


def _raw(data: Path, message_id: int) -> tuple[str, list[str]]:
    conn = sqlite3.connect(data / "pocketchat.db")
    try:
        content = conn.execute("SELECT content FROM messages WHERE id = ?", [message_id])
        parts = conn.execute(
            "SELECT text FROM message_parts WHERE message_id = ? ORDER BY seq", [message_id]
        )
        return str(content.fetchone()[0]), [str(r[0]) for r in parts]
    finally:
        conn.close()


@pytest.mark.parametrize(
    "fault", [Fault.error_line(after=4, message="runner crashed"), Fault.cut(after=4)]
)
def test_a_broken_stream_keeps_the_partial_reply_and_retry_regenerates(
    standin: StandIn, tmp_path: Path, fault: Fault
) -> None:
    standin.reply = replies.essay(30)
    standin.script_fault("chat", fault)
    sink = TimedSink()
    turns = runner(standin, tmp_path, sink)
    shared = turns.turn(user_message="write")
    assert shared["turn"]["status"] == "partial"
    assert any("partial reply is kept" in n and "/retry" in n for n in sink.notices)
    kept = rows(tmp_path)[-1]
    assert kept["status"] == "partial" and kept["content"] == sink.text and sink.text
    again = turns.turn(session_id=shared["session_id"], regenerate=True)
    assert again["turn"]["status"] == "complete"
    stored = rows(tmp_path)
    assert [r["role"] for r in stored] == ["user", "assistant", "assistant"]
    assert json.loads(stored[1]["meta"])["superseded"] is True
    last_prompt = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["role"] for m in last_prompt] == ["user"]  # the partial reply is left out


def test_ctrl_c_mid_reply_keeps_the_partial_reply_interrupted_and_stops_ollama(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.reply = replies.essay(60)
    standin.tokens_per_second = 20.0
    sink = TimedSink()
    turns = runner(standin, tmp_path, sink)
    with ctrl_c_after(0.5):
        shared = turns.turn(user_message="write")
    assert shared["turn"]["status"] == "interrupted"
    reply = rows(tmp_path)[-1]
    assert reply["status"] == "interrupted" and reply["content"] == sink.text
    assert 0 < len(sink.text.split()) < 60
    assert wait_for(lambda: standin.requests.to("/api/chat")[-1].outcome == "cancelled")


def test_ctrl_c_before_the_first_token_leaves_an_interrupted_reply_row(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.first_token_delay = 1.0
    turns = runner(standin, tmp_path)
    with pytest.raises(KeyboardInterrupt), ctrl_c_after(0.3):
        turns.turn(user_message="first")
    standin.first_token_delay = 0.0
    sid = turns.last_shared["session_id"]
    turns.turn(session_id=sid, user_message="second")
    stored = [(r["role"], r["status"]) for r in rows(tmp_path)]
    assert stored == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert wait_for(lambda: standin.requests.to("/api/chat")[0].outcome == "cancelled")


def _models(data: Path) -> list[tuple[str, Any]]:
    return [(r["role"], r["model"]) for r in rows(data)]


def test_switching_model_records_it_and_shares_the_thread(standin: StandIn, tmp_path: Path) -> None:
    turns = runner(standin, tmp_path)
    sid = turns.turn(user_message="one")["session_id"]
    turns.turn(session_id=sid, user_message="two", model="qwen2.5:0.5b")
    assert _models(tmp_path) == [
        ("user", "llama3.2:1b"),
        ("assistant", "llama3.2:1b"),
        ("system", "qwen2.5:0.5b"),
        ("user", "qwen2.5:0.5b"),
        ("assistant", "qwen2.5:0.5b"),
    ]
    note = rows(tmp_path)[2]
    assert "qwen2.5:0.5b" in note["content"] and "llama3.2:1b" in note["content"]
    sent = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["one", "two"]


def test_per_model_context_gives_each_model_its_own_thread(
    standin: StandIn, tmp_path: Path
) -> None:
    turns = runner(standin, tmp_path)
    sid = turns.turn(user_message="to llama", context_mode="per-model")["session_id"]
    turns.turn(session_id=sid, user_message="to qwen", model="qwen2.5:0.5b")
    sent = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["to qwen"]
    turns.turn(session_id=sid, user_message="llama again", model="llama3.2:1b")
    sent = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["to llama", "llama again"]


def test_the_context_mode_setting_applies_to_new_sessions(standin: StandIn, tmp_path: Path) -> None:
    turns = runner(standin, tmp_path, **{"chat.context_mode": "per-model"})
    shared = turns.turn(user_message="hi")
    assert shared["session"].context_mode == "per-model"


def _thinker(standin: StandIn) -> str:
    from tests.standin import ModelSpec

    standin.models["qwen3:0.6b"] = ModelSpec(thinking=True, family="qwen3")
    return "qwen3:0.6b"


def test_a_thinking_model_shows_progress_and_stores_only_the_reply(
    standin: StandIn, tmp_path: Path
) -> None:
    model = _thinker(standin)
    standin.reply = replies.fixed("Paris is the capital.")
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="capital?", model=model)
    assert shared["turn"]["status"] == "complete"
    assert sink.text == "Paris is the capital." and "think" not in sink.text
    counts = [s for s in sink.statuses if s.startswith("thinking… (") and s.endswith(" tokens)")]
    assert counts and sink.statuses[-1] == ""  # progress shown while it reasons, then cleared
    reply = rows(tmp_path)[-1]
    assert reply["content"] == "Paris is the capital."
    assert json.loads(reply["meta"])["thinking_chars"] == len(replies.reasoning([]))


def test_a_stream_broken_mid_thinking_is_partial_not_retried(
    standin: StandIn, tmp_path: Path
) -> None:
    model = _thinker(standin)
    standin.script_fault("chat", Fault.cut(after=3))
    shared = runner(standin, tmp_path).turn(user_message="hm?", model=model)
    assert shared["turn"]["status"] == "partial" and shared["attempts"] == 1
    assert len(standin.requests.to("/api/chat")) == 1  # the reply had begun: no fresh start


def test_ctrl_c_while_the_model_thinks_stops_the_reply_it_began(
    standin: StandIn, tmp_path: Path
) -> None:
    model = _thinker(standin)
    standin.reasoning = replies.essay(100)
    standin.tokens_per_second = 20.0
    sink = TimedSink()
    with ctrl_c_after(0.5):
        shared = runner(standin, tmp_path, sink).turn(user_message="think hard", model=model)
    assert shared["turn"]["status"] == "interrupted" and sink.text == ""
    assert "(stopped; the partial reply is kept, marked interrupted)" in sink.notices
    assert wait_for(lambda: standin.requests.to("/api/chat")[-1].outcome == "cancelled")


def test_think_false_is_sent_as_the_request_field(standin: StandIn, tmp_path: Path) -> None:
    model = _thinker(standin)
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(
        user_message="quick", model=model, options={"think": False}
    )
    assert shared["turn"]["status"] == "complete"
    assert standin.requests.to("/api/chat")[-1].body["think"] is False
    assert not any(s.startswith("thinking… (") for s in sink.statuses)


def test_a_second_ctrl_c_frees_the_queue_only_when_the_stream_is_closed(
    standin: StandIn, tmp_path: Path
) -> None:
    from tests.chat_rig import ChatRig

    released: list[float] = []

    class Gate:
        def acquire(self, on_wait: Any) -> Gate:
            return self

        def release(self) -> None:
            released.append(time.monotonic())

        def held(self) -> bool:
            return True

        def depth(self) -> int:
            return 0

        def estimate(self) -> float | None:
            return None

        def close(self) -> None:
            pass

    standin.reply = replies.essay(30)
    standin.tokens_per_second = 1.0  # a word a second: the reader sits inside its read
    rig = ChatRig(tmp_path, standin, {"ollama.chunk_timeout": 3.0}, gate=Gate())
    try:
        began = time.monotonic()
        with ctrl_c_after(1.3), ctrl_c_after(1.6):  # the second one stops the wait for the reader
            shared = rig.turn("write slowly")
        assert shared["turn"]["status"] == "interrupted"
        assert wait_for(lambda: bool(released))
        assert released[0] - began > 1.85  # when the reader got its chunk and closed the stream
        assert shared["started"].stream.closed
        assert wait_for(lambda: standin.requests.to("/api/chat")[-1].outcome == "cancelled")
    finally:
        rig.close()
