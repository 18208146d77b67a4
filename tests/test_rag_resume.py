"""A `rag ingest` killed midway keeps its embedding work (issue 14, item 8).

A real `rag ingest` process embeds 20 one-chunk files, two per request, against a stand-in that
takes 0.3 s per request; it is SIGKILLed once some batches are stored. The re-run sends the
stand-in only the texts that were not stored, and ends with every document in the collection.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.rag_support import embed_texts, open_store, write_docs
from tests.real_runs import ROOT, pocketchat
from tests.standin import Fault, StandIn
from tests.turn_kit import wait_for

FILES = {f"note{i:02d}.txt": f"Note number {i} is about topic {i * 7} and nothing else." for i in
         range(20)}  # fmt: skip
CONFIG = "rag:\n  chunk_size: 200\n  chunk_overlap: 0\n  embed_batch: 2\n"


def stored_embeddings(db: Path) -> int:
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM rag_embeddings").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created or migrated yet
        return 0


def test_a_killed_ingest_resumes_without_embedding_again(
    tmp_path: Path, standin: StandIn
) -> None:
    docs = write_docs(tmp_path / "docs", FILES)
    data = tmp_path / "data"
    config = tmp_path / "rag.yaml"
    config.write_text(CONFIG)
    standin.script_fault("embed", Fault.stall(0.3), count=100)
    env = {**os.environ, "HOME": str(tmp_path)}
    cmd = [sys.executable, str(ROOT / "main.py"), "--config", str(config), "--host", standin.url,
           "--data-dir", str(data), "rag", "ingest", str(docs), "--collection", "notes"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert wait_for(lambda: stored_embeddings(data / "pocketchat.db") >= 6, timeout=20)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    kept = stored_embeddings(data / "pocketchat.db")
    first_run = embed_texts(standin)
    assert 6 <= kept < len(FILES) and len(first_run) >= kept

    standin.requests.clear()
    standin.faults.clear()
    again = pocketchat(data, "rag", "ingest", str(docs), "--collection", "notes",
                       host=standin.url, config=config)  # fmt: skip
    assert again.returncode == 0, again.stderr
    second_run = embed_texts(standin)
    assert len(second_run) == len(FILES) - kept  # only what the killed run had not stored
    assert set(second_run) | set(first_run) == set(FILES.values())

    store = open_store(data)
    try:
        collection = store.rag_collection("notes")
        assert len(store.rag_documents(collection.id)) == len(FILES)
        assert stored_embeddings(data / "pocketchat.db") == len(FILES)
    finally:
        store.close()
