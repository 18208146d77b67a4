"""StreamReply: show the reply as it streams, and keep it as it grows.

- The first piece (CallOllama's) is shown at once, with no hold. After it, text reaches the
  sink in pieces of about `min_chars` characters or at a natural break
  (sentence end, new line), and is never held longer than `max_delay_ms`: a reader thread
  pulls the stream while this thread shows what has arrived. When the stream outruns the
  screen, what has already arrived is shown in one piece (up to `BATCH_CHARS`), so the
  reader's backlog never grows with the reply.
- The reply is kept as it grows by `ReplySaver` (nodes/reply_saver.py): sentence by sentence,
  appending only new text, and written whole once at the end, so saving stays linear in the
  reply's length. After the first piece, a piece is saved before it is shown, so a crash
  loses no completed sentence that was shown (at most the unfinished one).
- Ctrl+C ends the reply as `interrupted`; a broken stream ends it as `partial`; both keep the
  text. A piece is kept in memory before it is shown, so a Ctrl+C landing anywhere (before the
  reply's row exists, inside a save) still leaves it in the row; a second Ctrl+C is held back
  while the final write runs. Only the text is kept in memory, never the chunk objects.
- A thinking model's reasoning (empty pieces from the stream) is never shown nor stored: the
  status line counts it (`thinking… (N tokens)`); its length goes in `thinking_chars`.
- A reply whose queue ticket was taken back (cleared while the process was suspended, see
  docs/queue.md) stops at its next piece as `partial`: a slot is never used by two requests.
- The queue ticket goes back when the stream is really closed, by the thread that closes it:
  the reader, as soon as it has read the last chunk (before the last piece is shown and the
  reply written); if the reader thread is still inside a read (a second Ctrl+C stopped the
  wait for it), when that read returns.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from nodes.reply_saver import ReplySaver
from utils.interrupts import sigint_held
from utils.ollama import OllamaError
from utils.queue import TicketLost

if TYPE_CHECKING:
    from nodes.call_ollama import Started
    from utils.ollama import ChatFinal

log = structlog.get_logger()

SENTENCE_END = re.compile(r"[.!?…:;]['\")\]]?\s*$|\n\s*$")  # a piece ending a sentence
BATCH_CHARS = 2000  # text already arrived is shown with what is ready, up to this much at once
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
    reads: ClassVar[Mapping[str, Any]] = {"started": "Started", "session_id": "str", "model": "str"}
    may_read: ClassVar[Mapping[str, Any]] = {"request_id": "str"}
    writes: ClassVar[Mapping[str, Any]] = {"reply": "ReplyOutcome"}
    param_settings: ClassVar[Mapping[str, str]] = {
        "min_chars": "chat.stream_min_chars",
        "max_delay_ms": "chat.stream_max_delay_ms",
    }

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
        self.saver = ReplySaver(node.deps.store, data.session_id, data.model, data.request_id)
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
        first = self.data.started.first
        try:
            if first:  # kept, shown at once, then the reader starts while its row is made
                self.saver.hold(first)
                self.deps.sink.reply(first)
            elif getattr(stream, "thinking_chunks", 0):
                self._thinking()
            self.data.started.release_at_close()  # the reader frees Ollama as the stream ends
            reader.start()
            if first:
                self.saver.save()
            status, error_line = self._pump(pending)
        except KeyboardInterrupt:
            status = "interrupted"
            log.info("reply_interrupted", chars=self.saver.chars)
        finally:
            self.cancel.set()
        with sigint_held() as pressed:  # what arrived is shown and kept, whatever is pressed
            self._show(pending)
            self.deps.sink.reply_done()
        if status != "complete" and not pressed:  # pressed again: do not wait for the reader
            self._join(reader)
        self.data.started.release()  # Ollama is free: let the next one in
        with sigint_held() as pressed:  # a second Ctrl+C never cuts the final write short
            text = self.saver.finish(status)
        if pressed:
            log.info("reply_kept_through_ctrl_c", status=status)
        final = getattr(stream, "final", None)
        first_at = getattr(stream, "first_token_at", None)
        return ReplyOutcome(
            text=text,
            status=status,
            message_id=self.saver.message_id,
            final=final,
            first_token_seconds=(first_at - stream.started_at) if first_at else None,
            stream_seconds=clock.monotonic() - started_at,
            error_line=error_line,
            thinking_chars=int(getattr(stream, "thinking_chars", 0)),
        )

    def _pump(self, pending: list[str]) -> tuple[str, str | None]:
        """Show pieces as they come; returns (status, error line) when the stream ends."""
        clock = self.deps.clock
        pending_since, pending_chars = 0.0, 0
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
                pending_since, pending_chars = clock.monotonic(), 0
            pending.append(item)
            pending_chars += len(item)
            if not self.saver.chars:  # the first text (after reasoning): shown at once
                self._show(pending)
                continue
            if pending_chars < self.node.min_chars and not SENTENCE_END.search(item):
                continue
            # a fast stream: take what has already arrived too, then show (and save) it at once
            if (
                self.items.empty()
                or pending_chars >= BATCH_CHARS
                or clock.monotonic() - pending_since >= self.node.max_delay
            ):
                self._show(pending)

    def _thinking(self) -> None:
        """Show that a thinking model is reasoning: every 10th chunk, not each one."""
        self.thinking += 1
        if self.thinking == 1 or self.thinking % 10 == 0:
            count = getattr(self.data.started.stream, "thinking_chunks", self.thinking)
            self.deps.sink.status(f"thinking… ({count} tokens)")

    def _join(self, reader: threading.Thread) -> None:
        """Wait for the reader to see the cancel (at its next piece) and close the stream."""
        if reader.ident is None:  # Ctrl+C came before it started: the turn closes the stream
            return
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
                if not self.data.started.held():  # its queue slot was taken back: stop now
                    self.items.put(TicketLost())
                    break
                self.items.put(piece)
            else:  # closed first: Ollama is free (the next in line is let in) before the end
                close = getattr(stream, "close", None)  # is shown and the reply written
                if close is not None:
                    close()
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
        if self.saver.message_id is None:  # the first piece: kept, shown, then its row made
            self.saver.hold(piece)
            self.deps.sink.reply(piece)
            self.saver.save()
        else:  # saved (if it ends a sentence) before it is shown: a kill loses no sentence shown
            self.saver.add(piece)
            self.deps.sink.reply(piece)

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, OllamaError):
            return error.user_line(self.deps.llm.host)
        if isinstance(error, TicketLost):
            return error.line
        return f"the reply stopped: {type(error).__name__}: {error}"
