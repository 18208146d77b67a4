"""`RedisGate` beyond the shared contract, on a real private redis-server: leases for tickets
of another machine (a kill -9'd holder frees its slot within the TTL; a suspended one loses its
slot and finds `held()` False), FIFO positions across processes, host keys apart, slots, a TCP
URL, and the CLI (`queue status/clear`, `doctor`, `ask`) on Redis, reachable or not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from main import cli
from tests.contract_impls import namespace_for, open_gate
from tests.redis_server import RedisServer
from tests.sigint import default_sigint
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.queue import RedisGate, Unqueued

ROOT = Path(__file__).resolve().parent.parent
HOST = "http://127.0.0.1:11434"

# A holder in its own process: prints `granted ID`, holds until the file argv[5] exists, then
# prints `held True|False` and releases.
HOLDER = """
import sys, time
from pathlib import Path
from utils.clock import SystemClock
from utils.queue import RedisGate
url, space, ttl, host, go = sys.argv[1:6]
gate = RedisGate(url, host, SystemClock(), ttl=float(ttl), heartbeat=float(ttl) / 5,
                 poll=0.02, namespace=space)
ticket = gate.acquire(lambda position, eta: None)
print("granted", ticket.id, flush=True)
while not Path(go).exists():
    time.sleep(0.01)
print("held", ticket.held(), flush=True)
ticket.release()
gate.close()
"""


def _holder(url: str, space: str, ttl: float, go: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, space, str(ttl), HOST, str(go)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # fmt: skip
    assert _said(proc)[:1] == ["granted"]
    return proc


def _said(proc: subprocess.Popen[str]) -> list[str]:
    """The holder's next line of its own (its log lines go to stdout too)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(("granted", "held")):
            return line.split()
    return []


def _as_other_machine(url: str, space: str) -> None:
    """Make every ticket of `space` look like another machine's: only its lease can end it."""
    client = redis.Redis.from_url(url, decode_responses=True)
    for key in client.scan_iter(f"{space}t:*"):
        client.hset(key, "machine", "elsewhere.example")
    client.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone (the CLI uses the default namespace)."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


def test_a_kill_9_holder_on_another_machine_frees_its_slot_within_the_lease(
    redis_url: str, tmp_path: Path
) -> None:
    space, ttl = namespace_for(tmp_path), 1.0
    holder = _holder(redis_url, space, ttl, tmp_path / "go")
    _as_other_machine(redis_url, space)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=5)
    killed = time.monotonic()
    gate = RedisGate(redis_url, HOST, SystemClock(), ttl=ttl, poll=0.02, namespace=space)
    positions: list[int] = []
    ticket = gate.acquire(lambda position, eta: positions.append(position))
    waited = time.monotonic() - killed
    assert positions == [1]  # it did wait: the dead ticket stood until its lease ran out
    assert 0.5 < waited < ttl + 1.0, waited
    ticket.release()
    assert gate.depth() == 0
    gate.close()


def test_a_suspended_holder_on_another_machine_loses_its_slot_and_knows_it(
    redis_url: str, tmp_path: Path
) -> None:
    space, ttl, go = namespace_for(tmp_path), 0.6, tmp_path / "go"
    holder = _holder(redis_url, space, ttl, go)
    _as_other_machine(redis_url, space)
    holder.send_signal(signal.SIGSTOP)
    gate = RedisGate(redis_url, HOST, SystemClock(), ttl=ttl, poll=0.02, namespace=space)
    try:
        ticket = gate.acquire(lambda position, eta: None)  # served once the lease runs out
    finally:
        holder.send_signal(signal.SIGCONT)
    assert ticket.held()
    go.touch()
    assert _said(holder) == ["held", "False"]  # it must not go on
    assert holder.wait(timeout=10) == 0
    assert ticket.held() and gate.depth() == 1  # the holder's release took nothing of ours
    ticket.release()
    gate.close()


def test_positions_are_fifo_across_processes(redis_url: str, tmp_path: Path) -> None:
    """Five processes join at once behind a holder: each is served in its place in line."""
    space, go = namespace_for(tmp_path), tmp_path / "go"
    holder = _holder(redis_url, space, 5.0, go)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "log"
    args = [str(tmp_path), HOST]
    workers = [subprocess.Popen([sys.executable, "-m", "tests.gate_worker", "redis", *args,
                                 f"w{i}", "0.05", "1", "5.0", str(log)], cwd=ROOT, env=env)
               for i in range(5)]  # fmt: skip
    deadline = time.monotonic() + 20
    while log.read_text().count("wait-") < 5 if log.exists() else True:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    go.touch()
    assert holder.wait(timeout=10) == 0
    for w in workers:
        assert w.wait(timeout=20) == 0
    events = [line.split() for line in log.read_text().splitlines()]
    first_place = {}
    for tag, what, _ in events:
        if what.startswith("wait-") and tag not in first_place:
            first_place[tag] = int(what.split("-")[1])
    granted = [t for t, w, _ in sorted(events, key=lambda e: float(e[2])) if w == "granted"]
    assert sorted(first_place.values()) == [1, 2, 3, 4, 5]
    assert granted == sorted(first_place, key=first_place.__getitem__)


def test_host_keys_are_independent_and_slots_two_let_two_in(
    redis_url: str, tmp_path: Path
) -> None:
    clock = SystemClock()
    one = open_gate("redis", tmp_path, "http://a:11434", clock, slots=1)
    other = open_gate("redis", tmp_path, "http://b:11434", clock, slots=1)
    a, b = one.acquire(lambda p, e: None), other.acquire(lambda p, e: None)  # no waiting
    assert a.held() and b.held() and one.depth() == 1 and other.depth() == 1
    a.release()
    b.release()
    two = open_gate("redis", tmp_path, "http://c:11434", clock, slots=2, poll=0.01)
    first, second = two.acquire(lambda p, e: None), two.acquire(lambda p, e: None)
    heard: list[int] = []
    served = threading.Event()

    def third() -> None:
        two.acquire(lambda position, eta: heard.append(position)).release()
        served.set()

    thread = threading.Thread(target=third)
    thread.start()
    time.sleep(0.3)
    assert heard == [1] and not served.is_set()  # the third waits, first in line
    first.release()
    assert served.wait(5)  # a release in this process wakes its waiter at once
    thread.join()
    second.release()
    assert two.depth() == 0
    for gate in (one, other, two):
        gate.close()


def test_a_tcp_url_works_and_a_lost_redis_lets_requests_through(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "tcp", tcp=True).start()
    try:
        gate = Unqueued(RedisGate(server.url, HOST, SystemClock()), server.url)
        ticket = gate.acquire(lambda p, e: None)
        assert ticket.held() and gate.depth() == 1 and not gate.failed
        ticket.release()
    finally:
        server.stop()
    later = gate.acquire(lambda p, e: None)  # Redis is gone: the reply still goes through
    assert later.held() and gate.failed
    later.release()
    gate.close()


def _cli(url: str, data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "--host", HOST, *args],
                                env={"POCKETCHAT_QUEUE_URL": url})  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_queue_status_clear_and_doctor_read_redis(own_redis: RedisServer, tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    assert _cli(own_redis.url, data, "queue", "status")[1].strip() == "the queue is empty"
    live = _holder(own_redis.url, "pocketchat:queue:", 10.0, go)
    dead = subprocess.Popen([sys.executable, "-c", HOLDER, own_redis.url, "pocketchat:queue:",
                             "10", "http://other:11434", str(go)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    assert _said(dead)[:1] == ["granted"]
    dead.send_signal(signal.SIGKILL)
    dead.wait(timeout=5)
    code, out, err = _cli(own_redis.url, data, "queue", "status")
    assert code == 0 and "running" in out and "process gone" in out, out
    assert "held by a process that has ended" in err
    code, out, _ = _cli(own_redis.url, data, "doctor")
    assert "held by a process that has ended" in out
    code, out, _ = _cli(own_redis.url, data, "queue", "clear", "--stale")
    assert code == 0 and "1 stale ticket(s) removed, 1 standing" in out, out
    go.touch()
    assert live.wait(timeout=10) == 0
    code, out, _ = _cli(own_redis.url, data, "doctor")
    assert "0 holding, 0 waiting (unix://" in out, out


def test_an_unreachable_redis_is_one_line_and_a_non_zero_exit(
    standin: StandIn, tmp_path: Path
) -> None:
    url, data = f"unix://{tmp_path}/no-redis.sock", tmp_path / "data"
    for args in (["queue", "status"], ["queue", "clear", "--stale"]):
        code, out, err = _cli(url, data, *args)
        assert code == 1 and out == "", (args, out)
        assert err.count("\n") == 1 and "Traceback" not in err
        assert f"the queue at {url} cannot be reached" in err and "queue.url" in err
    code, _, err = _cli("http://127.0.0.1:6379", data, "queue", "status")
    assert code == 1 and "is not a Redis URL" in err and err.count("\n") == 1, err
    code, _, err = _cli("redis://:s3cret@127.0.0.1:9/0", data, "queue", "status")
    assert code == 1 and "redis://:***@127.0.0.1:9/0 cannot be reached" in err, err
    assert "s3cret" not in err
    code, out, _ = _cli(url, data, "doctor")
    assert code != 0 and "cannot be reached" in out
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "--host", standin.url, "ask",
                                      "hello"], env={"POCKETCHAT_QUEUE_URL": url})  # fmt: skip
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert "cannot be reached" in result.stderr


def test_ask_waits_in_the_redis_queue(own_redis: RedisServer, standin: StandIn,
                                      tmp_path: Path) -> None:  # fmt: skip
    """A real turn takes and releases its ticket in Redis (a hold is recorded)."""
    args = ["--data-dir", str(tmp_path / "d"), "--host", standin.url, "ask", "hello"]
    result = CliRunner().invoke(cli, args, env={"POCKETCHAT_QUEUE_URL": own_redis.url})
    assert result.exit_code == 0, result.output
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    holds = [k for k in client.scan_iter("pocketchat:queue:holds:*")]
    assert len(holds) == 1 and client.llen(holds[0]) >= 1
    assert not list(client.scan_iter("pocketchat:queue:t:*"))  # released
    client.close()
