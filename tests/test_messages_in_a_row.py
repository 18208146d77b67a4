"""Two messages sent in a row to one session (serve mode stores each before its run starts):
the first run's prompt ends at the first message — the second is not in it yet — and the
second run's prompt has the first exchange before it."""

from __future__ import annotations

from pathlib import Path

from tests.standin import StandIn
from tests.turn_kit import runner


def test_a_run_sees_no_message_stored_after_its_own(tmp_path: Path, standin: StandIn) -> None:
    turns = runner(standin, tmp_path / "data")
    store = turns.deps.store
    session = store.create_session("llama3.2:1b")
    first = store.append_message(session.id, "user", "write about tides")
    second = store.append_message(session.id, "user", "now about the moon")

    done = turns.turn(session_id=session.id, user_message=first.content,
                      user_message_id=first.id)  # fmt: skip
    assert done["turn"]["status"] == "complete"
    sent = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["write about tides"]

    turns.turn(session_id=session.id, user_message=second.content, user_message_id=second.id)
    sent = standin.requests.to("/api/chat")[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "write about tides", "now about the moon"]  # fmt: skip
