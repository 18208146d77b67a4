"""What the store hands out: frozen records, errors, and the time format it writes."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class StoreError(Exception):
    """The store cannot do what was asked; the message is one line for the person."""


class SessionNotFound(StoreError):
    """No session has that id or prefix."""


class AmbiguousSession(StoreError):
    """A session id prefix matches more than one session."""


class NewerSchema(StoreError):
    """The database was written by a newer pocketchat; it is left untouched."""


class ReadOnlyStore(StoreError):
    """A write was refused because the store is read-only (e.g. the disk is nearly full)."""


def iso(ts: float) -> str:
    """Epoch seconds as sortable ISO-8601 UTC text with microseconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def loads(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


@dataclass(frozen=True)
class Session:
    id: str
    title: str | None
    model: str
    system: str | None
    options: dict[str, Any]
    status: str  # active | archived
    context_start_seq: int
    context_mode: str  # shared | per-model
    created_at: str
    updated_at: str
    last_active_at: str
    origin: str | None = None  # chat | ask | flow-run | api; None: unknown (a conversation)
    key_id: str | None = None  # serve mode: the API key the session belongs to (m011)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        return cls(
            id=row["id"],
            title=row["title"],
            model=row["model"],
            system=row["system"],
            options=loads(row["options"]),
            status=row["status"],
            context_start_seq=row["context_start_seq"],
            context_mode=row["context_mode"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            last_active_at=row["last_active_at"],
            origin=row["origin"] if "origin" in row.keys() else None,  # noqa: SIM118 (values)
            key_id=row["key_id"] if "key_id" in row.keys() else None,  # noqa: SIM118 (values)
        )


# Where a session came from (`sessions.origin`, set by the command that starts it).
ORIGINS = ("chat", "ask", "flow-run", "api")
CONVERSATION_ORIGINS = ("chat", "ask")  # what `chat -c` / `ask -c` continue (and NULL: unknown)
BATCH_ORIGINS = ("flow-run",)  # hidden by `sessions list` unless asked for


@dataclass(frozen=True)
class SessionSummary:
    id: str
    title: str | None
    model: str
    status: str
    messages: int
    created_at: str
    updated_at: str
    last_active_at: str
    origin: str | None = None


@dataclass(frozen=True)
class Message:
    id: int
    session_id: str
    seq: int
    role: str  # system | user | assistant
    content: str
    model: str | None
    status: str  # complete | partial | interrupted | failed
    pinned: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    timings: dict[str, Any]
    done_reason: str | None
    request_id: str | None
    meta: dict[str, Any]
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Message:
        """The message of a row (a window reads 40 a turn): its fields set in one step rather
        than through the frozen dataclass's `__init__` (one `object.__setattr__` per field,
        a few microseconds a row). The same object, equal to one built by `__init__`."""
        message = object.__new__(cls)
        message.__dict__.update(
            id=row["id"],
            session_id=row["session_id"],
            seq=row["seq"],
            role=row["role"],
            content=row["content"],
            model=row["model"],
            status=row["status"],
            pinned=bool(row["pinned"]),
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            timings=loads(row["timings"]),
            done_reason=row["done_reason"],
            request_id=row["request_id"],
            meta=loads(row["meta"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        return message


@dataclass(frozen=True)
class SearchHit:
    session_id: str
    session_title: str | None
    session_status: str
    message_id: int
    seq: int
    role: str
    snippet: str
