"""ReplySaver: keep a streaming reply as it grows, in time linear in its length.

- The whole reply is held once, as the list of the pieces saved so far (a sentence or a
  screenful each) plus those not saved yet, and joined once, at the end. (Not one growing
  buffer: grown beside the client's own, the two leapfrog on the heap and peak memory grows
  several times faster than the text.)
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
        self.saved: list[str] = []  # the text saved so far, one string per save
        self.unsaved: list[str] = []  # pieces shown since the last save
        self.unsaved_chars = 0
        self.chars = 0
        self.message_id: int | None = None

    def add(self, piece: str) -> None:
        """A piece was shown: keep it, and save if it completes a sentence."""
        self.chars += len(piece)
        self.unsaved.append(piece)
        self.unsaved_chars += len(piece)
        if (
            self.message_id is None
            or self.unsaved_chars >= SAVE_EVERY_CHARS
            or SENTENCE_BREAK.search(piece)
        ):
            self._save()

    def _save(self) -> None:
        new = "".join(self.unsaved)
        self.saved.append(new)
        self.unsaved.clear()
        self.unsaved_chars = 0
        if not self.store.can_write():  # shown, not stored
            return
        if self.message_id is None:
            self.message_id = self._append(new, "partial")
        else:
            self.store.append_part(self.message_id, new)

    def finish(self, status: str) -> str:
        """Write the whole reply and its ending once; returns the text (joined here, once)."""
        text = "".join([*self.saved, *self.unsaved])
        self.saved.clear()
        self.unsaved.clear()
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
