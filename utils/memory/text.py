"""What extraction asks and what it accepts: the prompt, the JSON schema sent as Ollama's
`format`, parsing the reply, and the normalised form duplicates are found by.

The schema is mem0's shape, `{"facts": ["…", …]}`. Ollama constrains the reply to it, but a
small model can still send text that is not JSON (cut by `num_predict`, or an old server that
ignores a schema): `parse_facts` raises `BrokenFacts` then, and the extractor asks once more.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

LOCAL_OWNER = "local"  # the person at this machine's terminal (chat, ask)

FACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"facts": {"type": "array", "items": {"type": "string"}}},
    "required": ["facts"],
}

INSTRUCTIONS = (
    "You extract lasting facts about the person (user) from one exchange of a conversation: "
    "their name, where they live, their work, preferences, plans, people and things they "
    "mention about themselves. Copy each fact in the person's own words, verbatim where they "
    "stated it (one fact per sentence they said), written from their point of view (\"My name "
    "is …\"). Do not add facts from the assistant's reply, guesses, questions or small talk. "
    'Answer with JSON only: {"facts": ["…", …]}; {"facts": []} when there is nothing to keep.'
)
REQUEST = "Person: {user}\n\nAssistant: {reply}"
RETRY_NOTE = 'Your last answer was not valid JSON. Answer with JSON only: {"facts": ["…"]}.'


class BrokenFacts(ValueError):
    """The model's reply was not `{"facts": [strings]}`."""


def owner_for_key(key_id: str | None, user: str | None = None) -> str:
    """Whose memories: in serve mode an API key's holder, or an explicit user id under that
    key (one key never reaches another key's users); else the local person."""
    if user:
        return f"key:{key_id}/user:{user}" if key_id else f"user:{user}"
    return f"key:{key_id}" if key_id else LOCAL_OWNER


def extraction_messages(user: str, reply: str, retry: bool = False) -> list[dict[str, str]]:
    """The extraction call's messages (the reply is cut: the facts are the person's)."""
    messages = [
        {"role": "system", "content": INSTRUCTIONS},
        {"role": "user", "content": REQUEST.format(user=user, reply=reply[:2000])},
    ]
    if retry:
        messages.append({"role": "system", "content": RETRY_NOTE})
    return messages


def parse_facts(raw: str, limit: int) -> list[str]:
    """The facts of a reply, stripped, without blanks and exact repeats, at most `limit`."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BrokenFacts(f"not JSON ({exc.msg} at character {exc.pos})") from exc
    facts = data.get("facts") if isinstance(data, dict) else None
    if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
        raise BrokenFacts('not {"facts": [strings]}')
    out: list[str] = []
    seen: set[str] = set()
    for fact in facts:
        text = " ".join(fact.split())
        key = normalise(text)
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out[: max(0, limit)]


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def normalise(text: str) -> str:
    """Case, accents' composition, punctuation and spacing folded: `My name is Alice.` and
    `my name is  alice` are the same memory."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", folded).split())
