"""Keeping extracted facts: dedup by normalised text, then by similarity (an update of the
memory it repeats, never a second one), all in one write transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import structlog

from utils.memory import index, memories_sql
from utils.memory.memories_sql import NewFact
from utils.memory.text import normalise

if TYPE_CHECKING:
    from utils.store import SqlStore

log = structlog.get_logger()


@dataclass(frozen=True)
class Kept:
    added: list[int]
    updated: list[int]


def keep_facts(
    store: SqlStore, scope: str, owner: str, facts: list[str], vectors: list[list[float]],
    model: str, source: tuple[int | None, str | None], at: float, dedup_similarity: float,
) -> Kept:  # fmt: skip
    """Store `facts` (with their vectors from `model`) for `owner`."""
    if len(facts) != len(vectors):
        raise ValueError(f"{len(facts)} facts but {len(vectors)} embeddings")
    existing = index.matrix(store, scope, owner, model)
    new = [NewFact(text, normalise(text), index.to_blob(vec), len(vec))
           for text, vec in zip(facts, vectors, strict=True)]  # fmt: skip

    def run(conn: sqlite3.Connection) -> Kept:
        added: list[int] = []
        updated: list[int] = []
        batch: list[tuple[int, np.ndarray]] = []  # rows added in this call, for dedup
        for fact, vec in zip(new, vectors, strict=True):
            target = memories_sql.by_norm(conn, owner, fact.norm)
            if target is None:
                target = _similar(existing, batch, vec, dedup_similarity)
            if target is not None:
                memories_sql.replace_fact(conn, target, fact, model, source, at)
                updated.append(target)
                continue
            memory_id = memories_sql.insert(conn, owner, fact, model, source, at)
            batch.append((memory_id, index.to_vector(vec)))
            added.append(memory_id)
        if added or updated:
            memories_sql.bump(conn, owner)
        return Kept(added, updated)

    kept = store.transaction(run)
    log.info("memories_kept", owner=owner, added=len(kept.added), updated=len(kept.updated))
    return kept


def _similar(
    existing: index.Matrix, batch: list[tuple[int, np.ndarray]], vec: list[float],
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
