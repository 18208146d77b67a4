"""RAG: reading files (pypdf for PDF), chunking, the exact cosine index (numpy) and reciprocal
rank fusion. The collections themselves live in the store (`utils.store`). Exports are lazy, so
`chunk_text` does not import numpy. `vector_index` and `rrf` are also used as namespaces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.rag import rrf, vector_index
    from utils.rag.chunking import Boundary, Piece, chunk_text, content_hash
    from utils.rag.documents import SUPPORTED, DocumentError, find_files, read_text
    from utils.rag.rrf import fuse
    from utils.rag.vector_index import Matrix, sqlite_vec_status, to_blob, top_k

__all__ = [
    "SUPPORTED",
    "Boundary",
    "DocumentError",
    "Matrix",
    "Piece",
    "chunk_text",
    "content_hash",
    "find_files",
    "fuse",
    "read_text",
    "rrf",
    "sqlite_vec_status",
    "to_blob",
    "top_k",
    "vector_index",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "Boundary": "chunking",
        "Piece": "chunking",
        "chunk_text": "chunking",
        "content_hash": "chunking",
        "SUPPORTED": "documents",
        "DocumentError": "documents",
        "find_files": "documents",
        "read_text": "documents",
        "fuse": "rrf",
        "Matrix": "vector_index",
        "sqlite_vec_status": "vector_index",
        "to_blob": "vector_index",
        "top_k": "vector_index",
    },
)
