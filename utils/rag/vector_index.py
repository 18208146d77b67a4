"""Exact top-k cosine search over a collection's embeddings, with numpy.

Vectors are stored L2-normalised as float32 BLOBs, so cosine is a dot product. A collection's
matrix is loaded once per process and kept while the collection's `version` is unchanged (one
cheap query per search checks it); any ingest or drop bumps the version and the next search
reloads. sqlite-vec would need an SQLite that loads extensions: `sqlite_vec_status()` says
whether this one can; pocketchat uses numpy either way (see docs/rag.md).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import structlog

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from utils.store import Store

log = structlog.get_logger()


@dataclass(frozen=True)
class Matrix:
    version: int
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]  # (n, dims), rows L2-normalised


_CACHE: dict[tuple[str, int, str], Matrix] = {}
_LOCK = threading.Lock()


def to_blob(vector: list[float] | NDArray[np.float32]) -> bytes:
    """A vector as a normalised float32 BLOB."""
    array = normalise(np.asarray(vector, dtype=np.float32))
    return array.tobytes()


def normalise(array: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(array))
    return array / norm if norm > 0 else array


def matrix(store: Store, collection_id: int, model: str) -> Matrix:
    """The collection's matrix for `model`, from the cache while still current."""
    key = (str(store.path), collection_id, model)
    version = store.rag_version(collection_id)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached.version == version:
            return cached
    ids, blobs, dims = store.rag_vectors(collection_id, model)
    vectors = (
        np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), dims)
        if blobs
        else np.zeros((0, 0), dtype=np.float32)
    )
    loaded = Matrix(version or 0, np.asarray(ids, dtype=np.int64), vectors)
    with _LOCK:
        _CACHE[key] = loaded
    log.info("rag_matrix_loaded", collection_id=collection_id, model=model, rows=len(ids))
    return loaded


def top_k(m: Matrix, query: list[float] | NDArray[np.float32], k: int) -> list[tuple[int, float]]:
    """(chunk id, cosine) of the `k` best rows, best first (ties: lower id first)."""
    if k <= 0 or len(m.ids) == 0:
        return []
    q = normalise(np.asarray(query, dtype=np.float32))
    if q.shape[0] != m.vectors.shape[1]:
        raise ValueError(
            f"the query vector has {q.shape[0]} dimensions, the collection {m.vectors.shape[1]}"
        )
    scores = m.vectors @ q
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = sorted(best.tolist(), key=lambda i: (-float(scores[i]), int(m.ids[i])))
    return [(int(m.ids[i]), float(scores[i])) for i in order]


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def sqlite_vec_status() -> tuple[bool, str]:
    """(usable, why): sqlite-vec needs `enable_load_extension` and the sqlite_vec package."""
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        return False, "this Python's sqlite3 cannot load extensions; using numpy exact search"
    try:
        import sqlite_vec  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False, "the sqlite-vec package is not installed; using numpy exact search"
    return True, "sqlite-vec could be loaded; pocketchat still uses numpy exact search"
