"""The request a turn sent to Ollama, as `ask --show-prompt`, `/prompt` and `flow run --keep
prompt` show it: the model, the options, and every message exactly as sent, each with its
estimated tokens (utils/context's estimator, uncalibrated; the total adds the template's tail).

CallOllama records the request where it builds it (`shared["request"]`: model, messages after
the model's quirks, options, keep_alive, think); nothing here re-derives it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

NONE_SENT = (
    "no request was sent to the model this turn (answered from the cache, or it stopped "
    "before the call)"
)


def prompt_record(request: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The request with each message's estimated tokens and the total (JSON-ready)."""
    if not request:
        return None
    from utils.context import PROMPT_OVERHEAD, estimate_message

    messages = [{**m, "tokens": estimate_message(m)} for m in request.get("messages") or []]
    record = {k: v for k, v in request.items() if k != "messages"}
    record["messages"] = messages
    record["estimated_tokens"] = sum(m["tokens"] for m in messages) + PROMPT_OVERHEAD
    return record


def prompt_lines(request: Mapping[str, Any] | None) -> list[str]:
    """The lines a person reads: a header, the options, each message with its tokens."""
    record = prompt_record(request)
    if record is None:
        return [NONE_SENT]
    head = f"request to {record.get('model')}"
    if record.get("keep_alive") is not None:
        head += f" (keep_alive {record['keep_alive']})"
    lines = [head, f"options: {json.dumps(record.get('options') or {}, ensure_ascii=False)}"]
    if "think" in record:
        lines.append(f"think: {record['think']}")
    for n, message in enumerate(record["messages"], start=1):
        lines.append(f"[{n}] {message.get('role')}  ~{message['tokens']} tokens")
        content = str(message.get("content", ""))
        lines += [f"    {line}" for line in content.splitlines() or [""]]
    count = len(record["messages"])
    noun = "message" if count == 1 else "messages"
    lines.append(f"{count} {noun}, ~{record['estimated_tokens']} tokens in all (estimated)")
    return lines
