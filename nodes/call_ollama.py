"""CallOllama: send the prompt and wait for the first piece of the reply.

Retry is PocketFlow's own (`max_retries` from the node's `retry:` block, exponential backoff
with jitter before each new attempt). Only transient failures are retried — connection refused
or reset, 503, 500, a timeout before the first token; a missing model or a bad request is not.
A missing model is pulled first when `auto_pull` is on. After the last failure the action is
`unavailable` (transient) or `failed`; the person's message is already stored.
Once the queue's slot is ours, the status says `thinking…`, or `loading model …` when the model
is not in Ollama's memory (`LoadWatch`: `/api/ps`, unless the same model just answered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import Crash, PocketNode, Shared
from nodes.deps import Deps
from utils.ollama import ModelNotFound, OllamaError

if TYPE_CHECKING:
    from utils.ollama import ChatStream
    from utils.queue import Gate, Ticket

log = structlog.get_logger()


@dataclass(frozen=True)
class CallInput:
    model: str
    prompt: list[dict[str, str]]
    options: dict[str, Any]
    keep_alive: float | str
    think: bool | str | None = None  # sent only when the session set it


@dataclass
class Started:
    """A reply under way: the stream, its first piece, and the queue ticket it holds."""

    stream: ChatStream
    first: str
    ticket: Ticket | None = None
    attempts: int = 1
    queue: tuple[float, int] | None = None  # (seconds waited in line, tickets ahead on arrival)
    _at_close: bool = field(default=False, repr=False)  # the release waits for the close

    def release(self) -> None:
        """Give the queue slot back once the stream is really closed: now, or when the reader
        thread closes it (Ollama is still busy until then). Once: the reply's end and the
        turn's cleanup both call."""
        ticket, self.ticket = self.ticket, None
        if ticket is not None and not self._at_close:
            self.stream.when_closed(ticket.release)

    def release_at_close(self) -> None:
        """Give the slot back the moment the stream closes (its last chunk read, or a stop),
        from whichever thread closes it; the ticket stays for `held()` until then."""
        ticket = self.ticket
        if ticket is not None and not self._at_close:
            self._at_close = True
            self.stream.when_closed(ticket.release)

    def held(self) -> bool:
        """False once the queue took the slot back (see `Ticket.held`): stop reading."""
        ticket = self.ticket
        return ticket is None or ticket.held()


@dataclass(frozen=True)
class CallFailure:
    error: Exception
    attempts: int
    transient: bool = field(default=False)


class CallOllama(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "unavailable", "failed")
    reads: ClassVar[Mapping[str, Any]] = {"session": "Session", "prompt": "list[dict[str, Any]]"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "context": "dict[str, Any]",
        "session_id": "str",
        "request_id": "str",
    }
    writes: ClassVar[Mapping[str, Any]] = {"request": "dict[str, Any]", "attempts": "int"}
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "default": {"started": "Started"},
        "unavailable": {"error": "dict[str, str]"},
        "failed": {"error": "dict[str, str]"},
    }
    param_settings: ClassVar[Mapping[str, str]] = {"keep_alive": "ollama.keep_alive"}

    def __init__(self, deps: Deps, keep_alive: float | str | None = None) -> None:
        super().__init__(deps)
        self.keep_alive = keep_alive
        from utils.ollama import LoadWatch

        self.loads = LoadWatch(deps.clock)  # is the model in memory? (`loading model …`)
        retry = deps.settings.retry
        self.configure_retry(retry.max_retries, retry.backoff, retry.jitter)

    def prep(self, shared: Shared) -> CallInput:
        from utils.ollama import CHECKS, apply_quirks, quirks_for

        session = shared["session"]
        own: dict[str, Any] = session.options or {}
        options = {k: v for k, v in own.items() if k in CHECKS}
        planned = (shared.get("context") or {}).get("num_ctx")
        if "num_ctx" not in options and isinstance(planned, int) and planned > 0:
            options["num_ctx"] = planned  # the window TrimContext fitted the prompt to
        messages, options = apply_quirks(shared["prompt"], options, quirks_for(session.model))
        keep_alive = own.get("keep_alive")  # a session may override
        if keep_alive is None:
            keep_alive = self.keep_alive
        if keep_alive is None:
            keep_alive = self.deps.settings.ollama.keep_alive
        return CallInput(
            model=session.model,
            prompt=messages,
            options=options,
            keep_alive=request_field("keep_alive", keep_alive),
            think=request_field("think", own["think"]) if "think" in own else None,
        )

    def exec(self, prep_res: CallInput) -> Started | CallFailure | Crash:
        self.wait_before_retry()
        attempt = int(getattr(self, "cur_retry", 0)) + 1
        if attempt > 1:
            log.info("ollama_retry", attempt=attempt, of=self.max_retries, model=prep_res.model)
            self.deps.sink.status(f"retrying ({attempt}/{self.max_retries})…")
        try:
            try:
                return self._start(prep_res, attempt)
            except ModelNotFound as missing:
                try:
                    pulled = self._pull_or_explain(prep_res.model)
                except OllamaError as explained:
                    return CallFailure(explained, attempt)
                if not pulled:  # installed after all: the 404 stands, and is not retried
                    return CallFailure(missing, attempt)
                return self._start(prep_res, attempt)  # a 400 here is a failure too
        except OllamaError as exc:
            if exc.transient:
                self._announce_retry(exc, attempt)
                raise  # the only thing PocketFlow retries
            return CallFailure(exc, attempt)
        except Exception as exc:  # a bug: raised once from post, not dressed up as Ollama's
            return Crash(exc)

    def exec_fallback(self, prep_res: CallInput, exc: Exception) -> CallFailure:
        if not isinstance(exc, OllamaError):
            raise exc
        return CallFailure(exc, int(getattr(self, "cur_retry", 0)) + 1, transient=exc.transient)

    def post(
        self, shared: Shared, prep_res: CallInput, exec_res: Started | CallFailure | Crash
    ) -> str:
        if isinstance(exec_res, Crash):
            exec_res.reraise()
        shared["request"] = sent_request(prep_res)  # what `ask --show-prompt` and /prompt show
        shared["attempts"] = exec_res.attempts
        if exec_res.attempts > 1:
            from utils.telemetry import OLLAMA_RETRIES, record_event

            record_event(
                self.deps.store,
                OLLAMA_RETRIES,
                value=exec_res.attempts - 1,
                session_id=shared.get("session_id"),
                request_id=shared.get("request_id"),
                model=prep_res.model,
                attempts=exec_res.attempts,
                outcome="started"
                if isinstance(exec_res, Started)
                else type(exec_res.error).__name__,
            )
        if isinstance(exec_res, Started):
            shared["started"] = exec_res
            return "default"
        self.deps.sink.status("")
        error = exec_res.error
        line = error.user_line(self.deps.llm.host) if isinstance(error, OllamaError) else str(error)
        shared["error"] = {"kind": type(error).__name__, "line": line}
        log.info("turn_call_failed", error=type(error).__name__, attempts=exec_res.attempts)
        return "unavailable" if exec_res.transient else "failed"

    def _start(self, data: CallInput, attempt: int) -> Started:
        from utils.hosts import RoutedTicket

        ticket, queue = None, None
        gate, clock = self.deps.gate, self.deps.clock
        llm = self.deps.llm
        if gate is not None:
            joined = clock.monotonic()
            ticket = self._take(gate, data.model)
            while not ticket.held():  # cleared while suspended since its grant: line up again
                ticket.release()
                ticket = self._take(gate, data.model)
            queue = (clock.monotonic() - joined, int(getattr(ticket, "ahead", 0)))
        # several hosts: the reply goes to the ticket's host, which hears how it went
        routed = ticket if isinstance(ticket, RoutedTicket) else None
        if routed is not None:
            llm = routed.llm
        stream: ChatStream | None = None
        try:  # from here on a failure or a stop gives the ticket back
            num_ctx = data.options.get("num_ctx")
            needs_load = self.loads.needs_load(llm, data.model, _int_or_none(num_ctx),
                                               data.keep_alive)  # fmt: skip
            if needs_load:
                self.deps.sink.status(f"loading model {data.model}…")  # the slot is ours too
            else:
                self.deps.sink.status("thinking…")
            stream = llm.chat_stream(
                data.model,
                data.prompt,
                options=data.options,
                keep_alive=data.keep_alive,
                think=data.think,
            )
            first = next(stream, "")
        except BaseException as exc:  # a failure, or Ctrl+C while waiting: let Ollama stop too
            if stream is not None:
                stream.close()
            if routed is not None and isinstance(exc, OllamaError) and exc.transient:
                routed.failed(exc)  # cooled down: the retry goes to another host
            if ticket is not None:
                ticket.release()
            raise
        if routed is not None:
            routed.succeeded(data.model)
        if first or not getattr(stream, "thinking_chunks", 0):  # else StreamReply counts
            self.deps.sink.status("")
        return Started(stream=stream, first=first, ticket=ticket, attempts=attempt, queue=queue)

    def _take(self, gate: Gate, model: str) -> Ticket:
        """A slot: on the host the pool picks for `model` with several hosts, else the gate's."""
        from utils.hosts import Router

        if isinstance(gate, Router):
            return gate.route(model, self.deps.sink.waiting)
        return gate.acquire(self.deps.sink.waiting)

    def _announce_retry(self, error: OllamaError, attempt: int) -> None:
        """Before the wait: what failed, the next attempt and how long until it, on the status
        line (`Ollama unreachable; retrying (2/4) in 2 s…`). Nothing after the last attempt."""
        if attempt >= self.max_retries:
            return
        wait = self.backoff * 2 ** (attempt - 1)  # the wait before it, give or take the jitter
        shown = f"{wait:.0f}" if wait >= 1 else f"{wait:.1f}"
        self.deps.sink.status(
            f"{error.brief()}; retrying ({attempt + 1}/{self.max_retries}) in {shown} s…"
        )

    def _pull_or_explain(self, model: str) -> bool:
        """Pull a missing model when auto_pull is on (True); else raise the line that says how.
        False when the model is installed after all."""
        from utils.ollama import pull_if_missing

        auto_pull = self.deps.settings.ollama.auto_pull == "true"
        return pull_if_missing(self.deps.llm, model, auto_pull=auto_pull, sink=self.deps.sink)


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_field(name: str, value: Any) -> Any:
    """A session's `keep_alive` or `think` as Ollama takes it: "-1" as the number -1, "5m"
    as text. A value that fails the check is sent as it is: Ollama's 400 then says why."""
    from utils.ollama import OptionError, validate_options

    try:
        return validate_options({name: value})[name]
    except OptionError as exc:
        log.warning("option_not_normalised", option=name, error=str(exc))
        return value


def sent_request(data: CallInput) -> dict[str, Any]:
    """The request as sent to /api/chat: model, the exact messages (quirks applied), options,
    keep_alive and think (only when the session set it)."""
    request: dict[str, Any] = {
        "model": data.model,
        "messages": [dict(m) for m in data.prompt],
        "options": dict(data.options),
        "keep_alive": data.keep_alive,
    }
    if data.think is not None:
        request["think"] = data.think
    return request
