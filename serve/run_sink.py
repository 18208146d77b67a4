"""The sink of one run: what the turn flow says becomes events in the run's log.

`reply` -> `delta {text}`, `notice` -> `notice {text}`, `waiting` -> `queued {position, ahead,
eta_s}` (the machine-wide line at Ollama's door, when it changed), the first "thinking…"
status -> `started` (the slot is ours), a "loading…" status -> `loading {model}`. A stop
(cancel, or the drain's deadline) is raised as KeyboardInterrupt at the next piece or wait,
which the flow already turns into a kept, `interrupted` reply; or as the slot is granted
("thinking…", where CallOllama gives the ticket back on any exception).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from serve.events import EventLog

log = structlog.get_logger()


class RunSink:
    def __init__(
        self, events: EventLog, run_id: str, model: str, *, last_position: int | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.events = events
        self.run_id = run_id
        self.model = model
        self.last_position = last_position  # the last `queued` sent: only a change is sent
        self.on_start = on_start
        self.gate_spoke = False  # the machine-wide line reported a place: it says from now on
        self.started = False
        self.chars = 0
        self.stop_reason: str | None = None  # "cancel" | "drain"
        self._raised = False
        self._lock = threading.Lock()

    def stop(self, reason: str) -> None:
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason

    def _maybe_stop(self) -> None:
        with self._lock:
            if self.stop_reason is None or self._raised:
                return
            self._raised = True
        log.info("run_stopping", run_id=self.run_id, reason=self.stop_reason)
        raise KeyboardInterrupt

    # -- Sink ------------------------------------------------------------------------------
    def reply(self, piece: str) -> None:
        if piece:
            self._start()
            self.chars += len(piece)
            self.events.append(self.run_id, "delta", {"text": piece})
        self._maybe_stop()

    def reply_done(self) -> None:
        return None

    def status(self, text: str) -> None:
        if text == "thinking…":  # the slot was just granted: a run stopped at the door ends here
            self._maybe_stop()
            self._start()
        elif text.startswith("thinking"):
            self._start()
        elif text.startswith("loading"):
            self.events.append(self.run_id, "loading", {"model": self.model})

    def waiting(self, position: int, eta: float | None) -> None:
        self._maybe_stop()
        self.gate_spoke = True
        if self.last_position is not None and position >= self.last_position:
            return  # a place is only ever announced lower (the line's own count may differ)
        self.last_position = position
        eta_s = None if eta is None else round(eta, 1)
        data = {"position": position, "ahead": position - 1, "eta_s": eta_s}
        self.events.append(self.run_id, "queued", data)

    def notice(self, text: str) -> None:
        self.events.append(self.run_id, "notice", {"text": text})

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        if completed == 0 or (total is not None and completed >= total):
            self.events.append(self.run_id, "notice", {"text": f"{label}: {completed} {unit}"})

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self.events.append(self.run_id, "started", {})
            if self.on_start is not None:
                self.on_start()
