"""EmbedQuery: embed the person's question with the model the collection was built with.

Reads shared["collection"] (the `--collection` option), else the `collection` param. Writes
shared["query_vector"] (list of floats) and shared["embed_model"]. Retry as in CallOllama.
Actions: `default`, or `failed` (unknown collection, embedding error) with shared["error"].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nodes.base import Crash, PocketNode, Shared
from nodes.deps import Deps
from nodes.rag_common import Failure, Permanent, embed, fail, failure, last_user_text
from utils.ollama import OllamaError
from utils.store import StoreError


@dataclass(frozen=True)
class QueryInput:
    text: str
    model: str | None
    problem: str | None


def collection_name(shared: Shared, default: str | None) -> str | None:
    name = shared.get("collection") or default
    return str(name) if name else None


class EmbedQuery(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default", "failed")
    inputs: ClassVar[Mapping[str, Any]] = {"collection": str | None, "user_message": str}
    may_read: ClassVar[Mapping[str, Any]] = {"history": "list[Message]"}
    writes_on: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "default": {"query_vector": "list[float]", "embed_model": "str"},
        "failed": {"error": "dict[str, str]"},
    }
    param_settings: ClassVar[Mapping[str, str]] = {"model": "rag.embed_model"}

    def __init__(self, deps: Deps, model: str | None = None, collection: str | None = None) -> None:
        super().__init__(deps)
        self.model = model
        self.collection = collection
        retry = deps.settings.retry
        self.configure_retry(retry.max_retries, retry.backoff, retry.jitter)

    def prep(self, shared: Shared) -> QueryInput:
        name = collection_name(shared, self.collection)
        if name is None:
            return QueryInput("", None, "this flow answers from a collection: give --collection "
                              "NAME (see `rag list`)")  # fmt: skip
        try:
            found = self.deps.store.rag_collection(name)
        except StoreError as exc:
            return QueryInput("", None, str(exc))
        model = self.model or found.embed_model
        return QueryInput(last_user_text(shared), model or self.deps.settings.rag.embed_model,
                          None)  # fmt: skip

    def exec(self, prep_res: QueryInput) -> list[float] | Failure | Crash:
        if prep_res.problem or prep_res.model is None:
            return Failure("CollectionNotFound", prep_res.problem or "no embedding model")
        self.wait_before_retry()
        try:
            vectors = embed(self.deps, prep_res.model, [prep_res.text])
        except Permanent as exc:
            return failure(exc.error, self.deps)
        except OllamaError:
            raise  # transient (embed() turned the rest into Permanent): PocketFlow retries
        except Exception as exc:  # a bug: raised once from post, not retried
            return Crash(exc)
        if len(vectors) != 1:
            return Failure("EmbeddingCountMismatch", f"asked Ollama for 1 embedding, got "
                           f"{len(vectors)}")  # fmt: skip
        return vectors[0]

    def exec_fallback(self, prep_res: QueryInput, exc: Exception) -> Failure:
        if not isinstance(exc, OllamaError):
            raise exc
        return failure(exc, self.deps)

    def post(
        self, shared: Shared, prep_res: QueryInput, exec_res: list[float] | Failure | Crash
    ) -> str:
        if isinstance(exec_res, Crash):
            exec_res.reraise()
        if isinstance(exec_res, Failure):
            return fail(shared, exec_res)
        shared["query_vector"] = exec_res
        shared["embed_model"] = prep_res.model
        return "default"
