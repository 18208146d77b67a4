"""Retrieve: the `top_k` chunks of the collection nearest the question.

Dense search is exact cosine over the collection's embeddings (numpy, the matrix cached per
process; see utils/vector_index.py). With `hybrid` (param, else `rag.hybrid`) the `candidates`
best by cosine and the `candidates` best by full-text search (FTS5 over chunk text, any word)
are merged by reciprocal rank fusion (`rrf_k`); a hit's `score` is then the fused score, and
`cosine` its dense similarity (None when only the text search found it).
Writes shared["retrieved"]: a list of hits {chunk_id, score, cosine, path, chunk, text}, best
first. Actions: `default`, or `failed` with shared["error"].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from nodes.embed_query import collection_name
from nodes.rag_common import Failure, fail, failure, last_user_text
from utils import rrf, vector_index

log = structlog.get_logger()


@dataclass(frozen=True)
class RetrieveInput:
    collection: str | None
    vector: list[float]
    model: str
    text: str


class Retrieve(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "failed")

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

    def prep(self, shared: Shared) -> RetrieveInput:
        return RetrieveInput(
            collection=collection_name(shared, self.collection),
            vector=list(shared.get("query_vector") or []),
            model=str(shared.get("embed_model") or self.deps.settings.rag.embed_model),
            text=last_user_text(shared),
        )

    def exec(self, prep_res: RetrieveInput) -> list[dict[str, Any]] | Failure:
        store = self.deps.store
        try:
            found = store.rag_collection(prep_res.collection or "")
            m = vector_index.matrix(store, found.id, prep_res.model)
            dense = vector_index.top_k(
                m, prep_res.vector, self.candidates if self.hybrid else self.top_k
            )
        except Exception as exc:  # an unknown collection, a dimension mismatch: one line
            return failure(exc, self.deps)
        cosine = dict(dense)
        if self.hybrid:
            text_ids = store.rag_text_search(found.id, prep_res.text, self.candidates)
            ranked = rrf.fuse([[i for i, _ in dense], text_ids], self.rrf_k)[: self.top_k]
        else:
            ranked = dense
        records = store.rag_chunks([i for i, _ in ranked])
        hits = [
            {"chunk_id": i, "score": round(score, 6),
             "cosine": round(cosine[i], 6) if i in cosine else None,
             "path": records[i].path, "chunk": records[i].ord, "text": records[i].text}
            for i, score in ranked if i in records
        ]  # fmt: skip
        return hits

    def post(
        self, shared: Shared, prep_res: RetrieveInput, exec_res: list[dict[str, Any]] | Failure
    ) -> str:
        if isinstance(exec_res, Failure):
            return fail(shared, exec_res)
        shared["retrieved"] = exec_res
        log.info("chunks_retrieved", collection=prep_res.collection, hits=len(exec_res),
                 hybrid=self.hybrid)  # fmt: skip
        return "default"
