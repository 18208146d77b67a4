"""Deterministic stand-in tokenizer and Ollama-style prompt truncation.

``count_tokens(text)`` splits text into words and punctuation marks; a word longer than
four characters counts one token per started group of four characters.  Every message
additionally costs ``MESSAGE_OVERHEAD`` tokens (the chat template around it).

``fit_messages(messages, num_ctx)`` reproduces what Ollama does when the rendered prompt
exceeds the context window: drop the oldest non-system messages (every system message and
the last message are always kept) until it fits; if even that does not fit, the runner
cuts tokens in the middle, leaving about ``num_ctx // 2`` tokens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MESSAGE_OVERHEAD = 4
"""Template tokens around each message (role header, separators)."""

_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into deterministic tokens (words cut every 4 chars, punctuation)."""
    tokens: list[str] = []
    for piece in _PIECE.findall(text):
        tokens.extend(piece[i : i + 4] for i in range(0, len(piece), 4))
    return tokens


def count_tokens(text: str) -> int:
    """Number of tokens in ``text`` (no template overhead)."""
    return len(tokenize(text))


def message_tokens(message: Mapping[str, Any]) -> int:
    """Tokens one chat message costs once rendered: content plus template overhead."""
    content = message.get("content") or ""
    return count_tokens(str(content)) + MESSAGE_OVERHEAD


@dataclass(frozen=True)
class Fit:
    """Outcome of fitting a prompt into ``num_ctx``.

    ``kept`` are the indices of the messages kept, ``prompt_tokens`` the tokens of the
    full rendered prompt, ``prompt_eval_count`` the tokens actually evaluated.
    """

    kept: tuple[int, ...]
    prompt_tokens: int
    prompt_eval_count: int
    cut_middle: bool

    @property
    def truncated(self) -> bool:
        """True when anything of the prompt was dropped."""
        return self.prompt_eval_count < self.prompt_tokens


def fit_messages(messages: Sequence[Mapping[str, Any]], num_ctx: int) -> Fit:
    """Drop oldest non-system messages, then cut in the middle, as Ollama does."""
    costs = [message_tokens(m) for m in messages]
    total = sum(costs)
    if not messages:
        return Fit((), 0, 0, False)
    last = len(messages) - 1
    kept: list[int] = list(range(len(messages)))
    for start in range(len(messages)):
        kept = [
            i
            for i, m in enumerate(messages)
            if i >= start or i == last or m.get("role") == "system"
        ]
        if sum(costs[i] for i in kept) <= num_ctx or start == last:
            break
    used = sum(costs[i] for i in kept)
    if used <= num_ctx:
        return Fit(tuple(kept), total, used, False)
    return Fit(tuple(kept), total, max(1, num_ctx // 2), True)
