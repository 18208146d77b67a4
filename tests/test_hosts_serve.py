"""Several Ollama hosts, more real processes: `ask` goes to the host that has the model loaded,
and a `serve` process over two hosts answers runs on both and shows each host on `/metrics`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve_client import events, new_session
from tests.serve_proc import serving
from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent
MODEL = "llama3.2:1b"


@pytest.fixture
def two() -> Iterator[list[StandIn]]:
    servers = [StandIn(num_parallel=4).start() for _ in range(2)]
    for server in servers:
        server.reply = replies.fixed("alpha beta gamma delta")
        server.tokens_per_second = 20.0
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def _config(path: Path, servers: list[StandIn], extra: str = "") -> Path:
    entries = "".join(f"    - {{url: '{s.url}', slots: 1}}\n" for s in servers)
    path.write_text(f"ollama:\n  auto_pull: 'false'\n  hosts:\n{entries}{extra}")
    return path


def test_ask_goes_to_the_host_that_has_the_model_loaded(tmp_path: Path, two: list[StandIn]) -> None:
    two[1].loaded.begin(MODEL, 4096)  # in the second host's memory (its /api/ps says so)
    two[1].loaded.finish(MODEL, 300)
    config = _config(tmp_path / "c.yaml", two)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POCKETCHAT_", "OLLAMA_"))}
    env.update(POCKETCHAT_DATA_DIR=str(tmp_path / "data"), POCKETCHAT_CONFIG=str(config),
               HOME=str(tmp_path))  # fmt: skip
    for n in range(3):  # one after another: both hosts are free each time
        done = subprocess.run([sys.executable, "main.py", "ask", f"q{n}"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert (done.returncode, done.stdout.strip()) == (0, "alpha beta gamma delta"), done.stderr
    assert [len(s.requests.to("/api/chat")) for s in two] == [0, 3]


def test_serve_answers_on_both_hosts_and_shows_each_on_metrics(
    tmp_path: Path, two: list[StandIn]
) -> None:
    config = _config(tmp_path / "c.yaml", two, "serve:\n  turns_per_minute: 0\n")
    with serving(tmp_path / "d", None, config=config.read_text()) as running:
        url = running.url
        runs = []
        for n in range(4):  # at once: two slots, so both hosts answer
            session = new_session(url)
            resp = httpx.post(f"{url}/v1/sessions/{session}/messages",
                              json={"content": f"q{n}"}, timeout=10)  # fmt: skip
            assert resp.status_code == 202, resp.text
            runs.append(resp.json()["run_id"])
        for run_id in runs:
            assert events(url, run_id)[-1].data["status"] == "complete"
        served = [len(s.requests.to("/api/chat")) for s in two]
        assert sum(served) == 4 and min(served) >= 1, served
        assert [s.max_concurrent for s in two] == [1, 1]
        text = httpx.get(f"{url}/metrics", timeout=10).text
        for server, n in zip(two, served, strict=True):
            assert f'pocketchat_host_state{{host="{server.url}",state="up"}} 1.0' in text
            assert f'pocketchat_host_slots{{host="{server.url}"}} 1.0' in text
            assert f'pocketchat_host_in_flight{{host="{server.url}"}} 0.0' in text
            assert f'pocketchat_host_served_total{{host="{server.url}"}} {float(n)}' in text
