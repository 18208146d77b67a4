"""`OllamaService`: the one place that talks to Ollama, through an explicit `ollama.Client`.

Timeouts are always set. httpx has a single read timeout, so: the client's read timeout is
`first_byte_timeout` (long enough for a model load), and a response hook lowers it to
`chunk_timeout` for a chat stream once its headers arrived. Ollama sends the headers with
the first chunk, and httpcore reads the read timeout from the request's `timeout`
extension when it starts reading the body, after the hook ran. Every failure is raised as
one of `utils.ollama.errors`.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import httpx
import pydantic
import structlog

from config.settings import OllamaSettings
from utils.clock import Clock
from utils.ollama.errors import OllamaError, PullFailed, classify
from utils.ollama.host import display_host, split_credentials
from utils.ollama.library import ollama
from utils.ollama.results import (
    ChatFinal,
    ChatResult,
    ModelDetails,
    ModelInfo,
    PullProgress,
    RunningModel,
    normalise_model,
    parse_parameters,
)
from utils.ollama.stream import ChatStream

log = structlog.get_logger()
T = TypeVar("T")
Message = Mapping[str, Any]


class _Version(pydantic.BaseModel):
    version: str = ""


def _chunk_timeout_hook(chunk_timeout: float) -> Callable[[httpx.Response], None]:
    def hook(response: httpx.Response) -> None:
        request = response.request
        streaming = response.headers.get("content-type", "").startswith("application/x-ndjson")
        if streaming and request.url.path.endswith("/api/chat"):
            timeouts = request.extensions.get("timeout")
            if isinstance(timeouts, dict):
                timeouts["read"] = chunk_timeout

    return hook


def _tls(url: str, verify: bool) -> bool | ssl.SSLContext:
    """`verify`, except that a plain-http host gets a context with no certificates loaded: no
    TLS is spoken, and loading the CA bundle costs ~20 ms of every start. The context still
    requires verification, so a redirect to https fails rather than going unchecked."""
    if verify and url.startswith("http://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname on, CERT_REQUIRED
    return verify


class OllamaService:
    def __init__(self, host: str, settings: OllamaSettings, clock: Clock) -> None:
        bare, creds = split_credentials(host)
        self.host = display_host(host)
        self.settings = settings
        self.clock = clock
        self._context_lengths: dict[str, int | None] = {}
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.first_byte_timeout,
            write=max(settings.connect_timeout, settings.chunk_timeout),
            pool=settings.connect_timeout,
        )
        self._client = ollama.Client(
            host=bare,
            timeout=timeout,
            headers=dict(settings.headers),
            verify=_tls(bare, settings.verify_tls),
            auth=httpx.BasicAuth(*creds) if creds else None,
            event_hooks={"response": [_chunk_timeout_hook(settings.chunk_timeout)]},
        )

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]

    # chat -------------------------------------------------------------------------------

    def chat_stream(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
        think: bool | str | None = None,
        format: Literal["", "json"] | Mapping[str, Any] | None = None,  # Ollama's field name
    ) -> ChatStream:
        """A lazy stream of reply text pieces; nothing is sent until the first `next()`.
        `think` is sent only when given (a model that cannot think answers 400 to it);
        `format` (`"json"` or a JSON schema) only when given: Ollama constrains the reply."""

        def start() -> Iterator[Any]:
            return self._client.chat(
                model=model,
                messages=list(messages),
                stream=True,
                options=dict(options) if options else None,
                keep_alive=self._keep_alive(keep_alive),
                think=think,
                format=dict(format) if isinstance(format, Mapping) else format,
            )

        return ChatStream(start, model=model, host=self.host, clock=self.clock)

    def chat(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        options: Mapping[str, Any] | None = None,
        keep_alive: float | str | None = None,
    ) -> ChatResult:
        """One non-streamed reply (summaries)."""
        response = self._call(
            "chat",
            model,
            lambda: self._client.chat(
                model=model,
                messages=list(messages),
                stream=False,
                options=dict(options) if options else None,
                keep_alive=self._keep_alive(keep_alive),
            ),
        )
        return ChatResult(response.message.content or "", ChatFinal.from_chunk(response))

    def load(
        self, model: str, keep_alive: float | str | None = None, *, num_ctx: int | None = None
    ) -> float:
        """Warm the model up (an empty chat); returns the seconds it took. Give the `num_ctx`
        the turns will send (`window()`), or Ollama reloads the model for the first turn."""
        began = self.clock.monotonic()
        response = self._call(
            "load",
            model,
            lambda: self._client.chat(
                model=model,
                messages=[],
                options={"num_ctx": num_ctx} if num_ctx else None,
                keep_alive=self._keep_alive(keep_alive),
            ),
        )
        took = self.clock.monotonic() - began
        final = ChatFinal.from_chunk(response)
        log.info(
            "model_loaded",
            host=self.host,
            model=model,
            seconds=round(took, 3),
            load_seconds=round(final.load_seconds, 3),
        )
        return took

    def unload(self, model: str) -> None:
        self._call(
            "unload", model, lambda: self._client.chat(model=model, messages=[], keep_alive=0)
        )
        log.info("model_unloaded", host=self.host, model=model)

    # models -----------------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        response = self._call("list", None, self._client.list)
        out = []
        for m in response.models:
            d = m.details
            out.append(
                ModelInfo(
                    name=m.model or "",
                    size=int(m.size) if m.size is not None else None,
                    family=d.family if d else None,
                    parameter_size=d.parameter_size if d else None,
                    quantization=d.quantization_level if d else None,
                    modified_at=m.modified_at,
                )
            )
        return out

    def has_model(self, name: str) -> bool:
        wanted = normalise_model(name)
        return any(normalise_model(m.name) == wanted for m in self.list_models())

    def show(self, model: str) -> ModelDetails:
        r = self._call("show", model, lambda: self._client.show(model))
        info = dict(r.modelinfo or {})
        arch = info.get("general.architecture")
        ctx = info.get(f"{arch}.context_length") if arch else None
        d = r.details
        return ModelDetails(
            name=model,
            family=(d.family if d else None) or arch,
            context_length=int(ctx) if isinstance(ctx, int | float) else None,
            capabilities=tuple(r.capabilities or ()),
            parameters=parse_parameters(r.parameters),
            parameter_size=d.parameter_size if d else None,
            quantization=d.quantization_level if d else None,
        )

    def context_length(self, model: str) -> int | None:
        """The model's trained window from `/api/show`, asked once per model per process."""
        key = normalise_model(model)
        if key not in self._context_lengths:
            self._context_lengths[key] = self.show(model).context_length
        return self._context_lengths[key]

    def window(self, model: str, cap: int, num_ctx: object = None) -> int:
        """The context window a turn plans with and sends as `num_ctx`: the session's own
        `num_ctx` if it set one, else the model's trained length capped by `cap`
        (`context.default_num_ctx`), else `cap` when Ollama cannot say."""
        if isinstance(num_ctx, int) and not isinstance(num_ctx, bool) and num_ctx > 0:
            return num_ctx
        try:
            length = self.context_length(model)
        except OllamaError as exc:  # a missing model: the chat call reports it properly
            log.info("context_length_unknown", model=model, error=type(exc).__name__)
            length = None
        return min(length or cap, cap)

    def running(self) -> list[RunningModel]:
        response = self._call("ps", None, self._client.ps)
        return [
            RunningModel(
                name=m.name or m.model or "",
                size=int(m.size) if m.size is not None else None,
                size_vram=int(m.size_vram) if m.size_vram is not None else None,
                context_length=m.context_length,
                expires_at=m.expires_at,
            )
            for m in response.models
        ]

    def version(self) -> str:
        response = self._call(
            "version", None, lambda: self._client._request(_Version, "GET", "/api/version")
        )
        return response.version

    def pull(self, model: str) -> Iterator[PullProgress]:
        """Progress of a pull; raises `PullFailed` on an error line."""
        try:
            for p in self._client.pull(model, stream=True):
                yield PullProgress(p.status or "", p.digest, p.completed, p.total)
                if p.status == "success":
                    log.info("model_pulled", host=self.host, model=model)
        except Exception as exc:
            error = classify(exc, model=model)
            if isinstance(exc, ollama.ResponseError) and exc.status_code in (-1, 404):
                error = PullFailed(error.detail, model=model)
            self._failed("pull", model, error, exc)
            raise error from exc

    def embed(self, model: str, inputs: list[str]) -> list[list[float]]:
        r = self._call("embed", model, lambda: self._client.embed(model=model, input=inputs))
        return [list(v) for v in r.embeddings]

    def delete(self, model: str) -> None:
        self._call("delete", model, lambda: self._client.delete(model))
        log.info("model_deleted", host=self.host, model=model)

    # plumbing ---------------------------------------------------------------------------

    def _keep_alive(self, keep_alive: float | str | None) -> float | str:
        return self.settings.keep_alive if keep_alive is None else keep_alive

    def _call(self, what: str, model: str | None, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except Exception as exc:
            error = classify(exc, model=model)
            self._failed(what, model, error, exc)
            raise error from exc

    def _failed(self, what: str, model: str | None, error: OllamaError, cause: Exception) -> None:
        log.info(
            "ollama_request_failed",
            host=self.host,
            request=what,
            model=model,
            error=type(error).__name__,
            cause=type(cause).__name__,
            detail=error.detail,
        )
