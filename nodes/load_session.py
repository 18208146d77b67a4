"""LoadSession: find or start the session, record the person's message, load the window.

The person's message is stored here, before any model is called, so nothing typed is lost
(unless the caller stored it already and says so with `user_message_id`: serve mode commits it
before it answers the request).
Loading reads only the last `window` messages (an index on session and seq), never the whole
history. A model change (shared["model"] differs from the session's) is recorded with a short
transition note so the new model knows where it stands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import InputError, PocketNode, Shared
from nodes.deps import Deps
from nodes.unsaved import unsaved_message, unsaved_session
from utils.store import iso

if TYPE_CHECKING:
    from utils.store import Message, Session

log = structlog.get_logger()

CONTEXT_MODES = ("shared", "per-model")  # a session's thread across model switches


@dataclass(frozen=True)
class LoadInput:
    session: Session | None
    model: str
    system: str | None
    title: str | None
    options: dict[str, Any] | None
    user_message: str | None
    request_id: str | None
    regenerate: bool
    context_mode: str | None
    origin: str | None
    stored_message_id: int | None = None


class LoadSession(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[Mapping[str, Any]] = {
        "session_id": str | None, "user_message": str, "regenerate": bool | None,
        "model": str | None, "system": str | None, "title": str | None,
        "options": dict[str, Any] | None, "context_mode": str | None, "request_id": str,
        "origin": str, "user_message_id": int | None,
    }  # fmt: skip
    may_read: ClassVar[Mapping[str, Any]] = {"read_only": "str | None"}
    writes: ClassVar[Mapping[str, Any]] = {
        "session_id": "str",
        "session": "Session",
        "model": "str",
        "history": "list[Message]",
        "pinned": "list[Message]",
    }
    param_settings: ClassVar[Mapping[str, str]] = {"window": "chat.window"}
    may_write: ClassVar[Mapping[str, Any]] = {"user_message_id": "int", "read_only": "str | None"}

    def __init__(self, deps: Deps, window: int | None = None) -> None:
        super().__init__(deps)
        self.window = window

    def prep(self, shared: Shared) -> LoadInput:
        session_id = shared.get("session_id")
        session = self.deps.store.resolve_session(session_id) if session_id else None
        return LoadInput(
            session=session,
            model=shared.get("model") or (session.model if session else self.deps.settings.model),
            system=shared.get("system"),
            title=shared.get("title"),
            options=shared.get("options"),
            user_message=shared.get("user_message"),
            request_id=shared.get("request_id"),
            regenerate=bool(shared.get("regenerate")),
            context_mode=shared.get("context_mode"),
            origin=shared.get("origin"),
            stored_message_id=shared.get("user_message_id"),
        )

    def exec(self, prep_res: LoadInput) -> LoadInput:
        if prep_res.user_message is None and not prep_res.regenerate:
            raise InputError("this flow needs a 'user_message' input: the person's message")
        if prep_res.context_mode not in (None, *CONTEXT_MODES):
            raise InputError(
                f"context_mode must be shared or per-model, not {prep_res.context_mode!r}"
            )
        return prep_res

    def post(self, shared: Shared, prep_res: Any, exec_res: LoadInput) -> str:
        store = self.deps.store
        if not store.can_write():
            return self._read_only(shared, exec_res)
        session = exec_res.session
        if session is None:
            session = store.create_session(
                exec_res.model,
                title=exec_res.title,
                system=exec_res.system,
                options=exec_res.options,
                context_mode=exec_res.context_mode or self.deps.settings.chat.context_mode,
                origin=exec_res.origin,
            )
        else:
            session = self._apply_changes(session, exec_res)
        if exec_res.regenerate:
            supersede_last_reply(store, session.id)
        elif exec_res.stored_message_id is not None:  # the caller stored it (serve mode)
            shared["user_message_id"] = exec_res.stored_message_id
        else:
            assert exec_res.user_message is not None
            message = store.append_message(
                session.id,
                "user",
                exec_res.user_message,
                model=session.model,
                request_id=exec_res.request_id,
            )
            shared["user_message_id"] = message.id
        history = self._history(session, upto=exec_res.stored_message_id)
        shared["session_id"] = session.id
        shared["session"] = session
        shared["model"] = session.model
        shared["history"] = history
        shared["pinned"] = [
            m for m in store.pinned(session.id) if m.id not in {h.id for h in history}
        ]
        structlog.contextvars.bind_contextvars(session_id=session.id)
        log.info("session_loaded", window=len(history))
        return "default"

    def _history(self, session: Session, upto: int | None = None) -> list[Message]:
        """The window: the last N messages, without superseded replies; in a per-model
        session, only this model's thread. With `upto` (a message the caller stored, serve
        mode), none stored after it: a person who sent two messages in a row gets the first
        answered as it was asked, not with the second already in its prompt."""
        limit = self.window or self.deps.settings.chat.window
        history = [
            m for m in self.deps.store.window(session.id, limit)
            if not m.meta.get("superseded") and (upto is None or m.id <= upto)
        ]
        if session.context_mode == "per-model":
            history = [m for m in history if m.model in (None, session.model)]
        return history

    def _read_only(self, shared: Shared, wanted: LoadInput) -> str:
        """The disk is nearly full: answer from memory, store nothing, say so once."""
        store = self.deps.store
        now = iso(self.deps.clock.now())
        session = unsaved_session(wanted.session, wanted.model, wanted.system, wanted.options, now)
        history = self._history(session) if wanted.session is not None else []
        if wanted.user_message is not None and not wanted.regenerate:
            seq = history[-1].seq + 1 if history else 1
            history.append(
                unsaved_message(session, seq, wanted.user_message, wanted.request_id, now)
            )
        shared.update(
            session_id=wanted.session.id if wanted.session else None,
            session=session, model=session.model, history=history, pinned=[],
            read_only=store.read_only_reason,
        )  # fmt: skip
        notice = store.read_only_notice()
        if notice:
            self.deps.sink.notice(f"{notice[:1].upper()}{notice[1:]}. Replies are still shown.")
        log.info("turn_not_saved", reason=store.read_only_reason)  # the notice told the person
        return "default"

    def _apply_changes(self, session: Session, wanted: LoadInput) -> Session:
        store = self.deps.store
        changes: dict[str, Any] = {}
        if wanted.model != session.model:
            changes["model"] = wanted.model
            note = (
                f"The conversation continues with model {wanted.model}; "
                f"earlier replies were written by {session.model}."
            )
            store.append_message(
                session.id, "system", note, model=wanted.model, meta={"kind": "model_switch"}
            )
            log.info("model_switched", old=session.model, new=wanted.model)
        if wanted.context_mode is not None and wanted.context_mode != session.context_mode:
            changes["context_mode"] = wanted.context_mode
        if wanted.system is not None and wanted.system != session.system:
            changes["system"] = wanted.system
        if wanted.options:
            merged = {**(session.options or {}), **wanted.options}
            if merged != session.options:
                changes["options"] = merged
        if changes:
            store.update_session(session.id, **changes)
        return store.resolve_session(session.id) if changes else session


def supersede_last_reply(store: Any, session_id: str) -> Message | None:
    """Mark the last assistant reply superseded (kept, but out of the context) for /retry."""
    for message in reversed(store.window(session_id, 4)):
        if message.role == "user":
            return None
        if message.role == "assistant" and not message.meta.get("superseded"):
            store.update_message(message.id, meta={**message.meta, "superseded": True})
            return message  # type: ignore[no-any-return]
    return None
