"""`HostPool`: several Ollama hosts behind one `Gate`, each host's slots kept by its own gate.

- Every host has its own line (a `Gate` with that host's slots, the same line a single-host
  process uses for it): never more requests in flight at a host than its slots, and in flight
  is the gate's live tickets, never a counter of ours.
- Requests wait in one line for the whole pool (`line`, a `Gate` with one slot, FIFO across
  every process): the caller at its head holds the pool's turn and watches the hosts until one
  that serves the model is up and has a free slot (`depth() < slots`), takes that slot and hands
  the turn on. So a waiting request is never stuck behind a busy host while another is free,
  and when a host is cooled down the waiting requests simply go to the others.
- Among free hosts: the model already loaded first, then the fewest in flight for the slots,
  ties at random (`pick.choose`).
- A host that failed is cooled down (`HostHealth`, shared through `<data_dir>/hosts.db`) and
  passed over; once its cooldown is over, the head probes it (`probe`) before it takes
  requests again. When no host is up, the one whose cooldown ends first is tried anyway, so the
  retries and the error line say what is wrong instead of a silent wait.
- `acquire` (the plain `Gate` call, for callers that talk to `Deps.llm`: the warm-up, the
  summary) takes a slot on the first host, which `Deps.llm` talks to.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import structlog

from utils.clock import Clock
from utils.hosts.contract import NoHostForModel
from utils.hosts.health import HostHealth, HostState
from utils.hosts.loaded import LoadedModels
from utils.hosts.pick import Candidate, choose
from utils.hosts.probing import probe
from utils.hosts.spec import HostSpec
from utils.hosts.ticket import HostTicket
from utils.ollama import OllamaError, OllamaService
from utils.queue import Gate, Ticket, WaitCallback

log = structlog.get_logger()

WATCH = 0.02  # seconds between two looks at the hosts while the head waits for a free slot


@dataclass(frozen=True)
class HostStatus:
    url: str
    state: str  # up | cooling | down
    cooling_for: float  # seconds left of the cooldown (0 unless cooling)
    slots: int
    in_flight: int
    waiting: int  # in the host's own line (the pool's line is counted apart)
    served: int
    errors: int
    last_error: str | None


def _ignore(position: int, eta: float | None) -> None:
    return None


class HostPool:
    def __init__(
        self,
        specs: Sequence[HostSpec],
        *,
        gates: Callable[[HostSpec], Gate],
        line: Gate,
        health: HostHealth,
        llms: Callable[[str], OllamaService],
        clock: Clock,
        probe_timeout: float = 2.0,
        probe_headers: Mapping[str, str] | None = None,
        probe_verify: bool = True,
        watch: float = WATCH,
        rng: random.Random | None = None,
    ) -> None:
        if not specs:
            raise ValueError("a host pool needs at least one host")
        self.specs = list(specs)
        self.line = line
        self.health = health
        self.clock = clock
        self.probe_timeout = probe_timeout
        self.probe_headers = dict(probe_headers or {})
        self.probe_verify = probe_verify
        self.watch = watch
        self.rng = rng or random.Random()
        self._make_gate = gates
        self._make_llm = llms
        self._gates: dict[str, Gate] = {}
        self._llms: dict[str, OllamaService] = {}
        self._lock = threading.RLock()  # the health connection and the dicts above
        self.loaded = LoadedModels(self.llm_for, clock)

    # -- what it is built from -------------------------------------------------------------
    def gate_for(self, spec: HostSpec) -> Gate:
        with self._lock:
            gate = self._gates.get(spec.key)
            if gate is None:
                gate = self._gates[spec.key] = self._make_gate(spec)
            return gate

    def llm_for(self, url: str) -> OllamaService:
        with self._lock:
            llm = self._llms.get(url)
            if llm is None:
                llm = self._llms[url] = self._make_llm(url)
            return llm

    # -- the Router ------------------------------------------------------------------------
    def route(self, model: str, on_wait: WaitCallback) -> HostTicket:
        eligible = [s for s in self.specs if s.serves(model)]
        if not eligible:
            raise NoHostForModel(model, [s.shown for s in self.specs])
        joined = self.clock.monotonic()
        turn = self.line.acquire(on_wait)
        try:
            spec, inner = self._take(eligible, model)
        finally:
            turn.release()
        waited = self.clock.monotonic() - joined
        log.info("host_picked", host=spec.shown, model=model, waited=round(waited, 3))
        return HostTicket(self, spec, inner, ahead=int(getattr(turn, "ahead", 0)), waited=waited)

    def succeeded(self, spec: HostSpec, model: str) -> None:
        self.loaded.used(spec.url, model)
        with self._lock:
            back = self.health.succeeded(spec.key, now=self.clock.now())
        if back:
            log.info("host_back", host=spec.shown, how="request")

    def failed(self, spec: HostSpec, error: BaseException) -> None:
        with self._lock:
            state = self.health.failed(spec.key, _said(error), now=self.clock.now())
        log.info("host_cooled", host=spec.shown, failures=state.failures, error=_said(error),
                 seconds=round(state.cooling_until - self.clock.now(), 2))  # fmt: skip

    # -- the Gate protocol -------------------------------------------------------------------
    def acquire(self, on_wait: WaitCallback) -> Ticket:
        return self.gate_for(self.specs[0]).acquire(on_wait)

    def depth(self) -> int:
        return self.line.depth() + sum(self.gate_for(s).depth() for s in self.specs)

    def estimate(self) -> float | None:
        return self.line.estimate()

    def close(self) -> None:
        with self._lock:
            gates, self._gates = list(self._gates.values()), {}
            llms, self._llms = list(self._llms.values()), {}
        for gate in gates:
            gate.close()
        self.line.close()
        for llm in llms:
            llm.close()
        with self._lock:
            self.health.close()

    # -- what doctor, stats and /metrics show ----------------------------------------------
    def status(self) -> list[HostStatus]:
        now = self.clock.now()
        with self._lock:
            states = self.health.states([s.key for s in self.specs])
        out = []
        for spec in self.specs:
            state, depth = states[spec.key], self.gate_for(spec).depth()
            out.append(HostStatus(
                url=spec.shown, state=state.state(now),
                cooling_for=max(0.0, state.cooling_until - now) if state.failures else 0.0,
                slots=spec.slots, in_flight=min(depth, spec.slots),
                waiting=max(0, depth - spec.slots), served=state.served, errors=state.errors,
                last_error=state.last_error,
            ))  # fmt: skip
        return out

    # -- the head of the line ------------------------------------------------------------------
    def _take(self, eligible: list[HostSpec], model: str) -> tuple[HostSpec, Ticket]:
        while True:
            usable = self._usable(eligible)
            candidates = [Candidate(s, self.gate_for(s).depth()) for s in usable]
            free = [c for c in candidates if c.free]
            if len(free) > 1:
                free = self._loaded(free, model)
            chosen = choose(free, self.rng)
            if chosen is not None:
                ticket = self.gate_for(chosen.spec).acquire(_ignore)  # free: served at once
                return chosen.spec, ticket
            self.clock.sleep(self.watch)

    def _loaded(self, free: list[Candidate], model: str) -> list[Candidate]:
        """The free candidates marked with whether they have the model loaded; a host that
        cannot be reached is cooled down and left out."""
        marked = []
        for c in free:
            try:
                loaded = self.loaded.has(c.spec.url, model)
            except OllamaError as exc:
                self.failed(c.spec, exc)
                continue
            marked.append(Candidate(c.spec, c.in_flight, loaded))
        return marked

    def _usable(self, eligible: list[HostSpec]) -> list[HostSpec]:
        """The hosts that are up (probing those whose cooldown is over); when none is, the one
        whose cooldown ends first."""
        now = self.clock.now()
        with self._lock:
            states = self.health.states([s.key for s in eligible])
        usable = []
        for spec in eligible:
            state = states[spec.key]
            kind = state.state(now)
            if kind == "up" or (kind == "down" and self._probe(spec)):
                usable.append(spec)
        if usable:
            return usable
        with self._lock:
            states = self.health.states([s.key for s in eligible])
        return [min(eligible, key=lambda s: _ends(states[s.key]))]

    def _probe(self, spec: HostSpec) -> bool:
        with self._lock:
            claimed = self.health.claim_probe(spec.key, self.probe_timeout + 1.0,
                                              now=self.clock.now())  # fmt: skip
        if not claimed:
            return False  # another process is probing it
        error = probe(spec.url, timeout=self.probe_timeout, headers=self.probe_headers,
                      verify=self.probe_verify)  # fmt: skip
        with self._lock:
            if error is None:
                self.health.succeeded(spec.key, served=False, now=self.clock.now())
            else:
                state = self.health.failed(spec.key, error, now=self.clock.now())
        if error is None:
            log.info("host_back", host=spec.shown, how="probe")
            return True
        log.info("host_probe_failed", host=spec.shown, error=error, failures=state.failures)
        return False


def _ends(state: HostState) -> float:
    return state.cooling_until


def _said(error: BaseException) -> str:
    detail = getattr(error, "detail", "") or str(error)
    return f"{type(error).__name__}: {detail}"[:200]
