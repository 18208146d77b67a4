"""Our own Ollama errors, and `classify`, which turns whatever the `ollama` client raises
into one of them. Every error has `.transient` (worth retrying) and `.user_line(host)`:
one line naming the host, what failed and what to do, never a credential."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pydantic

from utils.ollama.host import display_host
from utils.ollama.library import ollama


class OllamaError(Exception):
    """Base class. `detail` is the server's or the transport's own words."""

    transient = False

    def __init__(self, detail: str = "", *, model: str | None = None) -> None:
        super().__init__(detail or type(self).__name__)
        self.detail = detail
        self.model = model

    def what(self) -> str:
        return f"Ollama request failed: {self.detail}"

    def brief(self) -> str:
        """A few words for a status line ("Ollama unreachable; retrying (2/4) in 2 s…")."""
        return "Ollama request failed"

    def todo(self) -> str:
        return "see the log for details."

    def user_line(self, host: str) -> str:
        return f"{self.what()} at {display_host(host)}; {self.todo()}"


class OllamaUnavailable(OllamaError):
    """Connection refused/reset or timed out before the first token."""

    transient = True

    def __init__(self, detail: str = "", *, model: str | None = None, timeout: bool = False):
        super().__init__(detail, model=model)
        self.timeout = timeout

    def what(self) -> str:
        if self.timeout:
            return f"Ollama did not answer in time ({self.detail})"
        return f"Cannot reach Ollama ({self.detail})"

    def brief(self) -> str:
        return "Ollama did not answer in time" if self.timeout else "Ollama unreachable"

    def todo(self) -> str:
        if self.timeout:
            return "the model may still be loading: try again, or raise ollama.first_byte_timeout."
        return (
            "start it with `ollama serve`, or point at another server with --host or "
            "OLLAMA_HOST; no Ollama? `make demo` shows pocketchat with a scripted stand-in."
        )


class OllamaBusy(OllamaError):
    """503: the server's queue is full."""

    transient = True

    def what(self) -> str:
        return "Ollama is busy (too many requests waiting)"

    def brief(self) -> str:
        return "Ollama busy"

    def todo(self) -> str:
        return "wait a moment and try again."


class OllamaServerError(OllamaError):
    """500: the server failed (out of memory, runner crash…)."""

    transient = True

    def what(self) -> str:
        return f"Ollama failed: {self.detail}"

    def brief(self) -> str:
        return "Ollama failed"

    def todo(self) -> str:
        return "try again, or pick a smaller model; `ollama ps` and the server log say more."


class ModelNotFound(OllamaError):
    """404: the model is not installed. `installed` lists what is, when known."""

    def __init__(
        self,
        detail: str = "",
        *,
        model: str | None = None,
        installed: Sequence[str] | None = None,
    ) -> None:
        super().__init__(detail, model=model)
        self.installed = tuple(installed) if installed is not None else None  # None: not asked

    def what(self) -> str:
        return f"Model '{self.model}' is not installed"

    def todo(self) -> str:
        if self.installed is None:
            return f"run `ollama pull {self.model}` (`models list` shows what is installed)."
        have = ", ".join(self.installed) if self.installed else "none"
        return f"run `ollama pull {self.model}` (installed: {have})."


class PullFailed(ModelNotFound):
    """The pull stream ended with an error line (unknown model, registry unreachable…)."""

    def what(self) -> str:
        return f"Pulling '{self.model}' failed: {self.detail}"

    def todo(self) -> str:
        return "check the name on https://ollama.com/library and your network."


class BadRequest(OllamaError):
    """400 (or a request the client refused to send): retrying will not help."""

    def what(self) -> str:
        return f"Ollama refused the request: {self.detail}"

    def todo(self) -> str:
        return "check the model name and options (an embedding model cannot chat)."


class InvalidRequest(BadRequest):
    """A request the client refused to build (an empty model name, a value JSON cannot carry)."""

    def what(self) -> str:
        return f"The request was not sent: {self.detail}"

    def todo(self) -> str:
        return "check the model name and the options."


class StreamBroken(OllamaError):
    """The reply stopped after text was shown: an error line, a cut connection, a stall, or
    an end without `done`. Not retried automatically; `partial_chars` is how much arrived
    (the text itself is kept once, by whoever showed it)."""

    def __init__(
        self,
        detail: str = "",
        *,
        model: str | None = None,
        partial_chars: int = 0,
        chunks: int = 0,
    ) -> None:
        super().__init__(detail, model=model)
        self.partial_chars = partial_chars
        self.chunks = chunks

    def what(self) -> str:
        return f"The reply was cut off after {self.partial_chars} characters ({self.detail})"

    def todo(self) -> str:
        return "the partial reply is kept."


def classify(
    exc: BaseException,
    *,
    model: str | None = None,
    started: bool = False,
    partial_chars: int = 0,
    chunks: int = 0,
) -> OllamaError:
    """Our error for `exc`. `started`: reply text was already shown (mid-stream failure)."""
    if isinstance(exc, OllamaError):
        return exc
    if started and _is_stream_failure(exc):
        return StreamBroken(_describe(exc), model=model, partial_chars=partial_chars, chunks=chunks)
    if isinstance(exc, ollama.ResponseError):
        return _from_status(exc.status_code, exc.error, model)
    if isinstance(exc, httpx.TimeoutException):
        return OllamaUnavailable(_describe(exc), model=model, timeout=True)
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return OllamaUnavailable(_describe(exc), model=model)
    if isinstance(exc, pydantic.ValidationError | ollama.RequestError | ValueError):
        return InvalidRequest(_first_line(str(exc)), model=model)
    return OllamaError(_describe(exc), model=model)


def _is_stream_failure(exc: BaseException) -> bool:
    if isinstance(exc, ollama.ResponseError):
        return exc.status_code == -1
    return isinstance(exc, httpx.TransportError | ConnectionError | ValueError)


def _from_status(status: int, error: str, model: str | None) -> OllamaError:
    detail = _first_line(error)
    if status == 404:
        return ModelNotFound(detail, model=model)
    if status in (503, 429):
        return OllamaBusy(detail, model=model)
    if status in (502, 504):
        return OllamaUnavailable(f"proxy answered {status}", model=model)
    if status == 400:
        return BadRequest(detail, model=model)
    if status in (401, 403):
        return OllamaError(f"not authorised ({status}); check ollama.headers", model=model)
    if status == -1:  # an error line before any text: nothing shown, safe to retry
        return OllamaServerError(detail, model=model)
    if status >= 500:
        return OllamaServerError(detail, model=model)
    return OllamaError(f"status {status}: {detail}", model=model)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ollama.ResponseError):
        return _first_line(exc.error)
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.ReadTimeout | httpx.PoolTimeout | httpx.WriteTimeout):
        return "no data before the timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed by the server"
    if isinstance(exc, httpx.ConnectError | ConnectionError):
        return "connection refused"
    if isinstance(exc, httpx.TransportError):
        return f"network error: {type(exc).__name__}"
    return _first_line(str(exc)) or type(exc).__name__


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
