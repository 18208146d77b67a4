"""The `Gate` contract, across real processes: FIFO, positions, slots, a killed holder or waiter
freeing the line at once, a suspended holder keeping its slot, Ctrl+C.

Every implementation (today `SqliteGate`, listed in tests/contract_impls.py) passes it unchanged;
each worker process opens the same gate through `open_gate(impl, where, ...)`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.contract_impls import GATES, open_gate
from tests.sigint import default_sigint
from utils.clock import SystemClock

ROOT = Path(__file__).resolve().parent.parent
HOST = "http://127.0.0.1:11434"


@pytest.fixture(params=GATES)
def impl(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _worker(impl: str, tmp: Path, tag: str, hold: float | str, slots: int = 1, ttl: float = 5.0):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [impl, str(tmp), HOST, tag, str(hold), str(slots), str(ttl), str(tmp / "log")]
    return subprocess.Popen([sys.executable, "-m", "tests.gate_worker", *args], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # fmt: skip


def _log(tmp: Path) -> list[tuple[str, str, float]]:
    path = tmp / "log"
    if not path.exists():
        return []
    return [(t, w, float(s)) for t, w, s in (ln.split() for ln in path.read_text().splitlines())]


def _wait_for(tmp: Path, tag: str, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(t == tag and w == what for t, w, _ in _log(tmp)):
        assert time.monotonic() < deadline, f"{tag} never logged {what}: {_log(tmp)}"
        time.sleep(0.01)


def _depth(impl: str, tmp: Path, ttl: float = 5.0) -> int:
    gate = open_gate(impl, tmp, HOST, SystemClock(), ttl=ttl)
    try:
        return gate.depth()
    finally:
        gate.close()


def _max_holding(events: list[tuple[str, str, float]]) -> int:
    held, most = 0, 0
    for _, what, _ in sorted((e for e in events if e[1] in ("granted", "released")),
                             key=lambda e: (e[2], e[1] == "granted")):  # fmt: skip
        held += 1 if what == "granted" else -1
        most = max(most, held)
    return most


def test_fifo_order_and_positions_with_one_slot(impl: str, tmp_path: Path) -> None:
    procs = [_worker(impl, tmp_path, "w0", f"@{tmp_path / 'go'}")]
    _wait_for(tmp_path, "w0", "granted")
    for i in range(1, 4):
        procs.append(_worker(impl, tmp_path, f"w{i}", 0.1))
        _wait_for(tmp_path, f"w{i}", "wait-" + str(i))  # each joins behind the ones before
    (tmp_path / "go").touch()
    for p in procs:
        assert p.wait(timeout=20) == 0, p.stderr.read() if p.stderr else ""
    events = _log(tmp_path)
    granted = [t for t, w, _ in sorted(events, key=lambda e: e[2]) if w == "granted"]
    assert granted == ["w0", "w1", "w2", "w3"]
    waits = {t: [w for tt, w, _ in events if tt == t and w.startswith("wait-")] for t in granted}
    assert waits["w3"][0] == "wait-3" and "wait-1" in waits["w3"]  # moved up as others left
    assert waits["w0"] == []
    assert _max_holding(events) == 1
    assert _depth(impl, tmp_path) == 0


def test_two_slots_serve_two_at_once_never_three(impl: str, tmp_path: Path) -> None:
    procs = [_worker(impl, tmp_path, f"w{i}", 0.4, slots=2) for i in range(5)]
    for p in procs:
        assert p.wait(timeout=20) == 0, p.stderr.read() if p.stderr else ""
    assert _max_holding(_log(tmp_path)) == 2
    gate = open_gate(impl, tmp_path, HOST, SystemClock())
    estimate = gate.estimate()  # the holds just finished: about 0.4 s each
    gate.close()
    assert estimate is not None and 0.3 < estimate < 5


@pytest.mark.parametrize("who", ["holder", "waiter"])
def test_a_killed_holder_or_waiter_frees_the_line_within_a_second(
    impl: str, tmp_path: Path, who: str
) -> None:
    """A ticket lives as long as its process: SIGKILL frees it at once, not after the TTL."""
    holder = _worker(impl, tmp_path, "holder", f"@{tmp_path / 'go'}", ttl=10.0)
    _wait_for(tmp_path, "holder", "granted")
    waiter = _worker(impl, tmp_path, "waiter", 1000, ttl=10.0)
    _wait_for(tmp_path, "waiter", "wait-1")
    gate = open_gate(impl, tmp_path, HOST, SystemClock(), ttl=10.0, heartbeat=2.0, poll=0.02)
    positions: list[int] = []
    killed = holder if who == "holder" else waiter
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=5)
    start = time.monotonic()
    if who == "waiter":
        (tmp_path / "go").touch()  # the holder finishes; the dead waiter must not stall the line
        assert holder.wait(timeout=5) == 0
    else:  # the waiter is served next, then the test's own ticket
        _wait_for(tmp_path, "waiter", "granted", timeout=1.0)
        waiter.send_signal(signal.SIGKILL)
        waiter.wait(timeout=5)
    ticket = gate.acquire(lambda position, eta: positions.append(position))
    waited = time.monotonic() - start
    assert waited < 1.0, f"the killed {who}'s ticket held the line {waited:.2f} s"
    assert ticket.held()
    ticket.release()
    assert not ticket.held()
    assert _depth(impl, tmp_path, ttl=10.0) == 0
    gate.close()


def test_a_suspended_holder_keeps_its_slot_past_the_ttl(impl: str, tmp_path: Path) -> None:
    """SIGSTOP (Ctrl+Z, a laptop asleep) for three TTLs: the holder's process still exists, so
    nobody else is served until it resumes and finishes — never two in one slot."""
    holder = _worker(impl, tmp_path, "holder", 0.3, ttl=0.4)
    _wait_for(tmp_path, "holder", "granted")
    holder.send_signal(signal.SIGSTOP)
    try:
        waiter = _worker(impl, tmp_path, "waiter", 0.0, ttl=0.4)
        _wait_for(tmp_path, "waiter", "wait-1")
        time.sleep(1.2)
        assert not any(w == "granted" for t, w, _ in _log(tmp_path) if t == "waiter")
    finally:
        holder.send_signal(signal.SIGCONT)
    assert holder.wait(timeout=10) == 0 and waiter.wait(timeout=10) == 0
    events = {(t, w): s for t, w, s in _log(tmp_path)}
    assert events["waiter", "granted"] >= events["holder", "released"]
    assert _max_holding(_log(tmp_path)) == 1


def test_a_live_holder_is_not_expired_while_it_heartbeats(impl: str, tmp_path: Path) -> None:
    holder = _worker(impl, tmp_path, "holder", 1.2, ttl=0.4)  # holds three times its ttl
    _wait_for(tmp_path, "holder", "granted")
    waiter = _worker(impl, tmp_path, "waiter", 0.0, ttl=0.4)
    assert holder.wait(timeout=10) == 0 and waiter.wait(timeout=10) == 0
    events = {(t, w): s for t, w, s in _log(tmp_path)}
    assert events["waiter", "granted"] >= events["holder", "released"]


def test_ctrl_c_while_waiting_removes_the_ticket(impl: str, tmp_path: Path) -> None:
    holder = _worker(impl, tmp_path, "holder", 1000)
    _wait_for(tmp_path, "holder", "granted")
    waiter = _worker(impl, tmp_path, "waiter", 0.0)
    _wait_for(tmp_path, "waiter", "wait-1")
    assert _depth(impl, tmp_path) == 2
    waiter.send_signal(signal.SIGINT)
    assert waiter.wait(timeout=5) == 3
    assert _depth(impl, tmp_path) == 1  # only the holder is left
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=5)
