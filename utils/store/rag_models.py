"""What the RAG half of the store reads and writes: frozen records and one error."""

from __future__ import annotations

from dataclasses import dataclass

from utils.store.models import StoreError


class CollectionNotFound(StoreError):
    """No RAG collection has that name."""


@dataclass(frozen=True)
class Collection:
    id: int
    name: str
    embed_model: str | None
    version: int  # bumped by every change, so a cached matrix knows it is stale
    created_at: str
    updated_at: str
    documents: int = 0
    chunks: int = 0


@dataclass(frozen=True)
class StoredDocument:
    """What the store remembers of an ingested file, to skip it when unchanged."""

    id: int
    path: str
    content_hash: str
    mtime: float
    size: int


@dataclass(frozen=True)
class NewChunk:
    ord: int
    start_char: int
    text: str
    content_hash: str


@dataclass(frozen=True)
class NewDocument:
    """A file read and chunked, ready to replace its earlier version in a collection."""

    path: str
    content_hash: str
    mtime: float
    size: int
    chunks: tuple[NewChunk, ...]


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with where it came from (what a retrieved source points at)."""

    id: int
    path: str
    ord: int
    text: str
