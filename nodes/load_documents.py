"""LoadDocuments: read the new and changed files under shared["path"] for a collection.

Incremental and bounded: a file whose size and mtime match what the collection recorded is not
read again, nor one whose text hashes the same. At most `max_files` files and `max_bytes` bytes
are read per run (settings `rag.max_files` / `rag.max_bytes`); when the cap is hit the person is
told in one line and the next run carries on where this one stopped. Files recorded under
`path` that no longer exist are listed for removal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import structlog

from nodes.base import InputError, PocketNode, Shared
from nodes.deps import Deps
from utils.rag import DocumentError, content_hash, find_files, read_text
from utils.store import StoredDocument

log = structlog.get_logger()


@dataclass(frozen=True)
class LoadInput:
    root: Path
    known: dict[str, StoredDocument]
    max_files: int
    max_bytes: int


@dataclass(frozen=True)
class LoadedDocument:
    path: str
    text: str
    content_hash: str
    mtime: float
    size: int


@dataclass
class LoadResult:
    documents: list[LoadedDocument] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seen: int = 0
    unchanged: int = 0
    unreadable: list[str] = field(default_factory=list)
    left: int = 0  # files not read because the cap was hit
    bytes_read: int = 0


class LoadDocuments(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[Mapping[str, Any]] = {"path": str, "collection": str}
    writes: ClassVar[Mapping[str, Any]] = {
        "documents": "list[LoadedDocument]",
        "removed_paths": "list[str]",
        "ingest": "dict[str, Any]",
    }
    param_settings: ClassVar[Mapping[str, str]] = {
        "max_files": "rag.max_files",
        "max_bytes": "rag.max_bytes",
    }

    def __init__(
        self, deps: Deps, max_files: int | None = None, max_bytes: int | None = None
    ) -> None:
        super().__init__(deps)
        rag = deps.settings.rag
        self.max_files = max_files if max_files is not None else rag.max_files
        self.max_bytes = max_bytes if max_bytes is not None else rag.max_bytes

    def prep(self, shared: Shared) -> LoadInput:
        if not shared.get("path") or not shared.get("collection"):
            raise InputError("LoadDocuments needs shared['path'] and shared['collection']")
        found = self.deps.store.rag_find_collection(str(shared["collection"]))
        known = self.deps.store.rag_documents(found.id) if found else {}
        root = Path(str(shared["path"])).expanduser().resolve()
        return LoadInput(root, known, self.max_files, self.max_bytes)

    def exec(self, prep_res: LoadInput) -> LoadResult:
        result = LoadResult()
        present: set[str] = set()
        for path in find_files(prep_res.root):
            result.seen += 1
            key = str(path)
            present.add(key)
            stat = path.stat()
            old = prep_res.known.get(key)
            if old and old.size == stat.st_size and old.mtime == stat.st_mtime:
                result.unchanged += 1
                continue
            full = len(result.documents) + len(result.unreadable) >= prep_res.max_files
            if full or result.bytes_read + stat.st_size > prep_res.max_bytes:
                result.left += 1
                continue
            result.bytes_read += stat.st_size
            try:
                text = read_text(path)
            except DocumentError as exc:
                result.unreadable.append(str(exc))
                continue
            digest = content_hash(text)
            if old and old.content_hash == digest and old.mtime == stat.st_mtime:
                result.unchanged += 1
                continue
            result.documents.append(LoadedDocument(key, text, digest, stat.st_mtime, stat.st_size))
        root = str(prep_res.root)
        result.removed = sorted(
            p for p in prep_res.known
            if (p == root or p.startswith(root.rstrip("/") + "/")) and p not in present
        )  # fmt: skip
        return result

    def post(self, shared: Shared, prep_res: LoadInput, exec_res: LoadResult) -> str:
        shared["documents"] = exec_res.documents
        shared["removed_paths"] = exec_res.removed
        ingest: dict[str, Any] = shared.setdefault("ingest", {})
        ingest.update(
            files_seen=exec_res.seen, files_unchanged=exec_res.unchanged,
            files_read=len(exec_res.documents), files_removed=len(exec_res.removed),
            files_left=exec_res.left, bytes_read=exec_res.bytes_read,
            unreadable=exec_res.unreadable,
        )  # fmt: skip
        sink = self.deps.sink
        for line in exec_res.unreadable:
            sink.notice(f"skipped: {line}")
        if exec_res.left:
            line = (
                f"Ingest cap reached (rag.max_files={prep_res.max_files}, "
                f"rag.max_bytes={prep_res.max_bytes:,}): {exec_res.left} files left for the "
                "next run; run the same command again to continue."
            )
            ingest["capped"] = line
            sink.notice(line)
        log.info("documents_loaded", **{k: v for k, v in ingest.items() if k != "unreadable"})
        return "default"
