"""StoreVectors: save the ingest in one transaction — new embeddings, each changed document
with its chunks (replacing the earlier version), and the removal of files that disappeared.

Creates the collection on first use, recording its embedding model. Writes nothing when
nothing changed. shared["collection_info"] is the collection afterwards (or None).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nodes.base import PocketNode, Shared
from utils.store import Collection, NewDocument


@dataclass(frozen=True)
class SaveInput:
    collection: str
    model: str
    documents: list[NewDocument]
    vectors: dict[str, bytes]
    dims: int
    removed: list[str]

    @property
    def changes(self) -> bool:
        return bool(self.documents or self.vectors or self.removed)


class StoreVectors(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[Mapping[str, Any]] = {"collection": str}
    reads: ClassVar[Mapping[str, Any]] = {
        "chunked": "list[NewDocument]",
        "vectors": "dict[str, bytes]",
    }
    may_read: ClassVar[Mapping[str, Any]] = {
        "embed_model": "str",
        "embed_dims": "int",
        "removed_paths": "list[str]",
    }
    writes: ClassVar[Mapping[str, Any]] = {"collection_info": "Collection | None"}

    def prep(self, shared: Shared) -> SaveInput:
        return SaveInput(
            collection=str(shared["collection"]),
            model=str(shared.get("embed_model") or self.deps.settings.rag.embed_model),
            documents=list(shared.get("chunked") or []),
            vectors=dict(shared.get("vectors") or {}),
            dims=int(shared.get("embed_dims") or 0),
            removed=list(shared.get("removed_paths") or []),
        )

    def exec(self, prep_res: SaveInput) -> SaveInput:
        return prep_res

    def post(self, shared: Shared, prep_res: SaveInput, exec_res: SaveInput) -> str:
        store = self.deps.store
        info: Collection | None
        if exec_res.changes:
            info = store.rag_save(
                exec_res.collection, exec_res.model, exec_res.documents, exec_res.vectors,
                exec_res.dims, exec_res.removed,
            )  # fmt: skip
        else:
            info = store.rag_find_collection(exec_res.collection)
        shared["collection_info"] = info
        return "default"
