"""Recall's index: an owner's memory vectors as one numpy matrix, kept per process.

The matrix for (database, owner, embedding model) is decoded from the BLOBs once and kept
while the owner's `memory_owners.version` is unchanged (one cheap query per turn checks it),
so a turn at 10,000 memories costs one matrix-vector product, not 10,000 BLOB decodes. Rank:
cosine (vectors are L2-normalised) plus `recency_weight * 0.5 ** (age_days / half_life)`,
age from when the memory was last stated (`updated_at`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import structlog

from utils.memory import memories_sql
from utils.rag import vector_index

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from utils.store import SqlStore

log = structlog.get_logger()


@dataclass(frozen=True)
class Matrix:
    version: int
    ids: NDArray[np.int64]
    vectors: NDArray[np.float32]  # (n, dims), rows L2-normalised
    stated: NDArray[np.float64]  # epoch seconds of each row's updated_at
    texts: tuple[str, ...]  # each row's text (a turn's prompt needs the few it recalls)

    def text(self, memory_id: int) -> str:
        return self.texts[int(np.searchsorted(self.ids, memory_id))]


@dataclass(frozen=True)
class Ranking:
    recency_weight: float = 0.1
    half_life_days: float = 30.0
    min_similarity: float = 0.0


_CACHE: dict[tuple[str, str, str], Matrix] = {}
_LOCK = threading.Lock()


def to_vector(values: list[float]) -> NDArray[np.float32]:
    """The vector as normalised float32 (its size is whatever the model returned)."""
    return vector_index.normalise(np.asarray(values, dtype=np.float32))


def matrix(store: SqlStore, scope: str, owner: str, model: str) -> Matrix:
    """The owner's matrix for `model`, from the cache while still current. `scope` names the
    database (its path), so two databases in one process never share an entry."""
    key = (scope, owner, model)
    version = memories_sql.version(store, owner)
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached.version == version:
        return cached
    rows = memories_sql.vectors(store, owner, model)
    vectors = (
        np.frombuffer(b"".join(rows.blobs), dtype=np.float32).reshape(len(rows.blobs), rows.dims)
        if rows.blobs
        else np.zeros((0, 0), dtype=np.float32)
    )
    stated = np.asarray([_epoch(s) for s in rows.stated], dtype=np.float64)
    ids = rows.ids
    loaded = Matrix(version, np.asarray(ids, dtype=np.int64), vectors, stated, tuple(rows.texts))
    with _LOCK:
        _CACHE[key] = loaded
    log.info("memory_matrix_loaded", owner=owner, model=model, rows=len(ids))
    return loaded


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def similarities(m: Matrix, q: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row's cosine with `q`. numpy's own einsum loop, not BLAS: a matrix-vector product
    is bound by memory, and OpenBLAS's threads only add start-up and contention (measured on
    2 busy cores at 10,000 x 768: einsum ~2 ms, `@` 6-18 ms)."""
    found: NDArray[np.float32] = np.einsum("ij,j->i", m.vectors, q)
    return found


def top_k(
    m: Matrix, query: list[float], k: int, now: float, ranking: Ranking
) -> list[tuple[int, float, float]]:
    """(memory id, score, cosine) of the `k` best rows, best first. A query of another size
    than the matrix (the embedding model changed size) finds nothing rather than failing."""
    if k <= 0 or len(m.ids) == 0:
        return []
    q = to_vector(query)
    if q.shape[0] != m.vectors.shape[1]:
        log.warning("memory_dims_mismatch", query=int(q.shape[0]), stored=int(m.vectors.shape[1]))
        return []
    cosine = similarities(m, q)
    age_days = np.maximum(0.0, now - m.stated) / 86400.0
    half_life = max(ranking.half_life_days, 1e-9)
    scores = cosine + ranking.recency_weight * np.power(0.5, age_days / half_life)
    scores = np.where(cosine >= ranking.min_similarity, scores, -np.inf)
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = sorted(best.tolist(), key=lambda i: (-float(scores[i]), int(m.ids[i])))
    return [(int(m.ids[i]), float(scores[i]), float(cosine[i]))
            for i in order if np.isfinite(scores[i])]  # fmt: skip


def nearest(m: Matrix, query: list[float]) -> tuple[int, float] | None:
    """The most similar memory and its cosine (for dedup), or None."""
    if len(m.ids) == 0:
        return None
    q = to_vector(query)
    if q.shape[0] != m.vectors.shape[1]:
        return None
    cosine = similarities(m, q)
    i = int(np.argmax(cosine))
    return int(m.ids[i]), float(cosine[i])


def store_updated(
    scope: str, owner: str, model: str, old: Matrix, version: int,
    rows: list[tuple[int, list[float], str, float]],
) -> None:  # fmt: skip
    """After a write that took `old`'s version to `version` (nobody else wrote between):
    cache `old` with `rows` (id, vector, text, stated) replaced or appended, so the next
    recall finds a current matrix instead of decoding every BLOB again."""
    if old.version != version - 1 or not rows:
        return
    rows = list({memory_id: (memory_id, vec, text, at)
                 for memory_id, vec, text, at in rows}.values())  # the last word per memory
    dims = old.vectors.shape[1] if len(old.ids) else len(rows[0][1])
    if any(len(vec) != dims for _, vec, _, _ in rows):
        return  # another size: the next recall reloads
    ids, texts = old.ids.tolist(), list(old.texts)
    vectors = old.vectors.copy() if len(old.ids) else np.zeros((0, dims), dtype=np.float32)
    stated = old.stated.copy()
    where = {memory_id: i for i, memory_id in enumerate(ids)}
    added: list[NDArray[np.float32]] = []
    for memory_id, vec, text, at in rows:
        i = where.get(memory_id)
        if i is None:
            ids.append(memory_id)
            texts.append(text)
            added.append(to_vector(vec))
            stated = np.append(stated, at)
            continue
        vectors[i], texts[i], stated[i] = to_vector(vec), text, at
    if added:
        vectors = np.vstack([vectors, np.stack(added)])
    order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")  # ids stay sorted
    fresh = Matrix(version, np.asarray(ids, dtype=np.int64)[order], vectors[order],
                   stated[order], tuple(texts[i] for i in order))  # fmt: skip
    with _LOCK:
        _CACHE[(scope, owner, model)] = fresh


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
