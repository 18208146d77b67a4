"""The sink of one run: what the turn flow says becomes events in the run's log.

`reply` -> `delta {text}`, `notice` -> `notice {text}`, `waiting` -> `queued {position, ahead,
eta_s}` (the machine-wide line at Ollama's door, when it changed). The slot's grant is the
"thinking…" status (CallOllama), or "loading model …" when the model must be loaded first:
that one becomes `loading {model}`, and `started` then waits for the first piece of the reply
(or of its reasoning). `started` is not written on the request's path: the announcer writes it
a moment later (serve/announcer.py), or the run's next event first, whichever comes sooner.
A stop (cancel, or the drain's deadline) is raised as KeyboardInterrupt at the next piece or
wait, which the flow already turns into a kept, `interrupted` reply; or as the slot is granted
(where CallOllama gives the ticket back on any exception).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

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
        self.granted = False  # the Ollama slot is the run's (no longer at the door)
        self.started = False  # the reply is under way (`started` sent or owed)
        self._owed = False  # `started` not yet written
        self._writing = threading.RLock()  # `started` goes before any later event of the run
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

    def flush(self) -> None:
        """Write `started` if it is still owed."""
        with self._writing:
            if self._owed:
                self._owed = False
                self.events.append(self.run_id, "started", {})

    def _append(self, kind: str, data: dict[str, Any]) -> None:
        with self._writing:
            self.flush()
            self.events.append(self.run_id, kind, data)

    # -- Sink ------------------------------------------------------------------------------
    def reply(self, piece: str) -> None:
        if piece:
            self._start()
            self.chars += len(piece)
            self._append("delta", {"text": piece})
        self._maybe_stop()

    def reply_done(self) -> None:
        return None

    def status(self, text: str) -> None:
        if text == "thinking…":  # the slot was just granted: a run stopped at the door ends here
            self._maybe_stop()
            self._grant()
            self._start()
        elif text.startswith("loading"):  # granted, and the model is loaded for this reply
            self._maybe_stop()
            self._grant()
            self._append("loading", {"model": self.model})
        elif text.startswith("thinking"):
            self._start()

    def waiting(self, position: int, eta: float | None) -> None:
        self._maybe_stop()
        self.gate_spoke = True
        if self.last_position is not None and position >= self.last_position:
            return  # a place is only ever announced lower (the line's own count may differ)
        self.last_position = position
        eta_s = None if eta is None else round(eta, 1)
        data = {"position": position, "ahead": position - 1, "eta_s": eta_s}
        self._append("queued", data)

    def notice(self, text: str) -> None:
        self._append("notice", {"text": text})

    def progress(self, label: str, completed: int, total: int | None, unit: str = "bytes") -> None:
        if completed == 0 or (total is not None and completed >= total):
            self._append("notice", {"text": f"{label}: {completed} {unit}"})

    def _grant(self) -> None:
        if not self.granted:
            self.granted = True
            if self.on_start is not None:
                self.on_start()  # the announcer tells the others (and writes `started`) soon

    def _start(self) -> None:
        self._grant()
        if not self.started:
            with self._writing:
                self.started = True
                self._owed = True
