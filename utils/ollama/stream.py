"""`ChatStream`: one streamed chat reply as an iterator of text pieces.

The `ollama` client's stream is lazy (the request goes out on the first `next()`), so any
failure before the reply began is classified as pre-stream (retryable) and any failure after
it as `StreamBroken`. The reply has begun with its first text piece, or with its first
reasoning chunk (`message.thinking`, from thinking models): such a chunk yields an empty piece
and is counted (`thinking_chunks`, `thinking_chars`), never added to the text. No chunk
objects are kept, nor the text (whoever shows it keeps it, once): only its length so far and
the final metrics.

`close()` closes the generator, which closes the httpx response, so Ollama stops generating.
It may be called from any thread: while another thread is inside `next()`, it only marks the
stream cancelled and that thread closes it as soon as its read returns (a generator cannot be
closed while it runs). `when_closed(fn)` runs `fn` once the response is really closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import structlog

from utils.clock import Clock
from utils.ollama.errors import OllamaError, OllamaUnavailable, StreamBroken, classify
from utils.ollama.results import ChatFinal

log = structlog.get_logger()

_CANCELLED = object()


class ChatStream:
    def __init__(
        self,
        start: Callable[[], Iterator[Any]],
        *,
        model: str,
        host: str,
        clock: Clock,
    ) -> None:
        self._start = start
        self._chunks: Iterator[Any] | None = None
        self.chars = 0  # the length of the text so far; the text is the caller's to keep
        self._count = 0
        self._lock = threading.Lock()
        self._closed = False
        self._reading = False  # a thread is inside next() on the generator
        self._cancel = False  # close() was asked while that thread was reading
        self._on_close: list[Callable[[], None]] = []
        self.model = model
        self.host = host
        self.clock = clock
        self.started_at = clock.monotonic()
        self.first_token_at: float | None = None
        self.final: ChatFinal | None = None
        self.thinking_chunks = 0
        self.thinking_chars = 0

    @property
    def done(self) -> bool:
        return self.final is not None

    @property
    def closed(self) -> bool:
        """True once the HTTP response is closed (or was never opened and never will be)."""
        return self._closed

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        if self._closed or self._cancel or self.final is not None:
            self.close()
            raise StopIteration
        while True:
            chunk = self._next_chunk()
            if chunk is _CANCELLED:
                raise StopIteration
            self._count += 1
            if chunk.done:
                self.final = ChatFinal.from_chunk(chunk)
                self._read_to_end()
                if chunk.message.content:  # stream=false-like single object
                    return self._piece(chunk.message.content)
                self.close()
                raise StopIteration
            thinking = getattr(chunk.message, "thinking", None)
            if thinking:  # the model reasons first: the reply is under way
                self.thinking_chunks += 1
                self.thinking_chars += len(thinking)
                self._began()
                return ""
            piece = chunk.message.content
            if piece:
                return self._piece(piece)

    def _began(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = self.clock.monotonic()

    def _piece(self, piece: str) -> str:
        self._began()
        self.chars += len(piece)
        return piece

    def _next_chunk(self) -> Any:
        started = self.first_token_at is not None
        with self._lock:
            stop = self._closed or self._cancel
            self._reading = not stop
            chunks = self._chunks
        if stop:
            self.close()
            return _CANCELLED
        failure: BaseException | None = None
        try:
            if chunks is None:
                chunks = self._chunks = self._start()  # lazy: sent on the first next()
            chunk = next(chunks)
        except BaseException as exc:  # StopIteration, a network error, or Ctrl+C
            failure = exc
        finally:
            with self._lock:
                self._reading = False
                cancelled = self._cancel
        if cancelled or failure is not None:
            self.close(quiet=isinstance(failure, StopIteration))
        if cancelled and not isinstance(failure, KeyboardInterrupt):
            return _CANCELLED
        if failure is None:
            return chunk
        if not isinstance(failure, Exception):
            raise failure
        error: OllamaError
        if isinstance(failure, StopIteration):
            if started:
                error = StreamBroken(
                    "the stream ended without its final chunk",
                    model=self.model,
                    partial_chars=self.chars,
                    chunks=self._count,
                )
            else:
                error = OllamaUnavailable("the stream ended before any reply", model=self.model)
            self._fail(error, None)
            raise error from None
        error = classify(
            failure,
            model=self.model,
            started=started,
            partial_chars=self.chars,
            chunks=self._count,
        )
        self._fail(error, failure)
        raise error from failure

    def _read_to_end(self) -> None:
        """After the final chunk (the body's last line), read the body's end so the
        connection goes back to the client's pool: closed half-read, it would be dropped and
        the next turn would open a new one."""
        with self._lock:
            if self._closed or self._cancel or self._chunks is None:
                return
            self._reading = True
            chunks = self._chunks
        try:
            next(chunks, None)
        except Exception:  # the reply is whole; what follows its last chunk does not matter
            pass
        finally:
            with self._lock:
                self._reading = False

    def _fail(self, error: OllamaError, cause: BaseException | None) -> None:
        log.info(
            "ollama_request_failed",
            host=self.host,
            model=self.model,
            error=type(error).__name__,
            cause=type(cause).__name__ if cause else None,
            detail=error.detail,
            chars_shown=self.chars,
        )

    def close(self, *, quiet: bool = False) -> None:
        """Stop the reply: close the HTTP response so Ollama stops generating. From another
        thread than the one reading, this only marks the stream cancelled: the reader closes
        it when its current read returns."""
        with self._lock:
            if self._closed:
                return
            if self._reading:
                self._cancel = True
                return
            chunks, self._chunks = self._chunks, None
        close = getattr(chunks, "close", None)
        try:
            if close is not None:
                close()
        finally:
            with self._lock:
                self._closed = True
                callbacks, self._on_close = self._on_close, []
            for callback in callbacks:
                callback()
        if chunks is not None and self.final is None and not quiet:
            log.info(
                "chat_stream_cancelled",
                host=self.host,
                model=self.model,
                chars_shown=self.chars,
            )

    def when_closed(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the response is closed: now if it is, else at the close."""
        with self._lock:
            if not self._closed:
                self._on_close.append(callback)
                return
        callback()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
