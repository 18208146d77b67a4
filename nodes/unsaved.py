"""Read-only mode (the disk is nearly full): a turn that answers without saving anything.

The store refuses writes below its free-space floor. The turn still runs: the session and the
person's message exist only in memory for this turn, the reply is shown but not stored, and the
person is told once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from utils.store import Message, Session

UNSAVED_ID = "(not saved)"


def unsaved_session(
    session: Session | None,
    model: str,
    system: str | None,
    options: dict[str, Any] | None,
    now: str,
) -> Session:
    """The session as this turn sees it: the stored one with its changes, or a new one."""
    if session is not None:
        return replace(
            session,
            model=model,
            system=system if system is not None else session.system,
            options={**(session.options or {}), **(options or {})},
        )
    return Session(
        id=UNSAVED_ID, title=None, model=model, system=system, options=dict(options or {}),
        status="active", context_start_seq=0, context_mode="shared",
        created_at=now, updated_at=now, last_active_at=now,
    )  # fmt: skip


def unsaved_message(
    session: Session, seq: int, text: str, request_id: str | None, now: str
) -> Message:
    """The person's message, in memory only."""
    return Message(
        id=0, session_id=session.id, seq=seq, role="user", content=text, model=session.model,
        status="complete", pinned=False, prompt_tokens=None, completion_tokens=None,
        timings={}, done_reason=None, request_id=request_id, meta={"unsaved": True},
        created_at=now, updated_at=now,
    )  # fmt: skip
