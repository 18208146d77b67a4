"""The API-keys half of `SqliteStore` (made by m011): serve mode's keys (`keys create NAME`).

A key is `pc-` and 43 URL-safe characters (`secrets.token_urlsafe(32)`: 256 random bits). It is
shown once, when made; the table keeps only its SHA-256 (a fast hash is enough for a random
256-bit secret: there is nothing to guess), compared with `hmac.compare_digest`. A revoked key
stays listed (`revoked_at`), never deleted; its name stays taken. `last_used_at` is written at
most once a minute per key, so checking a key is a read.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from utils.store.base import StoreBase
from utils.store.models import StoreError
from utils.store.sql_seam import SqlConn

PREFIX = "pc-"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
TOUCH_EVERY_SECONDS = 60.0


class KeyNotFound(StoreError):
    """No key has that name."""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeysMixin(StoreBase):
    def create_key(self, name: str) -> tuple[str, str]:
        """Make a key named `name`; return (its id, the secret: shown once, never stored)."""
        if not NAME.fullmatch(name):
            raise StoreError(
                f"bad key name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'"
            )
        key_id, secret = "key_" + secrets.token_hex(6), PREFIX + secrets.token_urlsafe(32)
        now = self._now()

        def insert(conn: SqlConn) -> None:
            if conn.execute("SELECT 1 FROM api_keys WHERE name = ?", [name]).fetchone():
                raise StoreError(f"a key named '{name}' exists (see `keys list`)")
            conn.execute(
                "INSERT INTO api_keys (id, name, hash, created_at) VALUES (?,?,?,?)",
                [key_id, name, digest(secret), now],
            )

        self._write(insert)
        return key_id, secret

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first."""
        rows = self._rows(
            "SELECT id, name, created_at, revoked_at, last_used_at FROM api_keys "
            "ORDER BY created_at, name", [],
        )  # fmt: skip
        return [ApiKey(**dict(r)) for r in rows]

    def revoke_key(self, name: str) -> ApiKey:
        """Revoke the key named `name` (kept, marked); revoking it again changes nothing."""
        now = self._now()

        def revoke(conn: SqlConn) -> None:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                [now, name],
            )

        self._write(revoke)
        found = [k for k in self.list_keys() if k.name == name]
        if not found:
            raise KeyNotFound(f"no key named '{name}' (see `keys list`)")
        return found[0]

    def has_keys(self) -> bool:
        """True when any key that is not revoked exists (then serve mode asks for one)."""
        rows = self._rows("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1", [])
        return bool(rows)

    def key_for_secret(self, secret: str) -> str | None:
        """The id of the live key whose secret this is; None for anything else."""
        wanted = digest(secret)
        rows = self._rows(
            "SELECT id, hash, last_used_at FROM api_keys WHERE revoked_at IS NULL", []
        )
        match = None
        for row in rows:  # every row compared, in constant time each
            if hmac.compare_digest(row["hash"], wanted):
                match = row
        if match is None:
            return None
        self._touch_key(match["id"], match["last_used_at"])
        return str(match["id"])

    def _touch_key(self, key_id: str, last: str | None) -> None:
        now = self._now()
        if last is not None and _seconds(last, now) < TOUCH_EVERY_SECONDS:
            return
        if self.db.conn.in_transaction:
            return  # never join another write's transaction for a bookkeeping field
        with suppress(StoreError):  # read-only or busy: the key still works
            self._write(lambda c: c.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", [now, key_id]
            ))  # fmt: skip


def _seconds(earlier: str, later: str) -> float:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    return (datetime.strptime(later, fmt) - datetime.strptime(earlier, fmt)).total_seconds()
