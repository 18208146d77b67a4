"""ReplySaver: keep a streaming reply as it grows, in time linear in its length.

- The whole reply is held once, as one list: the text saved so far (one string per save)
  followed by the pieces not saved yet; joined once, at the end. (Not one growing buffer:
  grown beside the client's own, the two leapfrog on the heap and peak memory grows several
  times faster than the text.)
- A piece is kept in memory (`hold`) before it is shown, and each step that changes the list
  is a single operation: a Ctrl+C landing anywhere (inside a save too) neither loses nor
  doubles text, and `finish` writes what was held.
- The first piece makes the reply row (status `partial`); at every completed sentence (or
  every `SAVE_EVERY_CHARS` without one) only the text since the last save is appended to the
  row's parts (`utils/store/parts_sql.py`), one small transaction each, so a crash loses at most the
  last sentence and nothing is rewritten.
- `finish` writes the whole text and the ending (complete, partial, interrupted) into the row
  once, and its parts go (`Store.finish_reply`): the FTS index sees the reply once.
- Read-only mode (disk nearly full): shown, not stored.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from utils.store import Store

SENTENCE_BREAK = re.compile(r"[.!?…]['\")\]]?(\s|$)|\n")  # a sentence completed anywhere
SAVE_EVERY_CHARS = 4000  # text with no sentence ends (code, lists) is still saved this often


class ReplySaver:
    def __init__(self, store: Store, session_id: str, model: str, request_id: str | None) -> None:
        self.store = store
        self.session_id = session_id
        self.model = model
        self.request_id = request_id
        self.pieces: list[str] = []  # saved text (one string per save), then pieces not saved
        self.saved_count = 0  # how many of `pieces` are stored
        self.unsaved_chars = 0
        self.chars = 0
        self.message_id: int | None = None

    def hold(self, piece: str) -> None:
        """Keep a piece in memory (before it is shown); `save` stores it."""
        self.pieces.append(piece)  # first, in one step: from here on `finish` has it
        self.chars += len(piece)
        self.unsaved_chars += len(piece)

    def add(self, piece: str) -> None:
        """Keep a piece, and save if it completes a sentence (or is the first)."""
        self.hold(piece)
        if (
            self.message_id is None
            or self.unsaved_chars >= SAVE_EVERY_CHARS
            or SENTENCE_BREAK.search(piece)
        ):
            self.save()

    def save(self) -> None:
        """Store what is held and not stored yet: the first save makes the row."""
        start = self.saved_count
        if start >= len(self.pieces):
            return
        new = "".join(self.pieces[start:])
        self.pieces[start:] = [new]  # the same text as one string, in one step
        self.unsaved_chars = 0
        if self.store.can_write():  # else shown, not stored
            if self.message_id is None:
                self.message_id = self._append(new, "partial")
            else:
                self.store.append_part(self.message_id, new)
        self.saved_count = len(self.pieces)

    def finish(self, status: str) -> str:
        """Write the whole reply and its ending once; returns the text (joined here, once)."""
        text = "".join(self.pieces)
        self.pieces = [text]
        self.saved_count = 0
        if not self.store.can_write():
            return text
        if self.message_id is None:
            self.message_id = self._row_already_made()
        if self.message_id is None:
            self.message_id = self._append(text, status)
        else:
            self.store.finish_reply(self.message_id, text, status)
        return text
    def _append(self, text: str, status: str) -> int:
        message = self.store.append_message(
            self.session_id, "assistant", text, model=self.model, status=status,
            request_id=self.request_id,
        )  # fmt: skip
        return message.id

    def _row_already_made(self) -> int | None:
        """Ctrl+C can land after the row was committed but before its id came back: find it
        by this turn's request id rather than add a second reply row."""
        if self.request_id is None:
            return None
        for message in reversed(self.store.window(self.session_id, 2)):
            if message.role == "assistant" and message.request_id == self.request_id:
                return int(message.id)
        return None
