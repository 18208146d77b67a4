"""TrimContext's fitting, on stored-message records (no server needed)."""

from __future__ import annotations

from nodes.trim_context import DROPPED_NOTE, SUMMARY_PREFIX, TrimInput, TrimResult, fit
from tests.standin.tokenizer import message_tokens
from utils.context import Calibration
from utils.store import Message, Session

T = "2025-01-01T00:00:00.000000Z"


def session(system: str | None = "Be brief.", start: int = 0) -> Session:
    return Session("s1", None, "m", system, {}, "active", start, "shared", T, T, T)


def message(seq: int, role: str, content: str, pinned: bool = False) -> Message:
    return Message(seq, "s1", seq, role, content, "m", "complete", pinned, None, None, {},
                   None, None, {}, T, T)  # fmt: skip


def conversation(turns: int, words: int = 20) -> list[Message]:
    out = []
    for i in range(turns):
        out.append(message(2 * i + 1, "user", f"question {i} " + "word " * words))
        out.append(message(2 * i + 2, "assistant", f"answer {i} " + "word " * words))
    out.append(message(2 * turns + 1, "user", "the latest question?"))
    return out


def trim(history: list[Message], **changes: object) -> TrimResult:
    data = {"session": session(), "history": history, "pinned": [], "summary": None,
            "summary_covers_to": 0, "num_ctx": 512, "reserve": 128,
            "calibration": Calibration(1.0, 10), **changes}  # fmt: skip
    return fit(TrimInput(**data))  # type: ignore[arg-type]


def test_keeps_system_latest_and_most_recent_whole_messages() -> None:
    history = conversation(30)
    result = trim(history)
    prompt = result.prompt
    assert prompt[0] == {"role": "system", "content": "Be brief."}
    assert prompt[1] == {"role": "system", "content": DROPPED_NOTE}
    assert prompt[-1]["content"] == "the latest question?"
    sent = {m["content"] for m in prompt}
    assert all(m.content in sent for m in history[-5:])  # recent, whole, in order
    kept = [m.seq for m in history[:-1] if m.content in sent]
    assert result.dropped == len(history) - 1 - len(kept)
    assert result.first_kept_seq == min(kept)
    assert sum(message_tokens(m) for m in prompt) <= 512 - 128


def test_everything_fits_no_note() -> None:
    result = trim(conversation(2))
    assert DROPPED_NOTE not in [m["content"] for m in result.prompt]
    assert result.dropped == 0 and result.first_kept_seq == 1


def test_summary_replaces_the_messages_it_covers_and_pins_stay() -> None:
    history = conversation(4)
    pinned = message(1, "user", "My name is Alice.", pinned=True)
    history[0] = pinned
    result = trim(history, summary="The person is Alice.", summary_covers_to=4)
    contents = [m["content"] for m in result.prompt]
    assert contents[1] == SUMMARY_PREFIX + "The person is Alice."
    assert contents[2] == "My name is Alice."  # pinned, although covered
    assert not any(c.startswith(("question 1", "answer 0", "answer 1")) for c in contents)
    assert any(c.startswith("question 2") for c in contents)
    assert result.first_kept_seq == 5


def test_a_message_bigger_than_the_budget_is_cut_and_flagged() -> None:
    history = [message(1, "user", "start " + "x " * 5000 + " end")]
    result = trim(history)
    prompt = result.prompt
    assert result.cut and prompt[-1]["content"].startswith("start")
    assert prompt[-1]["content"].endswith("end") and "cut here" in prompt[-1]["content"]
    assert result.raw <= 512 - 128


def test_a_huge_system_prompt_still_leaves_room_for_the_question() -> None:
    result = trim(conversation(1), session=session("rule " * 2000))
    prompt = result.prompt
    assert "cut here" in prompt[0]["content"]
    assert prompt[-1]["content"] == "the latest question?"
    assert result.raw <= 512 - 128
