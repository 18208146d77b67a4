"""Reply rules: what the stand-in model "says".

A reply rule is any ``Callable[[list[dict]], str]`` receiving the chat messages (after
``system``/``prompt`` were turned into messages for /api/generate).  Assign one to
``StandIn.reply``::

    s.reply = replies.fixed("Hello there.")
    s.reply = replies.echo
    s.reply = replies.essay(500)
    s.reply = replies.essay_on_request  # "write 20000 words" -> 20,000 words in sentences
    s.reply = lambda messages: "yes" if "?" in messages[-1]["content"] else "no"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Messages = Sequence[Mapping[str, Any]]
ReplyRule = Callable[[Messages], str]

_ESSAY_WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "lazy",
    "dogs",
    "while",
    "seven",
    "wise",
    "owls",
    "count",
    "bright",
    "stars",
    "above",
    "quiet",
    "hills",
    "and",
    "rivers",
]


def last_user_text(messages: Messages) -> str:
    """Content of the last ``user`` message, or ``""``."""
    for message in reversed(messages):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def friendly(messages: Messages) -> str:
    """Default reply: a short deterministic greeting mentioning the message count."""
    return f"Hello! I am the stand-in model. You sent {len(messages)} message(s)."


def echo(messages: Messages) -> str:
    """Reply with the last user message verbatim."""
    return last_user_text(messages)


def fixed(text: str) -> ReplyRule:
    """Always reply ``text``."""

    def rule(messages: Messages) -> str:
        return text

    return rule


def essay_text(words: int) -> str:
    """``words`` deterministic words (word i is ``_ESSAY_WORDS[i % 20]``)."""
    return " ".join(_ESSAY_WORDS[i % len(_ESSAY_WORDS)] for i in range(words))


def essay(words: int) -> ReplyRule:
    """Reply with ``essay_text(words)``."""
    text = essay_text(words)

    def rule(messages: Messages) -> str:
        return text

    return rule


def prose_text(words: int, sentence: int = 12) -> str:
    """``essay_text(words)`` in sentences: every ``sentence``-th word and the last end in '.'."""
    out = essay_text(words).split(" ")
    for i in range(sentence - 1, len(out), sentence):
        out[i] += "."
    if out and out[-1] and not out[-1].endswith("."):
        out[-1] += "."
    return " ".join(out)


def essay_on_request(messages: Messages) -> str:
    """``prose_text(n)``, n being the first number in the last user message (200 if none):
    ``write 100,000 words`` gets a 100,000-word reply."""
    found = re.search(r"\d[\d,_]*", last_user_text(messages))
    return prose_text(int(re.sub(r"[,_]", "", found.group())) if found else 200)


def reasoning(messages: Messages) -> str:
    """A thinking model's reasoning before it answers (sent as ``message.thinking``)."""
    return "Okay, the person wrote something. Let me think about what they need and answer it."


def split_chunks(text: str) -> list[str]:
    """Stream pieces: each word together with the whitespace that follows it."""
    chunks: list[str] = []
    current = ""
    for ch in text:
        if ch.isspace() or not current or not current[-1].isspace():
            current += ch
        else:
            chunks.append(current)
            current = ch
    if current:
        chunks.append(current)
    return chunks
