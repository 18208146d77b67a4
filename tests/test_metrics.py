"""Metric queries over seeded history, the stats command, and asks queued across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from tests.clocks import FixedClock
from tests.standin import StandIn
from utils.context import Sample, calibration
from utils.store import SqliteStore, Store, iso
from utils.telemetry import MODEL_LOAD, QUEUE_WAIT, collect, record_event

ROOT = Path(__file__).resolve().parent.parent


def _seed(path: Path) -> Store:
    clock = FixedClock()
    store = SqliteStore.open(path, clock)
    old = store.create_session("m")
    store.append_message(old.id, "user", "long ago")
    store.append_message(old.id, "assistant", "answer")
    clock.advance_days(3)  # the session lies idle, then comes back
    store.append_message(old.id, "user", "back again")  # resurrected
    store.append_message(old.id, "assistant", "cut off", status="partial")
    new = store.create_session("m")
    store.append_message(new.id, "user", "q1")
    store.append_message(new.id, "assistant", "cached", meta={"cached": "faq"})
    store.append_message(new.id, "user", "q2")
    store.append_message(
        new.id,
        "assistant",
        "trimmed",
        meta={"context": {"dropped": 3, "cut": False}, "truncated": True},
    )
    store.append_message(new.id, "user", "q3")
    store.append_message(new.id, "assistant", "stopped", status="interrupted")
    for wait, ahead in ((0.0, 0), (2.0, 1), (4.0, 3)):
        record_event(store, QUEUE_WAIT, value=wait, ahead=ahead)
    record_event(store, MODEL_LOAD, value=1.5, source="warmup")
    return store


def test_rates_and_distributions(tmp_path: Path) -> None:
    store = _seed(tmp_path / "p.db")
    f = collect(store, iso(0))
    assert f["replies"] == 5
    assert f["rates"] == {"cache_hit": 0.2, "streaming_disconnect": 0.2, "interrupted": 0.2,
                          "context_truncation": 0.2, "context_trimmed": 0.2,
                          "session_resurrection": 0.2}  # fmt: skip
    q = f["queue"]
    assert (q["requests"], q["waited"], q["depth_max"]) == (3, 2, 3)
    assert q["wait_seconds"]["p50"] == 2.0 and q["wait_seconds"]["max"] == 4.0
    assert f["model_load_seconds"]["count"] == 1
    later = collect(store, iso(FixedClock().now() + 86400))  # only the last three days
    assert later["replies"] == 4 and later["rates"]["session_resurrection"] == 0.25
    store.close()


def test_stats_command_text_json_and_prometheus(tmp_path: Path) -> None:
    from main import cli

    data = tmp_path / "data"
    data.mkdir()
    store = _seed(data / "pocketchat.db")
    sample = Sample("m", raw=100, estimated=110, actual=100, num_ctx=4096)
    calibration.record(store, sample, False, 0.0)
    store.close()
    base = ["--data-dir", str(data), "stats", "--since", "all"]
    text = CliRunner().invoke(cli, base)
    assert text.exit_code == 0, text.output
    assert "cache hit rate: 20.0%" in text.output
    assert "streaming disconnect rate: 20.0% (the stream broke)" in text.output
    assert "interrupted rate: 20.0% (stopped with Ctrl+C)" in text.output
    assert "token estimate error (last 20 turns): m 10.0%" in text.output
    as_json = CliRunner().invoke(cli, [*base, "--json"])
    assert json.loads(as_json.output)["queue"]["depth_max"] == 3
    prom = CliRunner().invoke(cli, [*base, "--prometheus"])
    assert 'pocketchat_rate{rate="session_resurrection"} 0.2' in prom.output
    assert "pocketchat_queue_wait_seconds_count 3.0" in prom.output
    assert 'pocketchat_token_estimate_error_percent{model="m"} 10.0' in prom.output
    bad = CliRunner().invoke(cli, ["--data-dir", str(data), "stats", "--since", "soon"])
    assert bad.exit_code == 2 and "not a duration" in bad.output


def test_three_asks_at_once_reach_ollama_one_at_a_time(tmp_path: Path, standin: StandIn) -> None:
    standin.slots.num_parallel = 4  # the server would take them together; the queue must not
    standin.tokens_per_second = 40.0
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POCKETCHAT_DATA_DIR": str(tmp_path / "d")}
    procs = [
        subprocess.Popen([sys.executable, "main.py", "--host", standin.url, "ask", f"hello {i}"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for i in range(3)
    ]  # fmt: skip
    for p in procs:
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
        assert "stand-in" in out
    assert len(standin.requests.to("/api/chat")) == 3
    assert standin.max_concurrent == 1
