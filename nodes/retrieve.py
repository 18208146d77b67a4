"""Retrieve: the `top_k` chunks of the collection nearest the question.

Dense search is exact cosine over the collection's embeddings (numpy, the matrix cached per
process; see utils/rag/vector_index.py), or, on Postgres with pgvector, the store's own
nearest-neighbour search (`Store.rag_nearest`, an HNSW index) done in `prep`. With `hybrid`
(param, else `rag.hybrid`) the `candidates` best by cosine and the `candidates` best by
full-text search (FTS5 or tsvector over chunk text, any word) are merged by reciprocal rank
fusion (`rrf_k`); a hit's `score` is then the fused score, and `cosine` its dense similarity
(None when only the text search found it).
Writes shared["retrieved"]: a list of hits {chunk_id, score, cosine, path, chunk, text}, best
first. Actions: `default`, or `failed` with shared["error"].
`prep` reads the matrix and the text search's candidates, `exec` only scores, and `post` reads
the text of the chunks it picked (known only after scoring; see docs/rag.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from nodes.embed_query import collection_name
from nodes.rag_common import Failure, fail, failure, last_user_text
from utils.rag import rrf, vector_index
from utils.store import StoreError

log = structlog.get_logger()


@dataclass(frozen=True)
class RetrieveInput:
    vector: list[float]
    matrix: vector_index.Matrix | None  # None when the store searched itself (`near`)
    text_ids: list[int]  # the text search's candidates, best first (hybrid only)
    near: list[tuple[int, float]] | None = None  # the store's own nearest (pgvector)


Ranked = list[tuple[int, float, float | None]]  # (chunk id, score, cosine), best first


class Retrieve(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "failed")
    reads: ClassVar[Mapping[str, Any]] = {"query_vector": "list[float]"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "embed_model": "str",
        "collection": "str | None",
        "user_message": "str",
        "history": "list[Message]",
    }
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "default": {"retrieved": "list[dict[str, Any]]"},
        "failed": {"error": "dict[str, str]"},
    }
    param_settings: ClassVar[Mapping[str, str]] = {"top_k": "rag.top_k", "hybrid": "rag.hybrid"}

    def __init__(
        self,
        deps: Deps,
        top_k: int | None = None,
        hybrid: bool | None = None,
        candidates: int = 20,
        rrf_k: int = 60,
        collection: str | None = None,
    ) -> None:
        super().__init__(deps)
        rag = deps.settings.rag
        self.top_k = top_k if top_k is not None else rag.top_k
        self.hybrid = hybrid if hybrid is not None else rag.hybrid
        self.candidates = max(candidates, self.top_k)
        self.rrf_k = rrf_k
        self.collection = collection

    def prep(self, shared: Shared) -> RetrieveInput | Failure:
        """Read the collection's matrix and, for hybrid search, the text search's candidates."""
        name = collection_name(shared, self.collection)
        vector = list(shared.get("query_vector") or [])
        model = str(shared.get("embed_model") or self.deps.settings.rag.embed_model)
        store = self.deps.store
        k = self.candidates if self.hybrid else self.top_k
        try:
            found = store.rag_collection(name or "")
            near = store.rag_nearest(found.id, model, vector, k)  # Postgres + pgvector
            m = vector_index.matrix(store, found.id, model) if near is None else None
            text = last_user_text(shared)
            text_ids = store.rag_text_search(found.id, text, self.candidates) if self.hybrid else []
        except (StoreError, ValueError) as exc:  # an unknown collection, a dimension mismatch
            return failure(exc, self.deps)
        return RetrieveInput(vector, m, text_ids, near)

    def exec(self, prep_res: RetrieveInput | Failure) -> Ranked | Failure:
        """Score: exact cosine, fused with the text candidates by rank when hybrid."""
        if isinstance(prep_res, Failure):
            return prep_res
        k = self.candidates if self.hybrid else self.top_k
        try:
            if prep_res.matrix is None:
                dense = list(prep_res.near or [])
            else:
                dense = vector_index.top_k(prep_res.matrix, prep_res.vector, k)
        except ValueError as exc:  # a dimension mismatch: one line
            return failure(exc, self.deps)
        cosine = dict(dense)
        if self.hybrid:
            fused = [[i for i, _ in dense], prep_res.text_ids]
            ranked = rrf.fuse(fused, self.rrf_k)[: self.top_k]
        else:
            ranked = dense
        return [(i, score, cosine.get(i)) for i, score in ranked]

    def post(
        self, shared: Shared, prep_res: RetrieveInput | Failure, exec_res: Ranked | Failure
    ) -> str:
        """Write the hits; the picked chunks' text is read here, once scoring chose them."""
        if isinstance(exec_res, Failure):
            return fail(shared, exec_res)
        records = self.deps.store.rag_chunks([i for i, _, _ in exec_res])
        shared["retrieved"] = [
            {"chunk_id": i, "score": round(score, 6),
             "cosine": round(cos, 6) if cos is not None else None,
             "path": records[i].path, "chunk": records[i].ord, "text": records[i].text}
            for i, score, cos in exec_res if i in records
        ]  # fmt: skip
        log.info("chunks_retrieved", collection=collection_name(shared, self.collection),
                 hits=len(shared["retrieved"]), hybrid=self.hybrid)  # fmt: skip
        return "default"
