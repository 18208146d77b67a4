"""Keeping extracted facts: dedup by normalised text, then by similarity (an update of the
memory it repeats, never a second one), all in one write transaction. Afterwards the cached
matrix is brought up to date in place of a full reload (`index.store_updated`), so the
person's next recall does not decode every memory again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import structlog

from utils.memory import index, memories_sql
from utils.memory.memories_sql import NewFact
from utils.memory.text import normalise
from utils.rag import to_blob

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from utils.store import SqlConn, SqlStore

log = structlog.get_logger()


@dataclass(frozen=True)
class Kept:
    added: list[int]
    updated: list[int]
    version: int = 0  # the owner's version after the write
    rows: list[tuple[int, list[float], str]] = field(default_factory=list)  # id, vector, text


def keep_facts(
    store: SqlStore, scope: str, owner: str, facts: list[str], vectors: list[list[float]],
    model: str, source: tuple[int | None, str | None], at: float, dedup_similarity: float,
) -> Kept:  # fmt: skip
    """Store `facts` (with their vectors from `model`) for `owner`."""
    if len(facts) != len(vectors):
        raise ValueError(f"{len(facts)} facts but {len(vectors)} embeddings")
    existing = index.matrix(store, scope, owner, model)
    new = [NewFact(text, normalise(text), to_blob(vec), len(vec))
           for text, vec in zip(facts, vectors, strict=True)]  # fmt: skip

    def run(conn: SqlConn) -> Kept:
        found = conn.execute("SELECT version FROM memory_owners WHERE owner = ?", [owner])
        before = found.fetchone()
        version = int(before[0]) if before else 0
        added: list[int] = []
        updated: list[int] = []
        rows: list[tuple[int, list[float], str]] = []
        batch: list[tuple[int, NDArray[np.float32]]] = []  # rows added in this call, for dedup
        for fact, vec in zip(new, vectors, strict=True):
            target = memories_sql.by_norm(conn, owner, fact.norm)
            if target is None:
                target = _similar(existing, batch, vec, dedup_similarity)
            if target is not None:
                memories_sql.replace_fact(conn, target, fact, model, source, at)
                updated.append(target)
                rows.append((target, vec, fact.text))
                continue
            memory_id = memories_sql.insert(conn, owner, fact, model, source, at)
            batch.append((memory_id, index.to_vector(vec)))
            added.append(memory_id)
            rows.append((memory_id, vec, fact.text))
        if added or updated:
            memories_sql.bump(conn, owner)
            version += 1
        return Kept(added, updated, version, rows)

    kept = store.transaction(run)
    stated = [(memory_id, vec, text, at) for memory_id, vec, text in kept.rows]
    index.store_updated(scope, owner, model, existing, kept.version, stated)
    log.info("memories_kept", owner=owner, added=len(kept.added), updated=len(kept.updated))
    return kept


def _similar(
    existing: index.Matrix, batch: list[tuple[int, NDArray[np.float32]]], vec: list[float],
    threshold: float,
) -> int | None:  # fmt: skip
    best = index.nearest(existing, vec)
    q = index.to_vector(vec)
    for memory_id, row in batch:
        if row.shape == q.shape:
            cosine = float(row @ q)
            if best is None or cosine > best[1]:
                best = (memory_id, cosine)
    if best is not None and best[1] >= threshold:
        return best[0]
    return None
