"""StreamReply: show the reply as it streams, and keep it as it grows.

- Text reaches the sink in pieces of about `min_chars` characters or at a natural break
  (sentence end, new line), and is never held longer than `max_delay_ms`: a reader thread
  pulls the stream while this thread shows what has arrived.
- The reply row is created with the first piece (status `partial`) and updated at every
  completed sentence, so a crash loses at most the last sentence.
- Ctrl+C ends the reply as `interrupted`; a broken stream ends it as `partial`; both keep the
  text. Only the text is kept in memory, never the chunk objects.
- A thinking model's reasoning (empty pieces from the stream) is never shown nor stored: the
  status line counts it (`thinking… (N tokens)`); its length goes in `thinking_chars`.
- The queue ticket goes back when the stream is really closed: if the reader thread is still
  inside a read (a second Ctrl+C stopped the wait for it), when that read returns.
"""

from __future__ import annotations

import io
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from utils.ollama import OllamaError

if TYPE_CHECKING:
    from nodes.call_ollama import Started
    from utils.ollama import ChatFinal

log = structlog.get_logger()

SENTENCE_END = re.compile(r"[.!?…:;]['\")\]]?\s*$|\n\s*$")  # a piece ending a sentence
SENTENCE_BREAK = re.compile(r"[.!?…]['\")\]]?(\s|$)|\n")  # a sentence completed anywhere
SAVE_EVERY_CHARS = 4000  # text with no sentence ends (code, lists) is still saved this often
_DONE = object()


@dataclass(frozen=True)
class StreamInput:
    started: Started
    session_id: str
    model: str
    request_id: str | None


@dataclass(frozen=True)
class ReplyOutcome:
    text: str
    status: str  # complete | partial | interrupted
    message_id: int | None
    final: ChatFinal | None
    first_token_seconds: float | None
    stream_seconds: float
    error_line: str | None = None
    thinking_chars: int = 0  # reasoning received (message.thinking), neither shown nor stored


class StreamReply(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)

    def __init__(
        self, deps: Deps, min_chars: int | None = None, max_delay_ms: int | None = None
    ) -> None:
        super().__init__(deps)
        chat = deps.settings.chat
        self.min_chars = min_chars if min_chars is not None else chat.stream_min_chars
        delay_ms = max_delay_ms if max_delay_ms is not None else chat.stream_max_delay_ms
        self.max_delay = delay_ms / 1000.0

    def prep(self, shared: Shared) -> StreamInput:
        return StreamInput(
            started=shared["started"],
            session_id=shared["session_id"],
            model=shared["model"],
            request_id=shared.get("request_id"),
        )

    def exec(self, prep_res: StreamInput) -> ReplyOutcome:
        return _Pump(self, prep_res).run()

    def post(self, shared: Shared, prep_res: StreamInput, exec_res: ReplyOutcome) -> str:
        shared["reply"] = exec_res
        return "default"


class _Pump:
    """One reply's journey from the stream to the sink and the store."""

    def __init__(self, node: StreamReply, data: StreamInput) -> None:
        self.node = node
        self.deps = node.deps
        self.data = data
        self.text = io.StringIO()
        self.saved_len = 0
        self.message_id: int | None = None
        self.cancel = threading.Event()
        self.items: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.thinking = 0  # reasoning chunks seen, for the status line

    def run(self) -> ReplyOutcome:
        clock = self.deps.clock
        started_at = clock.monotonic()
        stream = self.data.started.stream
        reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        status, error_line = "complete", None
        pending: list[str] = []
        pending_since = 0.0
        if self.data.started.first:
            pending.append(self.data.started.first)
            pending_since = clock.monotonic()
        elif getattr(stream, "thinking_chunks", 0):
            self._thinking()
        reader.start()
        try:
            status, error_line = self._pump(pending, pending_since)
        except KeyboardInterrupt:
            status = "interrupted"
            log.info("reply_interrupted", chars=self.text.tell())
        finally:
            self.cancel.set()
        self._show(pending)
        self.deps.sink.reply_done()
        if status != "complete":
            self._join(reader)
        self.data.started.release()  # Ollama is free: let the next one in
        self._save(status, force=True)
        final = getattr(stream, "final", None)
        first_at = getattr(stream, "first_token_at", None)
        return ReplyOutcome(
            text=self.text.getvalue(),
            status=status,
            message_id=self.message_id,
            final=final,
            first_token_seconds=(first_at - stream.started_at) if first_at else None,
            stream_seconds=clock.monotonic() - started_at,
            error_line=error_line,
            thinking_chars=int(getattr(stream, "thinking_chars", 0)),
        )

    def _pump(self, pending: list[str], pending_since: float) -> tuple[str, str | None]:
        """Show pieces as they come; returns (status, error line) when the stream ends."""
        clock = self.deps.clock
        while True:
            timeout = None
            if pending:
                timeout = max(0.0, pending_since + self.node.max_delay - clock.monotonic())
            try:
                item = self.items.get(timeout=timeout)
            except queue.Empty:
                self._show(pending)
                continue
            if item is _DONE:
                return "complete", None
            if isinstance(item, BaseException):
                return "partial", self._describe(item)
            assert isinstance(item, str)
            if not item:  # a reasoning chunk
                self._thinking()
                continue
            if self.thinking:
                self.thinking = 0
                self.deps.sink.status("")
            if not pending:
                pending_since = clock.monotonic()
            pending.append(item)
            if sum(map(len, pending)) >= self.node.min_chars or SENTENCE_END.search(item):
                self._show(pending)

    def _thinking(self) -> None:
        """Show that a thinking model is reasoning: every 10th chunk, not each one."""
        self.thinking += 1
        if self.thinking == 1 or self.thinking % 10 == 0:
            count = getattr(self.data.started.stream, "thinking_chunks", self.thinking)
            self.deps.sink.status(f"thinking… ({count} tokens)")

    def _join(self, reader: threading.Thread) -> None:
        """Wait for the reader to see the cancel (at its next piece) and close the stream."""
        try:
            reader.join(timeout=self.deps.settings.ollama.chunk_timeout)
        except KeyboardInterrupt:  # a second Ctrl+C: stop waiting; the reader closes later
            log.info("reply_reader_abandoned")

    def _read(self, stream: Iterator[str]) -> None:
        """The reader thread: forward pieces until done, an error, or cancel."""
        try:
            for piece in stream:
                if self.cancel.is_set():
                    break
                self.items.put(piece)
            else:
                self.items.put(_DONE)
        except BaseException as exc:
            self.items.put(exc)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _show(self, pending: list[str]) -> None:
        if not pending:
            return
        piece = "".join(pending)
        pending.clear()
        self.deps.sink.reply(piece)
        self.text.write(piece)
        unsaved = self.text.tell() - self.saved_len
        if self.message_id is None or unsaved >= SAVE_EVERY_CHARS or SENTENCE_BREAK.search(piece):
            self._save("partial")

    def _save(self, status: str, force: bool = False) -> None:
        """Create the reply row with the first text; update it as sentences complete."""
        store = self.deps.store
        if not store.can_write():  # read-only mode: shown, not stored
            return
        length = self.text.tell()
        if self.message_id is None and force:
            self.message_id = self._row_already_made()
        if self.message_id is None:
            if length == 0 and not force:
                return
            message = store.append_message(
                self.data.session_id,
                "assistant",
                self.text.getvalue(),
                model=self.data.model,
                status=status,
                request_id=self.data.request_id,
            )
            self.message_id = message.id
        elif force or length != self.saved_len:
            store.update_message(self.message_id, content=self.text.getvalue(), status=status)
        self.saved_len = length

    def _row_already_made(self) -> int | None:
        """Ctrl+C can land after the row was committed but before its id came back: find it
        by this turn's request id rather than add a second reply row."""
        request_id = self.data.request_id
        if request_id is None:
            return None
        for message in reversed(self.deps.store.window(self.data.session_id, 2)):
            if message.role == "assistant" and message.request_id == request_id:
                return int(message.id)
        return None

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, OllamaError):
            return error.user_line(self.deps.llm.host)
        return f"the reply stopped: {type(error).__name__}: {error}"
