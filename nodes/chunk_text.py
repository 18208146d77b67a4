"""ChunkText: cut each loaded document into chunks on paragraph or sentence boundaries.

Params (else settings `rag.*`): `size` (characters, at most), `overlap` (characters repeated
from the previous chunk), `boundary` (paragraph | sentence). Every chunk carries the SHA-256 of
its text, which is what embeddings are keyed by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, cast

from nodes.base import InputError, PocketNode, Shared
from nodes.deps import Deps
from nodes.load_documents import LoadedDocument
from utils.rag import Boundary, chunk_text
from utils.store import NewChunk, NewDocument


class ChunkText(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {"documents": "list[LoadedDocument]"}
    may_read: ClassVar[Mapping[str, Any]] = {"ingest": "dict[str, Any]"}  # counts, added to
    writes: ClassVar[Mapping[str, Any]] = {"chunked": "list[NewDocument]"}
    may_write: ClassVar[Mapping[str, Any]] = {"ingest": "dict[str, Any]"}  # when none yet
    param_settings: ClassVar[Mapping[str, str]] = {
        "size": "rag.chunk_size",
        "overlap": "rag.chunk_overlap",
        "boundary": "rag.chunk_boundary",
    }

    def __init__(
        self,
        deps: Deps,
        size: int | None = None,
        overlap: int | None = None,
        boundary: Literal["paragraph", "sentence"] | None = None,
    ) -> None:
        super().__init__(deps)
        rag = deps.settings.rag
        self.size = size if size is not None else rag.chunk_size
        self.overlap = overlap if overlap is not None else rag.chunk_overlap
        chosen = boundary or rag.chunk_boundary
        if chosen not in ("paragraph", "sentence"):
            raise InputError(f"chunk boundary must be paragraph or sentence, not {chosen!r}")
        self.boundary = cast(Boundary, chosen)

    def prep(self, shared: Shared) -> list[LoadedDocument]:
        return list(shared.get("documents") or [])

    def exec(self, prep_res: list[LoadedDocument]) -> list[NewDocument]:
        out = []
        for doc in prep_res:
            pieces = chunk_text(doc.text, self.size, self.overlap, self.boundary)
            chunks = tuple(NewChunk(i, p.start, p.text, p.hash) for i, p in enumerate(pieces))
            out.append(NewDocument(doc.path, doc.content_hash, doc.mtime, doc.size, chunks))
        return out

    def post(self, shared: Shared, prep_res: Any, exec_res: list[NewDocument]) -> str:
        shared["chunked"] = exec_res
        shared.setdefault("ingest", {})["chunks"] = sum(len(d.chunks) for d in exec_res)
        return "default"
