"""RAG retrieval: exact cosine top-k (numpy) at 10,000 and 100,000 chunks of 768 dimensions.

`run()` inserts synthetic random unit vectors (768 dims, like nomic-embed-text) straight into a
fresh database, then times, for each size: loading the collection's matrix once (cold), and a
query — top-4 over the cached matrix plus fetching the 4 chunks' text — median of 30. The
ratio 100k/10k shows how the query cost grows with the collection (a full scan; past the
CPU cache it is bound by memory bandwidth, so more than linear here).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import structlog

from bench.common import Row, row
from utils.clock import SystemClock
from utils.rag import vector_index
from utils.store import SqliteStore, iso

SIZES = (10_000, 100_000)
DIMS = 768
MODEL = "nomic-embed-text"
NOW = iso(1_735_689_600.0)


def _fill(store: SqliteStore, name: str, n: int, rng: np.random.Generator) -> int:
    conn = store.db.conn
    conn.execute("BEGIN IMMEDIATE")
    cid = conn.execute(
        "INSERT INTO rag_collections (name, embed_model, version, created_at, updated_at) "
        "VALUES (?, ?, 1, ?, ?)",
        [name, MODEL, NOW, NOW],
    ).lastrowid
    did = conn.execute(
        "INSERT INTO rag_documents (collection_id, path, content_hash, mtime, size, ingested_at)"
        " VALUES (?, ?, 'h', 0, 0, ?)",
        [cid, f"/bench/{name}.txt", NOW],
    ).lastrowid
    for start in range(0, n, 10_000):
        count = min(10_000, n - start)
        vectors = rng.standard_normal((count, DIMS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        hashes = [f"{name}-{start + i}" for i in range(count)]
        conn.executemany(
            "INSERT INTO rag_chunks (collection_id, document_id, ord, start_char, text, "
            "content_hash) VALUES (?, ?, ?, 0, ?, ?)",
            [(cid, did, start + i, f"chunk {start + i}", h) for i, h in enumerate(hashes)],
        )
        conn.executemany(
            "INSERT INTO rag_embeddings (content_hash, model, dims, vector, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(h, MODEL, DIMS, vectors[i].tobytes(), NOW) for i, h in enumerate(hashes)],
        )
    conn.execute("COMMIT")
    return int(cid or 0)


def run() -> list[Row]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    rng = np.random.default_rng(7)
    rows: list[Row] = []
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore.open(Path(tmp) / "bench.db", SystemClock())
        try:
            for n in SIZES:
                cid = _fill(store, f"c{n}", n, rng)
                vector_index.clear_cache()
                t0 = time.perf_counter()
                matrix = vector_index.matrix(store, cid, MODEL)
                load_ms = (time.perf_counter() - t0) * 1000
                queries = rng.standard_normal((30, DIMS)).astype(np.float32)
                times = []
                for q in queries:
                    t0 = time.perf_counter()
                    current = vector_index.matrix(store, cid, MODEL)  # the version check
                    hits = vector_index.top_k(current, q, 4)
                    store.rag_chunks([i for i, _ in hits])
                    times.append((time.perf_counter() - t0) * 1000)
                medians[n] = statistics.median(times)
                mib = matrix.vectors.nbytes / 2**20
                rows.append(row("rag_query", f"load matrix, {n:,} chunks", round(load_ms, 1),
                                "ms", f"once per process; {mib:,.0f} MiB float32"))  # fmt: skip
                rows.append(row("rag_query", f"query top-4, {n:,} chunks", round(medians[n], 3),
                                "ms", "median of 30; exact cosine + chunk fetch"))  # fmt: skip
        finally:
            store.close()
    ratio = medians[SIZES[1]] / medians[SIZES[0]]
    rows.append(row("rag_query", "query 100k / 10k", round(ratio, 2), "x",
                    "10x the chunks: a full scan, memory-bound past the CPU cache"))  # fmt: skip
    return rows
