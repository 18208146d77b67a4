"""BuildRagPrompt: put the retrieved sources, numbered, into the prompt TrimContext built.

Runs after TrimContext and Retrieve. The sources go in one system message just before the
person's question, as `[1] path (chunk n)` then the text, with the instruction to cite them as
[1], [2]. They must fit the budget TrimContext computed: the oldest conversation messages are
dropped first to make room (sources matter more than old turns), then the lowest-ranked
sources. Writes shared["prompt"], shared["sources"] (what PersistTurn stores in the reply's
meta: n, chunk_id, score, cosine, path, chunk, collection, model) and adds `sources` and
`sources_dropped` to shared["context"].
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from utils.context import tokens

PromptMessage = dict[str, str]
INSTRUCTIONS = (
    "Answer the question from the numbered sources below. Cite every source you use as [n] "
    "right after the sentence it supports. If the sources do not contain the answer, say so."
)
NO_SOURCES = "No sources were found for this question in collection '{collection}'."


@dataclass(frozen=True)
class PromptInput:
    prompt: list[PromptMessage]
    budget: int
    hits: list[dict[str, Any]]
    collection: str
    model: str


@dataclass(frozen=True)
class PromptResult:
    prompt: list[PromptMessage]
    used: list[dict[str, Any]]
    dropped_sources: int
    dropped_messages: int


class BuildRagPrompt(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    reads: ClassVar[Mapping[str, Any]] = {
        "prompt": "list[dict[str, Any]]",
        "retrieved": "list[dict[str, Any]]",
    }
    may_read: ClassVar[Mapping[str, Any]] = {
        "context": "dict[str, Any]",
        "collection": "str | None",
        "embed_model": "str",
    }
    writes: ClassVar[Mapping[str, Any]] = {
        "prompt": "list[dict[str, Any]]",
        "sources": "list[dict[str, Any]]",
    }

    def __init__(self, deps: Deps, instructions: str | None = None) -> None:
        super().__init__(deps)
        self.instructions = instructions or INSTRUCTIONS

    def prep(self, shared: Shared) -> PromptInput:
        context = shared.get("context") or {}
        return PromptInput(
            prompt=list(shared["prompt"]),
            budget=int(context.get("budget") or self.deps.settings.context.default_num_ctx),
            hits=list(shared.get("retrieved") or []),
            collection=str(shared.get("collection") or ""),
            model=str(shared.get("embed_model") or self.deps.settings.rag.embed_model),
        )

    def exec(self, prep_res: PromptInput) -> PromptResult:
        return build(prep_res, self.instructions)

    def post(self, shared: Shared, prep_res: PromptInput, exec_res: PromptResult) -> str:
        shared["prompt"] = exec_res.prompt
        shared["sources"] = exec_res.used
        context = shared.setdefault("context", {})
        context["sources"] = len(exec_res.used)
        context["sources_dropped"] = exec_res.dropped_sources
        if exec_res.dropped_messages:
            context["dropped"] = int(context.get("dropped", 0)) + exec_res.dropped_messages
        if not exec_res.used:
            self.deps.sink.notice(f"(no sources found in collection '{prep_res.collection}')")
        return "default"


def source_block(n: int, hit: dict[str, Any]) -> str:
    return f"[{n}] {Path(str(hit['path'])).name} (chunk {hit['chunk']})\n{hit['text']}"


def build(data: PromptInput, instructions: str) -> PromptResult:
    """The prompt with as many sources as fit `budget`, best first."""
    prompt = list(data.prompt)
    question = prompt.pop() if prompt and prompt[-1]["role"] == "user" else None
    tail = [question] if question else []

    def cost(blocks: list[str], body: list[PromptMessage]) -> int:
        return tokens.estimate_messages([*body, _message(instructions, blocks), *tail])

    blocks = [source_block(n, hit) for n, hit in enumerate(data.hits, start=1)]
    dropped_messages = 0
    while blocks and cost(blocks[:1], prompt) > data.budget:
        older = [i for i, m in enumerate(prompt) if m["role"] != "system"]
        if not older:
            break
        del prompt[older[0]]
        dropped_messages += 1
    kept: list[str] = []
    for block in blocks:
        if cost([*kept, block], prompt) > data.budget:
            break
        kept.append(block)
    if kept:
        system = _message(instructions, kept)
    else:
        system = {"role": "system", "content": NO_SOURCES.format(collection=data.collection)}
    used = [
        {"n": n, "chunk_id": hit["chunk_id"], "score": hit["score"], "cosine": hit.get("cosine"),
         "path": hit["path"], "chunk": hit["chunk"], "collection": data.collection,
         "model": data.model}
        for n, hit in enumerate(data.hits[: len(kept)], start=1)
    ]  # fmt: skip
    return PromptResult([*prompt, system, *tail], used, len(blocks) - len(kept), dropped_messages)


def _message(instructions: str, blocks: list[str]) -> PromptMessage:
    return {"role": "system", "content": instructions + "\n\n" + "\n\n".join(blocks)}
