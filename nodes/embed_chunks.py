"""EmbedChunks: embed the chunks no embedding exists for yet, in batches, through Ollama.

A chunk is embedded only when no vector for its content hash and this model is stored, so
re-ingesting unchanged text sends nothing to /api/embed. Batches of `batch_size` texts
(`rag.embed_batch`); progress goes to the sink. Each finished batch is stored at once
(`rag_keep_embeddings`), so an ingest killed midway keeps its embedding work and the re-run
embeds only what was left; the documents and chunks are still saved together by StoreVectors.
Retry as in CallOllama (a `retry:` block, or the config's `retry:` by default): transient errors
are retried with backoff, and batches that already succeeded are kept across attempts. The model
is the `model` param, else the one the collection was built with, else `rag.embed_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog

from nodes.base import Crash, PocketNode, Shared
from nodes.deps import Deps
from nodes.rag_common import Failure, Permanent, embed, fail, failure
from utils.ollama import OllamaError
from utils.rag import to_blob
from utils.store import NewDocument

log = structlog.get_logger()


@dataclass
class EmbedJob:
    model: str
    texts: dict[str, str]  # content hash -> text, only the ones to embed
    reused: int
    done: dict[str, bytes] = field(default_factory=dict)  # filled across retries
    dims: int = 0
    problem: str | None = None


class EmbedChunks(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "failed")
    inputs: ClassVar[Mapping[str, Any]] = {"collection": str}
    reads: ClassVar[Mapping[str, Any]] = {"chunked": "list[NewDocument]"}
    may_read: ClassVar[Mapping[str, Any]] = {"collection": "str", "ingest": "dict[str, Any]"}
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "default": {"vectors": "dict[str, bytes]", "embed_model": "str", "embed_dims": "int"},
        "failed": {"error": "dict[str, str]"},
    }
    may_write: ClassVar[Mapping[str, Any]] = {"ingest": "dict[str, Any]"}  # when none yet
    param_settings: ClassVar[Mapping[str, str]] = {
        "model": "rag.embed_model",
        "batch_size": "rag.embed_batch",
    }

    def __init__(self, deps: Deps, model: str | None = None, batch_size: int | None = None) -> None:
        super().__init__(deps)
        self.model = model
        self.batch_size = max(1, batch_size or deps.settings.rag.embed_batch)
        retry = deps.settings.retry
        self.configure_retry(retry.max_retries, retry.backoff, retry.jitter)

    def prep(self, shared: Shared) -> EmbedJob:
        store = self.deps.store
        found = store.rag_find_collection(str(shared.get("collection") or ""))
        model = self.model or (found.embed_model if found else None)
        model = model or self.deps.settings.rag.embed_model
        problem = None
        if found and found.embed_model and found.embed_model != model:
            problem = (
                f"collection '{found.name}' was embedded with {found.embed_model}, not {model}; "
                f"use that model or `rag drop {found.name}` first"
            )
        documents: list[NewDocument] = shared.get("chunked") or []
        texts = {c.content_hash: c.text for d in documents for c in d.chunks}
        have = store.rag_embedded(texts, model)
        wanted = {h: t for h, t in texts.items() if h not in have}
        return EmbedJob(model, wanted, reused=len(texts) - len(wanted), problem=problem)

    def exec(self, prep_res: EmbedJob) -> EmbedJob | Failure | Crash:
        if prep_res.problem:
            return Failure("ModelMismatch", prep_res.problem)
        self.wait_before_retry()
        pending = [h for h in prep_res.texts if h not in prep_res.done]
        total = len(prep_res.texts)
        try:
            for start in range(0, len(pending), self.batch_size):
                batch = pending[start : start + self.batch_size]
                vectors = embed(self.deps, prep_res.model, [prep_res.texts[h] for h in batch])
                if len(vectors) != len(batch):
                    line = f"asked Ollama for {len(batch)} embeddings, got {len(vectors)}"
                    return Failure("EmbeddingCountMismatch", line)
                kept = {d: to_blob(v) for d, v in zip(batch, vectors, strict=True)}
                prep_res.dims = len(vectors[-1]) if vectors else prep_res.dims
                if kept and self.deps.store.can_write():
                    self.deps.store.rag_keep_embeddings(prep_res.model, kept, prep_res.dims)
                prep_res.done.update(kept)
                self.deps.sink.progress("embedding", len(prep_res.done), total, "chunks")
        except Permanent as exc:
            return failure(exc.error, self.deps)
        except OllamaError:
            raise  # transient (embed() turned the rest into Permanent): PocketFlow retries
        except Exception as exc:  # a bug: raised once from post, not retried
            return Crash(exc)
        return prep_res

    def exec_fallback(self, prep_res: EmbedJob, exc: Exception) -> Failure:
        if not isinstance(exc, OllamaError):
            raise exc
        return failure(exc, self.deps)

    def post(self, shared: Shared, prep_res: EmbedJob, exec_res: EmbedJob | Failure | Crash) -> str:
        if isinstance(exec_res, Crash):
            exec_res.reraise()
        if isinstance(exec_res, Failure):
            return fail(shared, exec_res)
        shared["vectors"] = exec_res.done
        shared["embed_model"] = exec_res.model
        shared["embed_dims"] = exec_res.dims
        ingest: dict[str, Any] = shared.setdefault("ingest", {})
        ingest.update(embedded=len(exec_res.done), reused=exec_res.reused, model=exec_res.model)
        log.info("chunks_embedded", model=exec_res.model, embedded=len(exec_res.done),
                 reused=exec_res.reused)  # fmt: skip
        return "default"
