"""The Postgres store beyond the contract suite: a whole turn in real processes, `db status` /
`db migrate`, the helpers' SQL giving the same answers as on SQLite, pgvector and its fallback,
writers that race, bad URLs, and the private server leaving nothing running.

Every test gets a new database on the test process's private server (tests/pg_server.py).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from main import cli
from tests.clocks import FixedClock
from tests.pg_server import fresh_database
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.context import Sample, calibration, reply_cache, summaries
from utils.queue import rate_limit
from utils.rag import to_blob, top_k, vector_index
from utils.store import NewChunk, NewDocument, PostgresStore, SqliteStore, Store, StoreError, iso
from utils.store.postgres.pg_migrations import MIGRATIONS
from utils.telemetry import MODEL_LOAD, QUEUE_WAIT, collect, record_event

ROOT = Path(__file__).resolve().parent.parent


def _run(url: str, standin_url: str, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POCKETCHAT_STORE_URL": url}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--host", standin_url, "--data-dir", str(data),
         *args],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_a_whole_turn_in_real_processes_is_stored_in_postgres(
    standin: StandIn, tmp_path: Path
) -> None:
    url = fresh_database()
    first = _run(url, standin.url, tmp_path / "d", "ask", "--json", "hello there")
    assert first.returncode == 0, first.stderr
    again = _run(url, standin.url, tmp_path / "d", "ask", "--json", "-c", "and again")
    assert again.returncode == 0, again.stderr
    sid = json.loads(first.stdout)["session_id"]
    assert json.loads(again.stdout)["session_id"] == sid
    assert json.loads(again.stdout)["reply"].endswith("You sent 3 message(s).")
    assert not (tmp_path / "d" / "pocketchat.db").exists()  # nothing went to SQLite
    store = PostgresStore.open(url, SystemClock())
    try:
        got = [(m.seq, m.role, m.status) for m in store.messages(sid)]
        assert got == [(1, "user", "complete"), (2, "assistant", "complete"),
                       (3, "user", "complete"), (4, "assistant", "complete")]  # fmt: skip
        assert calibration.load(store, "llama3.2:1b").samples == 2
        assert reply_cache.size(store) == 2
        kinds = {r[0] for r in store.db.execute("SELECT kind FROM events").fetchall()}
        assert "queue_wait" in kinds and "first_token" in kinds
        assert store.search("again")[0].session_id == sid
    finally:
        store.close()
    stats = _run(url, standin.url, tmp_path / "d", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["replies"] == 2


def test_db_status_and_migrate_on_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_database()
    monkeypatch.setenv("POCKETCHAT_STORE_URL", url)
    before = CliRunner().invoke(cli, ["db", "status", "--json"])
    assert before.exit_code == 0, before.output
    status = json.loads(before.output)
    names = [m.name for m in MIGRATIONS]
    assert names[:2] == ["p001_baseline", "p002_pgvector"]
    assert status["pending"] == names and status["applied"] == []
    assert status["path"].startswith("postgresql://") and "?host=" in status["path"]
    done = CliRunner().invoke(cli, ["db", "migrate"])
    assert done.output.splitlines() == [f"applied {name}" for name in names]
    assert CliRunner().invoke(cli, ["db", "migrate"]).output.strip() == "database is up to date"
    after = json.loads(CliRunner().invoke(cli, ["db", "status", "--json"]).output)
    assert [a["name"] for a in after["applied"]] == names
    assert after["pending"] == [] and after["schema_version"] == len(names)


def _seed(store: Store, clock: FixedClock) -> dict[str, Any]:
    """The same history through every helper; what each reads back."""
    old = store.create_session("m")
    store.append_message(old.id, "user", "long ago")
    store.append_message(old.id, "assistant", "answer")
    clock.advance_days(3)
    store.append_message(old.id, "user", "back again")
    store.append_message(old.id, "assistant", "cut off", status="partial")
    clock.advance(1)
    new = store.create_session("m")
    store.append_message(new.id, "user", "q1")
    store.append_message(new.id, "assistant", "cached", meta={"cached": "faq"})
    store.append_message(new.id, "user", "q2")
    trimmed = {"context": {"dropped": 3, "cut": False}, "truncated": True}
    store.append_message(new.id, "assistant", "trimmed", meta=trimmed)
    store.append_message(new.id, "assistant", "old", meta={"superseded": True})
    reply = store.append_message(new.id, "assistant", "", status="partial")
    store.append_part(reply.id, "half ")
    store.append_part(reply.id, "a reply")
    for wait, ahead in ((0.0, 0), (2.0, 1), (4.0, 3)):
        record_event(store, QUEUE_WAIT, value=wait, ahead=ahead)
    record_event(store, MODEL_LOAD, value=1.5, source="warmup")
    summaries.save(store, new.id, "they asked twice", (1, 3), 3, "m", clock.now())
    sample = Sample("m", raw=100, estimated=100, actual=120, num_ctx=2048, session_id=new.id)
    calibration.record(store, sample, False, clock.now())
    calibration.record(store, sample, True, clock.now())
    keys = reply_cache.keys("m", {"seed": 1}, [{"role": "user", "content": "q1"}])
    reply_cache.put(store, keys, "m", "cached reply", clock.now(), max_entries=5)
    reply_cache.note_hit(store, keys.prompt_key, keys.key, clock.now())
    latest = summaries.latest(store, new.id)
    hit = reply_cache.lookup(store, keys.key)
    return {
        "metrics": collect(store, iso(0)),
        "uncovered": summaries.uncovered(store, new.id, 0, 99),
        "summary": latest and (latest.text, latest.covers_to_seq),
        "calibration": calibration.load(store, "m"),
        "truncated": calibration.session_was_truncated(store, new.id),
        "errors": calibration.estimate_error_by_model(store),
        "cache": hit and (hit.reply, reply_cache.size(store)),
        "turn_times": rate_limit.recent_turn_times(store, new.id, 10),
        "sessions": [(s.messages, s.status) for s in store.list_sessions(limit=None)],
        "export": [{k: v for k, v in m.items() if k != "session_id"}
                   for m in store.export_json(new.id)["messages"]],
    }


def test_the_helpers_sql_answers_the_same_on_both(tmp_path: Path) -> None:
    sqlite_clock, pg_clock = FixedClock(), FixedClock()
    lite = SqliteStore.open(tmp_path / "p.db", sqlite_clock)
    pg = PostgresStore.open(fresh_database(), pg_clock)
    try:
        got = [_seed(lite, sqlite_clock), _seed(pg, pg_clock)]
    finally:
        lite.close()
        pg.close()
    assert got[0] == got[1]
    assert got[1]["metrics"]["rates"]["cache_hit"] == 0.1667  # 1 of 6 replies
    assert got[1]["metrics"]["rates"]["context_truncation"] > 0
    assert [t.content for t in got[1]["uncovered"]] == ["q1", "cached", "q2", "trimmed",
                                                     "half a reply"]  # fmt: skip


def _collection(store: Store, rng: np.random.Generator, n: int, dims: int) -> tuple[int, Any]:
    vectors = rng.normal(size=(n, dims)).astype(np.float32)
    chunks = tuple(NewChunk(ord=i, start_char=0, text=f"chunk {i}", content_hash=f"h{i}")
                   for i in range(n))  # fmt: skip
    doc = NewDocument(path="/docs/a.txt", content_hash="d", mtime=0.0, size=1, chunks=chunks)
    blobs = {f"h{i}": to_blob(vectors[i]) for i in range(n)}
    found = store.rag_save("c", "emb", [doc], blobs, dims)
    return found.id, vectors


def test_pgvector_finds_what_the_in_process_search_finds() -> None:
    store = PostgresStore.open(fresh_database(), SystemClock())
    try:
        assert store.has_vectors
        rng = np.random.default_rng(7)
        cid, vectors = _collection(store, rng, 300, 16)
        indexes = [r[0] for r in store.db.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'rag_embeddings'").fetchall()]
        assert any("hnsw" in d and "vector(16)" in d for d in indexes), indexes
        exact = top_k(vector_index.matrix(store, cid, "emb"), vectors[5] + 0.01, 10)
        near = store.rag_nearest(cid, "emb", list(map(float, vectors[5] + 0.01)), 10)
        assert near is not None and near[0][0] == exact[0][0]
        assert len({i for i, _ in near} & {i for i, _ in exact}) >= 8  # approximate, not exact
        assert abs(near[0][1] - exact[0][1]) < 1e-4
        with pytest.raises(ValueError, match="3 dimensions"):
            store.rag_nearest(cid, "emb", [1.0, 0.0, 0.0], 3)
    finally:
        store.close()


def test_without_pgvector_the_search_stays_in_process() -> None:
    store = PostgresStore.open(fresh_database(), SystemClock(), vectors=False)
    try:
        assert not store.has_vectors
        columns = store.db.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'rag_embeddings'"
        ).fetchall()
        assert "embedding" not in {r[0] for r in columns}
        cid, vectors = _collection(store, np.random.default_rng(3), 50, 8)
        assert store.rag_nearest(cid, "emb", list(map(float, vectors[0])), 3) is None
        best = top_k(vector_index.matrix(store, cid, "emb"), vectors[0], 3)
        assert store.rag_chunks([best[0][0]])[best[0][0]].text == "chunk 0"
    finally:
        store.close()


def test_writers_on_two_pools_never_take_the_same_seq() -> None:
    url = fresh_database()
    stores = [PostgresStore.open(url, SystemClock(), pool_size=3) for _ in range(2)]
    session = stores[0].create_session("m")
    errors: list[BaseException] = []

    def write(store: PostgresStore, n: int) -> None:
        try:
            for i in range(15):
                store.append_message(session.id, "user", f"{n}-{i}")
                if random.random() < 0.3:
                    store.acquire_lease(session.id, f"h{n}", 5)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(stores[n % 2], n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        seqs = [m.seq for m in stores[1].messages(session.id)]
        assert seqs == list(range(1, 61))
    finally:
        for s in stores:
            s.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://x@localhost/db", "is not a Postgres URL"),
        ("postgresql://someone:secret@127.0.0.1:1/x", "cannot connect to Postgres at"),
    ],
)
def test_a_bad_store_url_is_one_line(url: str, says: str, tmp_path: Path) -> None:
    done = _run(url, "http://127.0.0.1:9", tmp_path / "d", "sessions", "list")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr


def test_the_opened_store_says_where_it_is_without_the_password() -> None:
    url = fresh_database()
    with_password = url.replace("postgres:@", "postgres:hunter2@")
    with pytest.raises(StoreError) as info:  # the server has no such password rule: trust
        PostgresStore.open(with_password.replace("/t_", "/missing_t_"), SystemClock())
    assert "hunter2" not in str(info.value) and "***" in str(info.value)


def test_the_private_server_leaves_nothing_running() -> None:
    code = (
        "from tests import pg_server\n"
        "import psycopg\n"
        "url = pg_server.fresh_database()\n"
        "psycopg.connect(url).close()\n"
        "where = pg_server.data_dir()\n"
        "pid = int((where / 'data' / 'postmaster.pid').read_text().split()[0])\n"
        "pg_server.stop()\n"
        "print(pid, where)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pid, where = done.stdout.split()
    assert not Path(where).exists()
    assert not _running(int(pid))


def _running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie waiting for init to reap it is not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] not in ("Z", "X")


def test_doctor_reports_the_postgres_store_and_its_vector_search(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = fresh_database()
    PostgresStore.open(url, SystemClock()).close()  # migrated
    monkeypatch.setenv("POCKETCHAT_STORE_URL", url)
    done = CliRunner().invoke(cli, ["--host", standin.url, "--data-dir", str(tmp_path / "d"),
                                    "doctor"])  # fmt: skip
    assert done.exit_code == 0, done.output
    lines = {line.split()[1]: line for line in done.output.splitlines()}
    assert lines["database"].startswith("ok") and "postgresql://" in lines["database"]
    assert f"schema {len(MIGRATIONS)}" in lines["database"]
    assert "pgvector in Postgres" in lines["search"]
    monkeypatch.setenv("POCKETCHAT_STORE_URL", "postgresql://u:pw@127.0.0.1:1/x")
    down = CliRunner().invoke(cli, ["--host", standin.url, "--data-dir", str(tmp_path / "d"),
                                    "doctor"])  # fmt: skip
    assert down.exit_code == 1
    lines = {line.split()[1]: line for line in down.output.splitlines()}
    assert lines["database"].startswith("fail") and "cannot connect" in lines["database"]
    assert lines["search"].startswith("warn") and "pw" not in down.output
