"""`ChatStream`: one streamed chat reply as an iterator of text pieces.

The `ollama` client's stream is lazy (the request goes out on the first `next()`), so any
failure before the first text piece is classified as pre-stream (retryable) and any failure
after it as `StreamBroken`. No chunk objects are kept: only the text so far and the final
metrics. `close()` closes the generator, which closes the httpx response, so Ollama stops
generating. Use it from the thread that iterates.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

import structlog

from utils.clock import Clock
from utils.ollama_errors import OllamaError, OllamaUnavailable, StreamBroken, classify
from utils.ollama_types import ChatFinal

log = structlog.get_logger()


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
        self._text = io.StringIO()  # the text so far; never a list of chunks
        self._count = 0
        self._closed = False
        self.model = model
        self.host = host
        self.clock = clock
        self.started_at = clock.monotonic()
        self.first_token_at: float | None = None
        self.final: ChatFinal | None = None

    @property
    def text(self) -> str:
        """The reply text received so far."""
        return self._text.getvalue()

    @property
    def done(self) -> bool:
        return self.final is not None

    def __iter__(self) -> ChatStream:
        return self

    def __next__(self) -> str:
        if self._closed or self.final is not None:
            self.close()
            raise StopIteration
        while True:
            chunk = self._next_chunk()
            self._count += 1
            if chunk.done:
                self.final = ChatFinal.from_chunk(chunk)
                if chunk.message.content:  # stream=false-like single object
                    return self._piece(chunk.message.content)
                self.close()
                raise StopIteration
            piece = chunk.message.content
            if piece:
                return self._piece(piece)

    def _piece(self, piece: str) -> str:
        if self.first_token_at is None:
            self.first_token_at = self.clock.monotonic()
        self._text.write(piece)
        return piece

    def _next_chunk(self) -> Any:
        started = self.first_token_at is not None
        try:
            if self._chunks is None:
                self._chunks = self._start()
            return next(self._chunks)
        except StopIteration:
            self._closed = True
            error: OllamaError
            if started:
                error = StreamBroken(
                    "the stream ended without its final chunk",
                    model=self.model,
                    partial_text=self.text,
                    chunks=self._count,
                )
            else:
                error = OllamaUnavailable("the stream ended before any reply", model=self.model)
            self._fail(error, None)
            raise error from None
        except Exception as exc:
            self.close()
            error = classify(
                exc,
                model=self.model,
                started=started,
                partial_text=self.text,
                chunks=self._count,
            )
            self._fail(error, exc)
            raise error from exc

    def _fail(self, error: OllamaError, cause: BaseException | None) -> None:
        log.info(
            "ollama_request_failed",
            host=self.host,
            model=self.model,
            error=type(error).__name__,
            cause=type(cause).__name__ if cause else None,
            detail=error.detail,
            chars_shown=self._text.tell(),
        )

    def close(self) -> None:
        """Stop the reply: close the HTTP response so Ollama stops generating."""
        if self._closed:
            return
        self._closed = True
        chunks, self._chunks = self._chunks, None
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
            if self.final is None:
                log.info(
                    "chat_stream_cancelled",
                    host=self.host,
                    model=self.model,
                    chars_shown=self._text.tell(),
                )

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
