"""Several Ollama hosts with real processes: concurrent `ask` processes over three one-slot
stand-ins (each would take four at once: only pocketchat keeps them at one) spread out and
never exceed a host's slots; a host killed mid-run is cooled down, the waiting requests finish
on the others, and once it is back it is probed in; `doctor` and `stats` show every host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent
REPLY = " ".join(["word"] * 30)  # 1.5 s at 20 tokens a second


@pytest.fixture
def three() -> Iterator[list[StandIn]]:
    servers = [StandIn(num_parallel=4).start() for _ in range(3)]
    for server in servers:
        server.reply = replies.fixed(REPLY)
        server.tokens_per_second = 20.0
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _env(tmp: Path, servers: list[StandIn], queue_url: str | None = None) -> dict[str, str]:
    entries = "".join(f"    - {{url: '{s.url}', slots: 1}}\n" for s in servers)
    in_redis = f", url: '{queue_url}'" if queue_url else ""
    (tmp / "c.yaml").write_text(
        "retry: {backoff: 0.01, jitter: 0.0}\n"
        f"queue: {{heartbeat_seconds: 0.2, poll_seconds: 0.02{in_redis}}}\n"
        "ollama:\n  auto_pull: 'false'\n  cooldown_seconds: 0.5\n  cooldown_max_seconds: 2.0\n"
        f"  hosts:\n{entries}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POCKETCHAT_", "OLLAMA_"))}
    return {**env, "POCKETCHAT_DATA_DIR": str(tmp / "data"),
            "POCKETCHAT_CONFIG": str(tmp / "c.yaml"), "HOME": str(tmp)}  # fmt: skip


def _asks(env: dict[str, str], prompts: list[str]) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, "main.py", "ask", prompt], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for prompt in prompts]  # fmt: skip


def _finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str, str]]:
    out = []
    for proc in procs:
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        out.append((proc.returncode, stdout, stderr))
    return out


def _events(tmp: Path, name: str) -> list[dict[str, object]]:
    lines = (tmp / "data" / "pocketchat.log").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if e.get("event") == name]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


@pytest.mark.parametrize("queue", ["queue.db", "redis"])
def test_asks_spread_over_the_hosts_and_never_over_their_slots(
    tmp_path: Path, three: list[StandIn], queue: str, request: pytest.FixtureRequest
) -> None:
    """The same with every host's line (and the pool's) in queue.db or in Redis."""
    url = request.getfixturevalue("redis_url") if queue == "redis" else None
    env = _env(tmp_path, three, url)
    results = _finish(_asks(env, [f"question {n}" for n in range(9)]))
    assert [(code, out.strip()) for code, out, _ in results] == [(0, REPLY)] * 9, results
    assert [s.max_concurrent for s in three] == [1, 1, 1]
    served = [len(s.requests.to("/api/chat")) for s in three]
    assert sum(served) == 9 and min(served) >= 2, served
    assert (tmp_path / "data" / "queue.db").exists() == (url is None)

    stats = json.loads(_run(env, "stats", "--json").stdout)
    assert [(h["url"], h["state"], h["slots"], h["in_flight"], h["served"], h["errors"])
            for h in stats["hosts"]] == [(s.url, "up", 1, 0, n, 0)
                                         for s, n in zip(three, served, strict=True)]  # fmt: skip
    prom = _run(env, "stats", "--prometheus").stdout
    assert f'pocketchat_host_served_total{{host="{three[0].url}"}} {float(served[0])}' in prom
    assert f'pocketchat_host_state{{host="{three[1].url}",state="up"}} 1.0' in prom
    doctor = _run(env, "doctor")
    assert doctor.returncode == 0, doctor.stdout
    assert "hosts     3 of 3 answering" in doctor.stdout
    for server, n in zip(three, served, strict=True):
        assert f"{server.url}: up, 0/1 in flight, 0 waiting, {n} served, 0 errors" in doctor.stdout


def test_a_killed_host_is_cooled_its_waiters_go_elsewhere_and_it_is_probed_back(
    tmp_path: Path, three: list[StandIn]
) -> None:
    env = _env(tmp_path, three)
    victim = three[0]
    procs = _asks(env, [f"question {n}" for n in range(8)])
    deadline = time.monotonic() + 60
    while not victim.requests.to("/api/chat"):  # it is answering someone: kill it mid-reply
        assert time.monotonic() < deadline, "no request ever reached the first host"
        time.sleep(0.01)
    time.sleep(0.3)
    victim.go_down()
    results = _finish(procs)
    cut = [r for r in results if r[0] != 0]
    assert len(cut) <= 1, results  # only the reply under way on the killed host
    assert all("cut off" in err for _, _, err in cut)
    assert all(out.strip() == REPLY for code, out, _ in results if code == 0)
    assert [s.max_concurrent for s in three] == [1, 1, 1]
    on_victim = len(victim.requests.to("/api/chat"))
    assert on_victim == 1  # nothing else reached it: the others took the waiting requests
    cooled = _events(tmp_path, "host_cooled")
    assert cooled and {e["host"] for e in cooled} == {victim.url}
    doctor = _run(env, "doctor")
    assert doctor.returncode == 0 and "warn  hosts     2 of 3 answering" in doctor.stdout
    assert f"{victim.url}: cooling for" in doctor.stdout or f"{victim.url}: down" in doctor.stdout

    victim.come_up()
    time.sleep(2.5)  # the longest cooldown is over
    results = _finish(_asks(env, [f"again {n}" for n in range(4)]))
    assert [code for code, _, _ in results] == [0] * 4, results
    assert victim.requests.to("/api/version"), "the host was not probed"
    assert len(victim.requests.to("/api/chat")) > on_victim  # back in
    assert [e["how"] for e in _events(tmp_path, "host_back")][-1:] in (["probe"], ["request"])
    assert [s.max_concurrent for s in three] == [1, 1, 1]
