"""`db copy --to`: SQLite -> Postgres -> a new SQLite, nothing lost, checked on both sides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from main import cli
from tests.clocks import FixedClock
from tests.pg_server import fresh_database
from utils.clock import SystemClock
from utils.context import Sample, calibration, reply_cache, summaries
from utils.rag import to_blob
from utils.store import NewChunk, NewDocument, PostgresStore, SqliteStore, Store
from utils.store.copy import TABLES, checksum
from utils.telemetry import QUEUE_WAIT, record_event


def _history(store: Store, clock: FixedClock) -> None:
    """A little of everything the schema holds (with unicode, blobs, NULLs and parts)."""
    for n in range(3):
        s = store.create_session("llama", title=f"talk {n} – ünïcode", system="be brief",
                                 options={"temperature": 0.2}, origin="chat")  # fmt: skip
        store.append_message(s.id, "user", f"question {n} with 'quotes' and %s and ?")
        reply = store.append_message(s.id, "assistant", "", status="partial", meta={"k": n})
        store.append_part(reply.id, "a reply cut ")
        if n:
            store.finish_reply(reply.id, f"answer {n} 🦓", "complete")
        store.update_message(reply.id, pinned=True, prompt_tokens=12, timings={"x": 1.5})
        summaries.save(store, s.id, f"summary {n}", (1, 2), 2, "llama", clock.now())
        clock.advance(10)
    store.acquire_lease(s.id, "holder", 600)
    store.archive_idle(0)
    calibration.record(store, Sample("llama", 10, 10, 13, 2048, s.id), False, clock.now())
    keys = reply_cache.keys("llama", {}, [{"role": "user", "content": "hi"}])
    reply_cache.put(store, keys, "llama", "cached", clock.now(), 10)
    record_event(store, QUEUE_WAIT, value=0.25, ahead=1)
    store.record_flow_run(batch_id="b1", line=1, flow_name="f", flow_file="f.yaml",
                          input_text="{}", output={"a": 1}, status="ok", error=None,
                          started_at="t0", finished_at="t1", duration_ms=1.25)  # fmt: skip
    vectors = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    chunks = tuple(NewChunk(i, 0, f"chunk {i}", f"h{i}") for i in range(3))
    store.rag_save("docs", "emb", [NewDocument("/a.txt", "d", 1.5, 3, chunks)],
                   {f"h{i}": to_blob(vectors[i]) for i in range(3)}, 4)  # fmt: skip
    key_id, _ = store.create_key("ci")
    run = store.create_run("run1", s.id, 1, key_id)
    store.append_run_events(run.id, [("token", {"t": "a"}), ("done", {})])
    store.set_run_status(run.id, "done", reply_id=2)


def _copy(data: Path, target: str, *extra: str, url: str | None = None) -> Result:
    env = {"POCKETCHAT_STORE_URL": url} if url else {}
    return CliRunner().invoke(cli, ["--data-dir", str(data), "db", "copy", "--to", target,
                                    *extra], env=env)  # fmt: skip


def _everything(store: Store) -> tuple[list[dict[str, Any]], dict[str, tuple[int, str]]]:
    sessions = store.list_sessions(limit=None, batch=True) + store.list_sessions(
        archived=True, limit=None, batch=True
    )
    exports = [store.export_json(s.id) for s in sorted(sessions, key=lambda s: s.id)]
    return exports, {t: checksum(store, t) for t in TABLES}


def test_sqlite_to_postgres_to_a_new_sqlite_loses_nothing(tmp_path: Path) -> None:
    clock = FixedClock()
    data = tmp_path / "data"
    data.mkdir()
    lite = SqliteStore.open(data / "pocketchat.db", clock)
    _history(lite, clock)
    lite.close()
    lite = SqliteStore.open(data / "pocketchat.db", clock)  # opening folds the reply parts
    before = _everything(lite)
    lite.close()
    url = fresh_database()
    there = _copy(data, url)
    assert there.exit_code == 0, there.output
    assert "every table matches" in there.output and "DIFFERS" not in there.output
    assert "messages" in there.output and "***" not in url  # the URL has no password here
    back = tmp_path / "again" / "copy.db"
    again = _copy(tmp_path / "other", str(back), url=url)
    assert again.exit_code == 0, again.output
    for path_or_url in (url, back):
        store: Store = (PostgresStore.open(url, SystemClock()) if path_or_url == url
                        else SqliteStore.open(back, SystemClock()))  # fmt: skip
        try:
            assert _everything(store) == before
            assert sum(n for n, _ in before[1].values()) >= 30
            s = store.list_sessions(archived=True, limit=1)[0]
            new = store.append_message(s.id, "user", "after the copy")  # ids move past
            assert new.id > max(m["id"] for e in before[0] for m in e["messages"])
            assert store.search("answer")  # full-text index built on the target
        finally:
            store.close()


def test_a_target_with_history_is_refused_unless_forced(tmp_path: Path) -> None:
    clock = FixedClock()
    data = tmp_path / "data"
    data.mkdir()
    lite = SqliteStore.open(data / "pocketchat.db", clock)
    lite.append_message(lite.create_session("m").id, "user", "mine")
    lite.close()
    url = fresh_database()
    other = PostgresStore.open(url, SystemClock())
    other.append_message(other.create_session("m").id, "user", "theirs")
    other.close()
    refused = _copy(data, url)
    assert refused.exit_code == 1
    assert "already holds history (sessions, messages)" in refused.output
    assert "Traceback" not in refused.output
    forced = _copy(data, url, "--force")
    assert forced.exit_code == 1 and "DIFFERS" in forced.output  # theirs is kept: not equal
    store = PostgresStore.open(url, SystemClock())
    try:
        texts = sorted(m.content for s in store.list_sessions() for m in store.messages(s.id))
        assert texts == ["mine", "theirs"] or texts == ["theirs"]  # same id: theirs kept
    finally:
        store.close()


@pytest.mark.parametrize("target", ["postgresql://nobody@127.0.0.1:1/x", "/proc/nope/x.db"])
def test_a_bad_target_is_one_line(tmp_path: Path, target: str) -> None:
    done = _copy(tmp_path / "data", target)
    assert done.exit_code == 1 and len(done.output.strip().splitlines()) == 1, done.output
