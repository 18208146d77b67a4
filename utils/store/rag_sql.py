"""The RAG half of `SqliteStore`: collections, documents, chunks and embeddings (made by m005).

Embeddings are keyed by (chunk content hash, model), not by chunk: text seen before — in an
unchanged file, a moved file or another collection — is never embedded again. Every change to a
collection bumps its `version`, which is how a cached vector matrix knows it is stale.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence

import structlog

from utils.store.base import StoreBase
from utils.store.models import StoreError
from utils.store.rag_models import (
    ChunkRecord,
    Collection,
    CollectionNotFound,
    NewDocument,
    StoredDocument,
)
from utils.store.sql_seam import SqlConn

log = structlog.get_logger()

_COLLECTION_SQL = (
    "SELECT c.*, (SELECT count(*) FROM rag_documents d WHERE d.collection_id = c.id) AS documents,"
    " (SELECT count(*) FROM rag_chunks k WHERE k.collection_id = c.id) AS chunks"
    " FROM rag_collections c"
)


def _collection(row: sqlite3.Row) -> Collection:
    return Collection(
        id=row["id"], name=row["name"], embed_model=row["embed_model"], version=row["version"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        documents=row["documents"], chunks=row["chunks"],
    )  # fmt: skip


class RagMixin(StoreBase):
    def rag_collections(self) -> list[Collection]:
        return [_collection(r) for r in self._rows(f"{_COLLECTION_SQL} ORDER BY c.name", [])]

    def rag_find_collection(self, name: str) -> Collection | None:
        rows = self._rows(f"{_COLLECTION_SQL} WHERE c.name = ?", [name])
        return _collection(rows[0]) if rows else None

    def rag_collection(self, name: str) -> Collection:
        found = self.rag_find_collection(name)
        if found is None:
            known = ", ".join(c.name for c in self.rag_collections()) or "none yet"
            raise CollectionNotFound(
                f"no collection '{name}' (collections: {known}); "
                f"create it with `rag ingest PATH --collection {name}`"
            )
        return found

    def rag_documents(self, collection_id: int) -> dict[str, StoredDocument]:
        rows = self._rows(
            "SELECT id, path, content_hash, mtime, size FROM rag_documents WHERE collection_id = ?",
            [collection_id],
        )
        return {r["path"]: StoredDocument(r["id"], r["path"], r["content_hash"], r["mtime"],
                                          r["size"]) for r in rows}  # fmt: skip

    def rag_embedded(self, hashes: Iterable[str], model: str) -> set[str]:
        """Which of `hashes` already have an embedding from `model`."""
        wanted = sorted(set(hashes))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self.db.conn.execute(
                f"SELECT content_hash FROM rag_embeddings WHERE model = ? "
                f"AND content_hash IN ({marks})",
                [model, *part],
            ).fetchall()
            found.update(r[0] for r in rows)
        return found

    def rag_keep_embeddings(self, model: str, vectors: Mapping[str, bytes], dims: int) -> None:
        """Store a finished batch of embeddings at once (its own transaction), so an ingest
        killed later re-embeds none of them: `rag_embedded` finds them on the re-run. Rows no
        chunk uses yet are harmless (keyed by content) and `rag drop` clears unused ones."""
        if not vectors:
            return
        now = self._now()
        self._write(
            lambda conn: conn.executemany(
                "INSERT INTO rag_embeddings (content_hash, model, dims, vector, "
                "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(h, model, dims, blob, now) for h, blob in vectors.items()],
            )
        )

    def rag_save(
        self,
        name: str,
        model: str,
        documents: Sequence[NewDocument],
        vectors: Mapping[str, bytes],
        dims: int,
        removed: Sequence[str] = (),
    ) -> Collection:
        """In one transaction: create the collection if new, store new embeddings, replace
        each document (and its chunks), forget `removed` paths, bump the version."""
        now = self._now()

        def save(conn: SqlConn) -> None:
            row = conn.execute(
                "SELECT id, embed_model FROM rag_collections WHERE name = ?", [name]
            ).fetchone()
            if row is None:
                cid = int(conn.execute(
                    "INSERT INTO rag_collections (name, embed_model, version, created_at, "
                    "updated_at) VALUES (?, ?, 0, ?, ?) RETURNING id",
                    [name, model, now, now],
                ).fetchone()[0])  # fmt: skip
            else:
                cid = int(row[0])
                if row[1] and row[1] != model:
                    raise StoreError(
                        f"collection '{name}' was embedded with {row[1]}, not {model}; "
                        f"use that model or `rag drop {name}` first"
                    )
            conn.executemany(
                "INSERT INTO rag_embeddings (content_hash, model, dims, vector, "
                "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(h, model, dims, blob, now) for h, blob in vectors.items()],
            )
            gone = [*removed, *(d.path for d in documents)]
            conn.executemany(
                "DELETE FROM rag_documents WHERE collection_id = ? AND path = ?",
                [(cid, path) for path in gone],
            )
            for doc in documents:
                did = int(conn.execute(
                    "INSERT INTO rag_documents (collection_id, path, content_hash, mtime, size, "
                    "ingested_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    [cid, doc.path, doc.content_hash, doc.mtime, doc.size, now],
                ).fetchone()[0])  # fmt: skip
                conn.executemany(
                    "INSERT INTO rag_chunks (collection_id, document_id, ord, start_char, text, "
                    "content_hash) VALUES (?, ?, ?, ?, ?, ?)",
                    [(cid, did, c.ord, c.start_char, c.text, c.content_hash) for c in doc.chunks],
                )
            conn.execute(
                "UPDATE rag_collections SET version = version + 1, updated_at = ?, "
                "embed_model = coalesce(embed_model, ?) WHERE id = ?",
                [now, model, cid],
            )

        self._write(save)
        log.info("rag_saved", collection=name, documents=len(documents), removed=len(removed),
                 new_embeddings=len(vectors))  # fmt: skip
        return self.rag_collection(name)

    def rag_drop(self, name: str) -> Collection:
        """Delete a collection with its documents and chunks, and embeddings no chunk uses."""
        collection = self.rag_collection(name)

        def drop(conn: SqlConn) -> None:
            conn.execute("DELETE FROM rag_collections WHERE id = ?", [collection.id])
            conn.execute(
                "DELETE FROM rag_embeddings WHERE content_hash NOT IN "
                "(SELECT content_hash FROM rag_chunks)"
            )

        self._write(drop)
        log.info("rag_dropped", collection=name, chunks=collection.chunks)
        return collection

    def rag_vectors(self, collection_id: int, model: str) -> tuple[list[int], list[bytes], int]:
        """(chunk ids, float32 blobs, dims) of every embedded chunk, in chunk id order."""
        rows = self.db.conn.execute(
            "SELECT k.id, e.vector, e.dims FROM rag_chunks k JOIN rag_embeddings e "
            "ON e.content_hash = k.content_hash AND e.model = ? "
            "WHERE k.collection_id = ? ORDER BY k.id",
            [model, collection_id],
        ).fetchall()
        dims = int(rows[0][2]) if rows else 0
        return [int(r[0]) for r in rows], [bytes(r[1]) for r in rows], dims

    def rag_version(self, collection_id: int) -> int | None:
        row = self.db.conn.execute(
            "SELECT version FROM rag_collections WHERE id = ?", [collection_id]
        ).fetchone()
        return int(row[0]) if row else None

    def rag_chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT k.id, d.path, k.ord, k.text FROM rag_chunks k "
            f"JOIN rag_documents d ON d.id = k.document_id WHERE k.id IN ({marks})",
            list(ids),
        )
        return {r["id"]: ChunkRecord(r["id"], r["path"], r["ord"], r["text"]) for r in rows}

    def rag_nearest(
        self, collection_id: int, model: str, query: Sequence[float], k: int
    ) -> list[tuple[int, float]] | None:
        """None: SQLite has no vector search of its own (the caller uses numpy)."""
        return None

    def rag_text_search(self, collection_id: int, query: str, limit: int) -> list[int]:
        """Chunk ids matching any word of `query` (FTS5, best bm25 first)."""
        words = [w for w in query.split() if any(ch.isalnum() for ch in w)]
        match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        if not match:
            return []
        rows = self.db.conn.execute(
            "SELECT k.id FROM rag_chunks_fts f JOIN rag_chunks k ON k.id = f.rowid "
            "WHERE rag_chunks_fts MATCH ? AND k.collection_id = ? ORDER BY f.rank, k.id LIMIT ?",
            [match, collection_id, limit],
        ).fetchall()
        return [int(r[0]) for r in rows]
