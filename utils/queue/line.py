"""What the two gates (`SqliteGate`, `RedisGate`) share about a line, whatever holds it:
waiting for one's turn (`wait_turn`), the wait estimate (`eta`), a ticket's release and loss
(`LineTicket`), and the gate's live tickets with the thread that heartbeats them
(`Heartbeats`)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

import structlog

from utils.clock import Clock
from utils.queue.contract import WaitCallback
from utils.queue.wake import Wake

log = structlog.get_logger()


def wait_turn(
    try_grant: Callable[[], tuple[int, float | None]], on_wait: WaitCallback, wake: Wake,
    *, wakeable: bool, poll: float, clock: Clock,
) -> bool:  # fmt: skip
    """Ask `try_grant` (position, eta) until the position is 0 (True if it ever was not: the
    caller waited); tell `on_wait` each new position and rounded ETA once; between asks, nap
    on `wake` (a release in this process ends the nap at once) when `wakeable` (the real
    clock), else sleep `poll` on `clock`."""
    shown: tuple[int, int | None] | None = None
    while True:
        seen = wake.count
        position, eta_s = try_grant()
        if position == 0:
            return shown is not None
        rounded = None if eta_s is None else math.ceil(eta_s)
        if (position, rounded) != shown:
            shown = (position, rounded)
            on_wait(position, eta_s)
        if wakeable:
            wake.nap(seen, poll)
        else:
            clock.sleep(poll)


def eta(
    position: int, slots: int, median: float | None, granted: Sequence[float], now: float
) -> float | None:
    """Seconds until `position` (1 = next) is served: as many rounds of the median hold as it
    takes `slots` at a time, less what the oldest current hold (granted at `granted`, wall
    seconds) has already run; None before any hold was timed."""
    if median is None:
        return None
    rounds = math.ceil(position / slots)
    elapsed = min(max(0.0, now - min(granted)), median) if granted else 0.0
    return max(0.0, rounds * median - elapsed)


class TicketGate(Protocol):
    """What a ticket needs of its gate."""

    clock: Clock
    host: str

    def _untrack(self, ticket_id: int) -> None: ...
    def _leave(self, ticket_id: int, held: float | None) -> None: ...


class LineTicket:
    """A place in line, then a held slot: the state and the release both gates' tickets share
    (each asks its own store in `held()`). `release()` is idempotent and thread-safe."""

    def __init__(self, gate: TicketGate, ticket_id: int, ahead: int) -> None:
        self.gate = gate
        self.id = ticket_id
        self.ahead = ahead  # live tickets ahead when it joined (the queue depth it saw)
        self.waited = 0.0  # seconds between joining and being served
        self.granted_at: float | None = None  # monotonic
        self.lost = False  # the queue no longer has it (found by a beat or `held()`)
        self._lock = threading.Lock()
        self._released = False

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self.gate._untrack(self.id)
        held = None
        if self.granted_at is not None and not self.lost:
            held = max(0.0, self.gate.clock.monotonic() - self.granted_at)
        self.gate._leave(self.id, held)

    def mark_lost(self) -> None:
        if not self.lost and not self._released and self.granted_at is not None:
            self.lost = True
            log.info("gate_ticket_lost", host=self.gate.host, ticket=self.id)


TicketT = TypeVar("TicketT", bound=LineTicket)


class Heartbeats(Generic[TicketT]):
    """A gate's live tickets (waiting or holding) and the thread that beats them every `every`
    seconds (started with the first ticket and kept); `beat(ids)` says which the queue still
    has, and a holder it no longer has is marked lost."""

    def __init__(self, beat: Callable[[list[int]], set[int]], every: float) -> None:
        self._beat = beat
        self._every = every
        self._live: dict[int, TicketT] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def track(self, ticket: TicketT) -> None:
        with self._lock:
            self._live[ticket.id] = ticket
            if self._thread is None or not self._thread.is_alive():
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="gate-heartbeat", daemon=True
                )
                self._thread.start()

    def untrack(self, ticket_id: int) -> None:
        with self._lock:
            self._live.pop(ticket_id, None)

    def release_all(self) -> None:
        """Release every live ticket (e.g. a chat left while its warm-up holds one)."""
        with self._lock:
            left = list(self._live.values())
        for ticket in left:
            ticket.release()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self._every):
            with self._lock:
                tickets = dict(self._live)
            if not tickets:
                continue
            try:
                beaten = self._beat(sorted(tickets))
            except Exception as exc:  # a missed beat only matters to other machines
                log.info("gate_heartbeat_failed", error=str(exc))
                continue
            for ticket_id, ticket in tickets.items():
                if ticket_id not in beaten:
                    ticket.mark_lost()
