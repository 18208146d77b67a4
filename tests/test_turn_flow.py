"""One chat turn end to end (the real flow, nodes, store and stand-in): answers, figures, retry
with backoff, what is not retried, failures as one line with a `failed` row, auto-pull."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nodes.call_ollama import CallOllama
from tests.standin import Fault, ModelSpec, StandIn, replies
from tests.turn_kit import TimedSink, rows, runner


def test_a_turn_answers_and_stores_both_messages_with_figures(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.load_delay = 0.05
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="hello", title="greeting")
    turn = shared["turn"]
    assert turn["status"] == "complete" and sink.text == turn["text"]
    user, reply = rows(tmp_path, shared["session_id"])
    assert (user["role"], user["content"], user["model"]) == ("user", "hello", "llama3.2:1b")
    assert (reply["role"], reply["status"], reply["model"]) == (
        "assistant",
        "complete",
        "llama3.2:1b",
    )
    assert reply["content"] == sink.text
    assert reply["prompt_tokens"] and reply["completion_tokens"] and reply["done_reason"] == "stop"
    assert '"load_seconds"' in reply["timings"] and '"eval_seconds"' in reply["timings"]
    assert turn["timings"]["load_seconds"] >= 0.05


@pytest.mark.parametrize(
    "fault",
    [Fault.status(503, "server busy, please try again."), Fault.status(500, "out of memory")],
    ids=["503", "500"],
)
def test_transient_failures_are_retried_then_answered(
    standin: StandIn, tmp_path: Path, fault: Fault
) -> None:
    standin.script_fault("chat", fault, count=2)
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="hi")
    assert shared["turn"]["status"] == "complete"
    assert shared["attempts"] == 3
    assert "retrying (2/4)…" in sink.statuses and "retrying (3/4)…" in sink.statuses
    assert len(standin.requests.to("/api/chat")) == 3
    assert '"attempts": 3' in rows(tmp_path)[-1]["meta"]


def test_connection_refused_is_retried_until_the_server_is_back(
    standin: StandIn, tmp_path: Path
) -> None:
    turns = runner(standin, tmp_path, **{"retry.backoff": 0.1, "retry.max_retries": 5})
    standin.down_for(0.25)
    shared = turns.turn(user_message="hi")
    assert shared["turn"]["status"] == "complete"
    assert shared["attempts"] >= 2


def test_a_timeout_before_the_first_token_is_retried(standin: StandIn, tmp_path: Path) -> None:
    standin.script_fault("chat", Fault.stall(0.6))
    shared = runner(standin, tmp_path, **{"ollama.first_byte_timeout": 0.3}).turn(user_message="hi")
    assert shared["turn"]["status"] == "complete" and shared["attempts"] >= 2


def test_backoff_doubles_with_jitter_inside_its_bounds(standin: StandIn, tmp_path: Path) -> None:
    turns = runner(standin, tmp_path, **{"retry.backoff": 1.0, "retry.jitter": 0.1})
    call = _find(turns.flow.start_node, CallOllama)
    assert (call.max_retries, call.backoff, call.jitter) == (4, 1.0, 0.1)
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0)):
        assert base * 0.9 <= call.retry_delay(attempt) <= base * 1.1


def test_after_the_last_failure_one_line_and_a_failed_row(standin: StandIn, tmp_path: Path) -> None:
    standin.script_fault("chat", Fault.status(503, "busy"), count=4)
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="are you there?")
    assert shared["turn"]["status"] == "failed" and shared["attempts"] == 4
    (line,) = sink.notices
    assert standin.url in line and "busy" in line and "try again" in line and "\n" not in line
    user, reply = rows(tmp_path)
    assert user["content"] == "are you there?"
    assert (reply["role"], reply["status"], reply["content"]) == ("assistant", "failed", "")
    assert "busy" in reply["meta"]


@pytest.mark.parametrize("code", [400, 404])
def test_404_and_400_are_not_retried(standin: StandIn, tmp_path: Path, code: int) -> None:
    standin.script_fault("chat", Fault.status(code, f"scripted {code}"))
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="hi")
    assert shared["turn"]["status"] == "failed" and shared["attempts"] == 1
    assert len(standin.requests.to("/api/chat")) == 1
    assert [r["status"] for r in rows(tmp_path)] == ["complete", "failed"]


def test_a_missing_model_is_explained_with_the_installed_ones(
    standin: StandIn, tmp_path: Path
) -> None:
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(user_message="hi", model="mistral:7b")
    assert shared["turn"]["status"] == "failed"
    (line,) = sink.notices
    assert "ollama pull mistral:7b" in line and "llama3.2:1b" in line and "qwen2.5:0.5b" in line


def test_a_missing_model_is_pulled_with_progress_then_answers(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.registry["mistral:7b"] = ModelSpec(size=50_000_000)
    sink = TimedSink()
    turns = runner(standin, tmp_path, sink, **{"ollama.auto_pull": "true"})
    shared = turns.turn(user_message="hi", model="mistral:7b")
    assert shared["turn"]["status"] == "complete"
    assert any("pulling it now" in n for n in sink.notices)
    assert sink.progress_events[-1][0] == "success"
    assert any(total and done == total for _, done, total in sink.progress_events)


def test_options_go_to_ollama_and_a_length_stop_is_told(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.essay(40)
    sink = TimedSink()
    shared = runner(standin, tmp_path, sink).turn(
        user_message="write", options={"num_predict": 5, "temperature": 0.0}
    )
    assert shared["turn"]["done_reason"] == "length"
    assert any("length limit" in n for n in sink.notices)
    body = standin.requests.to("/api/chat")[-1].body
    assert body["options"] == {"num_predict": 5, "temperature": 0.0, "num_ctx": 4096}
    assert body["keep_alive"] == "30m"


def test_a_session_keep_alive_overrides_the_setting(standin: StandIn, tmp_path: Path) -> None:
    turns = runner(standin, tmp_path)
    turns.turn(user_message="hi", options={"keep_alive": "2h"})
    assert standin.requests.to("/api/chat")[-1].body["keep_alive"] == "2h"


@pytest.mark.parametrize(("stored", "sent"), [("-1", -1), (-1, -1), ("0", 0), ("1h30m", "1h30m")])
def test_keep_alive_numbers_go_as_numbers(
    standin: StandIn, tmp_path: Path, stored: object, sent: object
) -> None:
    turns = runner(standin, tmp_path)  # `/set keep_alive -1` stored the text "-1"
    shared = turns.turn(user_message="hi", options={"keep_alive": stored})
    assert shared["turn"]["status"] == "complete"
    body = standin.requests.to("/api/chat")[-1].body
    assert body["keep_alive"] == sent  # the ollama client sends numbers as floats: -1.0
    assert isinstance(body["keep_alive"], str) == isinstance(sent, str)
    again = turns.turn(session_id=shared["session_id"], user_message="and again")
    assert again["turn"]["status"] == "complete"


def test_think_is_sent_only_when_set(standin: StandIn, tmp_path: Path) -> None:
    turns = runner(standin, tmp_path)
    shared = turns.turn(user_message="hi")
    assert "think" not in standin.requests.to("/api/chat")[-1].body
    turns.turn(session_id=shared["session_id"], user_message="hm", options={"think": False})
    body = standin.requests.to("/api/chat")[-1].body
    assert body["think"] is False and "think" not in body.get("options", {})


def test_unicode_round_trips_exactly(standin: StandIn, tmp_path: Path) -> None:
    standin.reply = replies.echo
    text = "héllo 👋🏽 👩‍💻 中文 עברית\tZ̤͔ͧ̑a\u0301 \U0001f9ea"
    shared = runner(standin, tmp_path).turn(user_message=text)
    user, reply = rows(tmp_path)
    assert user["content"] == text and reply["content"] == text
    assert shared["turn"]["text"] == text


def _find(start: Any, cls: type[Any]) -> Any:
    """The first node of class `cls` reachable from `start` (breadth first)."""
    seen, todo = set(), [start]
    while todo:
        node = todo.pop(0)
        if isinstance(node, cls):
            return node
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node.successors.values())
    raise AssertionError(f"no {cls.__name__} in the flow")


def test_a_programming_error_is_raised_once_not_retried_as_an_ollama_failure(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from utils.ollama import OllamaService

    calls: list[str] = []

    def broken(self: OllamaService, model: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(model)
        raise TypeError("a bug, not Ollama")

    monkeypatch.setattr(OllamaService, "chat_stream", broken)
    sink = TimedSink()
    turns = runner(standin, tmp_path, sink)
    with pytest.raises(TypeError, match="a bug, not Ollama"):
        turns.turn(user_message="hi")
    assert len(calls) == 1
    assert not any(s.startswith("retrying") for s in sink.statuses)
    reply = rows(tmp_path)[-1]
    assert reply["status"] == "failed" and "TypeError" in reply["meta"]


def test_a_400_after_an_auto_pull_is_a_failure_not_retried(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.registry["mistral:7b"] = ModelSpec(size=50_000_000)
    turns = runner(standin, tmp_path, **{"ollama.auto_pull": "true"})
    standin.script_fault("chat", Fault.status(400, "invalid options"))  # the call after the pull
    shared = turns.turn(user_message="hi", model="mistral:7b")
    assert shared["turn"]["status"] == "failed" and shared["attempts"] == 1
    assert len(standin.requests.to("/api/chat")) == 2  # the 404, then the 400: no retry
