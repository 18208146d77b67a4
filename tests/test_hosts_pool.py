"""Several Ollama hosts in one process, with the real parts: the settings, the composition
root's `HostPool` over `SqliteGate`s in a real `queue.db`, the cooldowns in a real `hosts.db`
and stand-in servers. Real processes are in test_hosts_processes.py."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import App
from config.settings import SettingsError, load_settings
from tests.standin import StandIn, replies
from utils.hosts import (
    Candidate,
    HostHealth,
    HostPool,
    HostSpec,
    HostTicket,
    NoHostForModel,
    choose,
    parse_hosts,
)

MODEL = "llama3.2:1b"


@pytest.fixture
def three() -> Iterator[list[StandIn]]:
    """Three stand-ins that would each take 4 at once: only pocketchat keeps them at 1."""
    servers = [StandIn(num_parallel=4).start() for _ in range(3)]
    for server in servers:
        server.reply = replies.fixed("one two three four five")
        server.tokens_per_second = 50.0
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _app(tmp_path: Path, servers: list[StandIn], extra: str = "", slots: int = 1) -> App:
    entries = "".join(f"    - {{url: '{s.url}', slots: {slots}}}\n" for s in servers)
    config = tmp_path / "hosts.yaml"
    config.write_text(
        f"data_dir: '{tmp_path / 'data'}'\nollama:\n  auto_pull: 'false'\n"
        f"  cooldown_seconds: 0.3\n  cooldown_max_seconds: 1.0\n  hosts:\n{entries}{extra}"
    )
    return App(config_file=str(config))


def _pool(app: App) -> HostPool:
    pool = app.host_pool()
    assert pool is not None
    return pool


def _ask(ticket: HostTicket, prompt: str = "hi") -> str:
    try:
        reply = ticket.llm.chat(MODEL, [{"role": "user", "content": prompt}]).text
        ticket.succeeded(MODEL)
        return reply
    finally:
        ticket.release()


# -- the settings ------------------------------------------------------------------------------
def test_each_bad_host_entry_is_one_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "ollama:\n  hosts:\n    - {url: 'http://a:1', slots: 0}\n    - {slots: 2}\n"
        "    - {url: 'http://b:1', models: llama3}\n    - {url: 'http://c:1', gpu: 1}\n"
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(config, env={})
    problems = caught.value.problems
    assert len(problems) == 4
    assert "'ollama.hosts[0]': 'slots' must be a whole number of at least 1, got 0" in problems[0]
    assert "'ollama.hosts[1]': 'url' must be an Ollama URL" in problems[1]
    assert "'ollama.hosts[2]': 'models' must be a list of model names" in problems[2]
    assert "'ollama.hosts[3]': unknown key 'gpu'" in problems[3]


def test_hosts_parse_like_host_and_one_server_twice_is_refused() -> None:
    specs = parse_hosts([{"url": "gpu1"}, {"url": "http://gpu2:8080/", "slots": 3,
                                            "models": ["Llama3.2"]}], default_slots=2)  # fmt: skip
    assert [(s.url, s.slots, s.models) for s in specs] == [
        ("http://gpu1:11434", 2, None),
        ("http://gpu2:8080", 3, ("llama3.2:latest",)),
    ]
    assert specs[1].serves("llama3.2") and not specs[1].serves("qwen2.5:0.5b")
    with pytest.raises(ValueError, match=r"hosts\[1\]: the same server as ollama.hosts\[0\]"):
        parse_hosts([{"url": "gpu1"}, {"url": "http://GPU1:11434"}])


def test_a_host_flag_means_that_one_server(tmp_path: Path, three: list[StandIn]) -> None:
    app = _app(tmp_path, three)
    assert app.host == three[0].url  # Deps.llm talks to the first host
    assert app.host_pool() is not None
    app.override(host=three[2].url)
    assert app.host_specs() == [] and app.host_pool() is None
    assert app.host == three[2].url
    app.close()


# -- the rule ----------------------------------------------------------------------------------
def test_the_loaded_model_first_then_the_fewest_in_flight_for_the_slots() -> None:
    a, b, c = (HostSpec(f"http://h{n}:1", slots) for n, slots in enumerate((1, 4, 2)))
    assert choose([Candidate(a, 1), Candidate(b, 4)]) is None  # nobody has a free slot
    got = choose([Candidate(a, 0), Candidate(b, 1), Candidate(c, 1, loaded=True)])
    assert got is not None and got.spec is c  # loaded beats emptier
    got = choose([Candidate(a, 0), Candidate(b, 3), Candidate(c, 1)])
    assert got is not None and got.spec is a  # 0/1 < 1/2 < 3/4


def test_ties_are_broken_at_random_not_to_the_first() -> None:
    specs = [HostSpec(f"http://h{n}:1", 1) for n in range(3)]
    rng = random.Random(7)
    picks = [choose([Candidate(s, 0) for s in specs], rng) for _ in range(300)]
    counts = [sum(1 for p in picks if p is not None and p.spec is s) for s in specs]
    assert all(70 <= n <= 130 for n in counts), counts


# -- the cooldowns -----------------------------------------------------------------------------
def test_cooldowns_double_up_to_the_cap_and_are_shared_through_the_file(tmp_path: Path) -> None:
    one = HostHealth(tmp_path / "hosts.db", base=1.0, cap=5.0)
    other = HostHealth(tmp_path / "hosts.db", base=1.0, cap=5.0)  # another process's connection
    seen = [one.failed("h", "refused", now=100.0).cooling_until - 100.0 for _ in range(5)]
    assert seen == [1.0, 2.0, 4.0, 5.0, 5.0]
    state = other.states(["h"])["h"]
    assert (state.failures, state.errors, state.state(104.0), state.state(105.0)) == (
        5, 5, "cooling", "down")  # fmt: skip
    assert other.claim_probe("h", 3.0, now=105.0)
    assert not one.claim_probe("h", 3.0, now=105.5)  # one prober at a time
    assert other.succeeded("h", served=False, now=106.0)  # it was failing: back
    state = one.states(["h"])["h"]
    assert (state.state(106.0), state.failures, state.served, state.errors) == ("up", 0, 0, 5)
    one.close()
    other.close()


# -- the pool, with real gates and stand-ins -----------------------------------------------------
def test_a_host_with_the_model_loaded_is_preferred(tmp_path: Path, three: list[StandIn]) -> None:
    app = _app(tmp_path, three[:2])
    pool = _pool(app)
    three[1].loaded.begin(MODEL, 4096)  # loaded at the second host only (as /api/ps says)
    three[1].loaded.finish(MODEL, 300)
    try:
        hosts = set()
        for _ in range(5):
            ticket = pool.route(MODEL, lambda position, eta: None)
            hosts.add(ticket.host)
            ticket.release()
        assert hosts == {three[1].url}
    finally:
        app.close()


def test_threads_spread_over_the_hosts_never_over_their_slots(
    tmp_path: Path, three: list[StandIn]
) -> None:
    app = _app(tmp_path, three)
    pool = _pool(app)
    replies_seen: list[str] = []

    def one(n: int) -> None:
        replies_seen.append(_ask(pool.route(MODEL, lambda position, eta: None), f"q{n}"))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(9)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert replies_seen == ["one two three four five"] * 9
        assert [s.max_concurrent for s in three] == [1, 1, 1]
        served = [len(s.requests.to("/api/chat")) for s in three]
        assert sum(served) == 9 and min(served) >= 2, served
        assert [h.served for h in pool.status()] == served
    finally:
        app.close()


def test_a_failing_host_is_cooled_passed_over_and_probed_back_in(
    tmp_path: Path, three: list[StandIn]
) -> None:
    app = _app(tmp_path, three[:2])
    pool = _pool(app)
    down, other = three[0], three[1]
    try:
        down.go_down()
        for _ in range(20):  # until a request lands on the dead host and fails
            ticket = pool.route(MODEL, lambda position, eta: None)
            if ticket.host == down.url:
                from utils.ollama import OllamaError

                with pytest.raises(OllamaError) as failed:
                    ticket.llm.chat(MODEL, [{"role": "user", "content": "hi"}])
                ticket.failed(failed.value)
            ticket.release()
            if pool.status()[0].state != "up":
                break
        status = pool.status()[0]
        assert (status.state, status.errors) == ("cooling", 1)
        assert "cooling for" in _line(pool)
        for _ in range(5):  # cooling: everything goes to the other host
            assert _ask_host(pool) == other.url
        _wait_state(pool, "down")
        errors = pool.status()[0].errors
        assert _ask_host(pool) == other.url  # the probe found it still down: longer cooldown
        assert pool.status()[0].state == "cooling" and pool.status()[0].errors == errors + 1
        down.come_up()
        _wait_state(pool, "down")
        probes = len(down.requests.to("/api/version"))
        busy = pool.route(MODEL, lambda position, eta: None)  # probes it back in first
        assert len(down.requests.to("/api/version")) == probes + 1
        assert pool.status()[0].state == "up"
        spare = pool.route(MODEL, lambda position, eta: None)  # one slot each: the other one
        assert {busy.host, spare.host} == {down.url, other.url}
        assert _ask(spare if spare.host == down.url else busy) == "one two three four five"
        busy.release()
        spare.release()
    finally:
        app.close()


def test_no_host_for_the_model_is_one_line(tmp_path: Path, three: list[StandIn]) -> None:
    entries = f"    - {{url: '{three[0].url}', models: [qwen2.5:0.5b]}}\n"
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: '{tmp_path / 'data'}'\nollama:\n  hosts:\n{entries}")
    app = App(config_file=str(config))
    try:
        with pytest.raises(NoHostForModel) as caught:
            _pool(app).route(MODEL, lambda position, eta: None)
        line = caught.value.user_line(app.host)
        assert line.startswith(f"No Ollama host serves {MODEL} (hosts: {three[0].url});")
        assert not caught.value.transient
    finally:
        app.close()


def _ask_host(pool: HostPool) -> str:
    ticket = pool.route(MODEL, lambda position, eta: None)
    _ask(ticket)
    return ticket.host


def _line(pool: HostPool) -> str:
    from utils.hosts import host_line

    return host_line(pool.status()[0])


def _wait_state(pool: HostPool, state: str, timeout: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while pool.status()[0].state != state:
        assert time.monotonic() < deadline, f"the host never became {state}"
        time.sleep(0.02)


def test_a_broken_hosts_file_costs_no_reply(tmp_path: Path, three: list[StandIn]) -> None:
    app = _app(tmp_path, three[:2])
    (tmp_path / "data").mkdir(mode=0o700, exist_ok=True)
    (tmp_path / "data" / "hosts.db").write_bytes(b"not a database at all, just some bytes..")
    pool = _pool(app)
    try:
        assert _ask_host(pool) in (three[0].url, three[1].url)
        assert pool.health.unavailable
        assert [s.state for s in pool.status()] == ["up", "up"]  # no cooldowns, as with one host
    finally:
        app.close()
