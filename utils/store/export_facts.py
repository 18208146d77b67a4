"""The line under a message in the Markdown export, written for a person: when, which model,
tokens, how it ended, timings in ms or s, the context it saw, its sources and any other meta,
each as words and rounded numbers (the JSON export keeps every exact value)."""

from __future__ import annotations

from typing import Any

from utils.store.models import Message


def facts(m: Message) -> str:
    """`2026-11-29 15:31:35 UTC · llama3.2:1b · 8 tokens in, 10 out · ended: stop · …`."""
    found = [when(m.created_at)]
    if m.model:
        found.append(m.model)
    if m.prompt_tokens is not None or m.completion_tokens is not None:
        found.append(f"{m.prompt_tokens or 0} tokens in, {m.completion_tokens or 0} out")
    if m.done_reason:
        found.append(f"ended: {m.done_reason}")
    found += [f"{_words(k.removesuffix('_seconds').removesuffix('_ms'))} {_timing(k, v)}"
              for k, v in sorted(m.timings.items()) if isinstance(v, int | float)]  # fmt: skip
    found += [text for key, value in sorted(m.meta.items()) if (text := _meta(key, value))]
    return " · ".join(found) if m.role == "assistant" or len(found) > 1 else ""


def when(iso: str) -> str:
    """`2026-11-29T15:31:35.240301Z` -> `2026-11-29 15:31:35 UTC`."""
    day, _, time = iso.partition("T")
    if not time:
        return iso
    utc = time.endswith("Z") or time.endswith("+00:00")
    return f"{day} {time[:8]}" + (" UTC" if utc else "")


def _timing(key: str, value: float) -> str:
    seconds = value / 1000 if key.endswith("_ms") else value
    if seconds >= 1:
        return f"{seconds:.2f} s"
    ms = seconds * 1000
    return "<1 ms" if 0 < ms < 1 else f"{ms:.0f} ms"


def _meta(key: str, value: Any) -> str:
    if key == "context" and isinstance(value, dict):
        return _context(value)
    if key == "sources" and isinstance(value, list):
        return "sources: " + "; ".join(_source(i, s) for i, s in enumerate(value, 1))
    if key == "attempts" and value == 1:
        return ""  # the usual case says nothing
    if key == "thinking_chars":
        return f"reasoned for {value:,} characters (not kept)"
    if value is True:
        return _words(key)
    if value is False or value is None or value == "":
        return ""
    return f"{_words(key)}: {_value(value)}"


def _context(c: dict[str, Any]) -> str:
    used, window = c.get("estimated_tokens"), c.get("num_ctx")
    text = f"context: {used:,} of {window:,} tokens" if used and window else "context"
    if c.get("dropped"):
        text += f", {c['dropped']} older messages left out"
    if c.get("cut"):
        text += ", cut to fit"
    return text if text != "context" else ""


def _source(n: int, s: Any) -> str:
    if not isinstance(s, dict):
        return f"[{n}] {s}"
    where = f"[{s.get('n', n)}] {s.get('path', '?')}"
    if s.get("chunk") is not None:
        where += f" (chunk {s['chunk']})"
    return where


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{_words(str(k))} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    return str(value)


def _words(key: str) -> str:
    return key.replace("_", " ")
