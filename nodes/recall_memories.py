"""RecallMemories: put what pocketchat remembers about the person into the prompt.

Runs after TrimContext (it needs the budget) and before the call. The person (`owner`) is
shared["memory_owner"] when the caller set it, else the session's API key in serve mode, else
the local person. Their memories are ranked by similarity to the person's message (embedded
with `memory.embed_model`, through the queue) and recency (see utils/memory/index.py); the
`top_k` best go into one system message just before the message, each with its id (`[m12]`),
within TrimContext's budget: the oldest conversation messages make room first, then the
lowest-ranked memories. An owner with no memories costs no Ollama call; an embedding that
fails recalls nothing (logged) and never fails the turn. Writes shared["prompt"],
shared["memories"] ([{id, text, score, cosine}], best first), shared["memory_owner"] and
`memories` in shared["context"]; marks the recalled memories used (`last_used_at`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from nodes.rag_common import last_user_text
from utils.context import tokens

if TYPE_CHECKING:
    from utils.memory.index import Matrix

log = structlog.get_logger()

PromptMessage = dict[str, str]
HEADER = (
    "What you remember about the person from earlier conversations (each with its memory id; "
    "use what is relevant, never mention the ids unless asked):"
)


@dataclass(frozen=True)
class RecallInput:
    owner: str
    text: str
    matrix: Matrix | None
    prompt: list[PromptMessage]
    budget: int
    now: float


@dataclass(frozen=True)
class RecallResult:
    prompt: list[PromptMessage]
    used: list[dict[str, Any]]
    dropped_messages: int


def memory_owner(shared: Shared) -> str:
    from utils.memory import owner_for_key

    owner = shared.get("memory_owner")
    if owner:
        return str(owner)
    session = shared.get("session")
    return owner_for_key(getattr(session, "key_id", None))


class RecallMemories(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[Mapping[str, Any]] = {"memory_owner": str | None, "user_message": str}
    reads: ClassVar[Mapping[str, Any]] = {"prompt": "list[dict[str, Any]]"}
    may_read: ClassVar[Mapping[str, Any]] = {
        "session": "Session", "context": "dict[str, Any]", "read_only": "bool",
        "history": "list[Message]",
    }  # fmt: skip
    writes: ClassVar[Mapping[str, Any]] = {
        "memory_owner": "str", "memories": "list[dict[str, Any]]",
    }  # fmt: skip
    may_write: ClassVar[Mapping[str, Any]] = {
        "prompt": "list[dict[str, Any]]", "context": "dict[str, Any]",
    }  # fmt: skip

    def __init__(
        self, deps: Deps, top_k: int | None = None, embed_model: str | None = None
    ) -> None:
        super().__init__(deps)
        memory = deps.settings.memory
        self.top_k = memory.top_k if top_k is None else top_k
        self.embed_model = embed_model or memory.embed_model

    def prep(self, shared: Shared) -> RecallInput:
        from utils.memory import index

        owner = memory_owner(shared)
        store = self.deps.store
        m = index.matrix(store, str(store.path), owner, self.embed_model)
        context = shared.get("context") or {}
        return RecallInput(
            owner=owner,
            text=last_user_text(shared),
            matrix=m if len(m.ids) else None,
            prompt=list(shared.get("prompt") or []),
            budget=int(context.get("budget") or self.deps.settings.context.default_num_ctx),
            now=self.deps.clock.now(),
        )

    def exec(self, prep_res: RecallInput) -> RecallResult:
        if prep_res.matrix is None or self.top_k <= 0 or not prep_res.text.strip():
            return RecallResult(prep_res.prompt, [], 0)
        from utils.memory import index

        try:
            vector = self._embed(prep_res.text)
        except Exception as exc:  # recall never fails the turn
            log.warning("memory_recall_failed", error=type(exc).__name__, detail=str(exc)[:200])
            return RecallResult(prep_res.prompt, [], 0)
        memory = self.deps.settings.memory
        ranking = index.Ranking(memory.recency_weight, memory.recency_half_life_days,
                                memory.min_similarity)  # fmt: skip
        hits = index.top_k(prep_res.matrix, vector, self.top_k, prep_res.now, ranking)
        found = [{"id": i, "text": prep_res.matrix.text(i), "score": round(score, 6),
                  "cosine": round(cos, 6)} for i, score, cos in hits]  # fmt: skip
        return build(prep_res.prompt, found, prep_res.budget)

    def post(self, shared: Shared, prep_res: RecallInput, exec_res: RecallResult) -> str:
        shared["memory_owner"] = prep_res.owner
        shared["memories"] = exec_res.used
        if not exec_res.used:
            return "default"
        shared["prompt"] = exec_res.prompt
        context = shared.setdefault("context", {})
        context["memories"] = len(exec_res.used)
        if exec_res.dropped_messages:
            context["dropped"] = int(context.get("dropped", 0)) + exec_res.dropped_messages
        if not shared.get("read_only"):
            from utils.memory import memories_sql
            from utils.store import StoreError

            try:
                memories_sql.mark_used(self.deps.store, [m["id"] for m in exec_res.used],
                                       prep_res.now)  # fmt: skip
            except StoreError as exc:
                log.warning("memory_use_not_recorded", error=str(exc))
        log.info("memories_recalled", owner=prep_res.owner, count=len(exec_res.used))
        return "default"

    def _embed(self, text: str) -> list[float]:
        gate = self.deps.gate
        ticket = gate.acquire(self.deps.sink.waiting) if gate is not None else None
        try:
            vectors = self.deps.llm.embed(self.embed_model, [text])
        finally:
            if ticket is not None:
                ticket.release()
        if len(vectors) != 1:
            raise ValueError(f"asked for 1 embedding, got {len(vectors)}")
        return vectors[0]


def memory_message(found: list[dict[str, Any]]) -> PromptMessage:
    lines = [f"- [m{m['id']}] {m['text']}" for m in found]
    return {"role": "system", "content": HEADER + "\n" + "\n".join(lines)}


def build(prompt: list[PromptMessage], found: list[dict[str, Any]], budget: int) -> RecallResult:
    """The prompt with as many memories as fit `budget`, best first, before the message."""
    prompt = list(prompt)
    question = prompt.pop() if prompt and prompt[-1]["role"] == "user" else None
    tail = [question] if question else []

    def cost(kept: list[dict[str, Any]], body: list[PromptMessage]) -> int:
        return tokens.estimate_messages([*body, memory_message(kept), *tail])

    dropped = 0
    while found and cost(found[:1], prompt) > budget:
        older = [i for i, m in enumerate(prompt) if m["role"] != "system"]
        if not older:
            break
        del prompt[older[0]]
        dropped += 1
    kept: list[dict[str, Any]] = []
    for memory in found:
        if cost([*kept, memory], prompt) > budget:
            break
        kept.append(memory)
    if not kept:
        return RecallResult([*prompt, *tail], [], dropped)
    return RecallResult([*prompt, memory_message(kept), *tail], kept, dropped)
