"""A session as Markdown (to read) or as a JSON-ready dict (to keep or process)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from utils.store.export_facts import facts, when
from utils.store.models import Message, Session

EXPORT_FORMAT = "pocketchat.session"
EXPORT_VERSION = 1


def to_json(session: Session, messages: Iterable[Message]) -> dict[str, Any]:
    """Everything stored: the session, and every message with status, model, timings, meta."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "session": dataclasses.asdict(session),
        "messages": [dataclasses.asdict(m) for m in messages],
    }


def to_markdown(session: Session, messages: Iterable[Message]) -> str:
    lines = [f"# {session.title or 'Session ' + session.id}", ""]
    lines.append(f"- id: `{session.id}`")
    lines.append(f"- model: `{session.model}`")
    lines.append(f"- status: {session.status}")
    lines.append(f"- created: {when(session.created_at)}")
    lines.append(f"- last active: {when(session.last_active_at)}")
    if session.options:
        opts = ", ".join(f"{k}={v}" for k, v in sorted(session.options.items()))
        lines.append(f"- options: {opts}")
    if session.system:
        lines += ["", "## System prompt", "", session.system]
    for m in messages:
        lines += ["", _heading(m, session), ""]
        lines.append(m.content if m.content else "_(empty)_")
        footer = facts(m)
        if footer:
            lines += ["", f"<sub>{footer}</sub>"]
    return "\n".join(lines) + "\n"


def _heading(m: Message, session: Session) -> str:
    parts = [f"## {m.seq}. {m.role}"]
    if m.model and m.model != session.model:
        parts.append(f"({m.model})")
    if m.status != "complete":
        parts.append(f"[{m.status}]")
    if m.pinned:
        parts.append("📌")
    if m.seq < session.context_start_seq:
        parts.append("(cleared from context)")
    return " ".join(parts)

