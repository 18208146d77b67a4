"""Test support for long-term memory: a stand-in reply rule that answers extraction calls
with scripted JSON facts (as a model constrained by Ollama's `format` would) and chat turns
with a friendly line, and a helper that runs pending extraction jobs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tests.standin import replies

EXTRACTION_MARK = "You extract lasting facts about the person"


def is_extraction(messages: Sequence[Any]) -> bool:
    return bool(messages) and EXTRACTION_MARK in str(messages[0].get("content", ""))


def person_text(messages: Sequence[Any]) -> str:
    """The person's message inside an extraction request."""
    content = str(messages[1].get("content", ""))
    return content.split("\n\nAssistant:", 1)[0].removeprefix("Person: ")


def facts_rule(
    facts: Callable[[str], list[str]] | None = None,
    broken: list[str] | None = None,
    chat: replies.ReplyRule = replies.friendly,
) -> replies.ReplyRule:
    """Extraction calls get `{"facts": facts(person's text)}` (default: each sentence that
    starts with "My" or "I", verbatim); while `broken` has items, the next extraction reply is
    its first item instead (broken JSON). Other calls get `chat`."""

    def default(text: str) -> list[str]:
        parts = [p.strip() for p in text.replace("!", ".").split(".") if p.strip()]
        return [p for p in parts if p.split()[0] in ("My", "I")]

    pick = facts or default

    def rule(messages: Sequence[Any]) -> str:
        if is_extraction(messages):
            if broken:
                return broken.pop(0)
            return json.dumps({"facts": pick(person_text(messages))})
        return chat(messages)

    return rule
