"""JudgeAnswer: an LLM-graded check of one answer (a node of the eval flow, flows/eval.yaml).

Reads shared["question"], shared["answer"] and shared["sources"] (the retrieved chunks: path,
text), asks the judge model (param `model`, else shared["judge_model"], else shared["model"],
the model that answered) through the request queue, non-streamed, and writes
shared["judgements"][criterion] = {score 0..1, raw 1..5, pass, reason, model, prompt, reply}
— the judge's model and the exact messages are recorded with the verdict. `criterion` is
`faithfulness` (to the sources) or `relevance` (to the question); `prompt` replaces the
built-in template ({question}, {answer}, {sources}); `threshold` is the passing score.
A judge that cannot be reached, or answers without a score, gives a verdict with `error`;
the line it grades is not failed for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import structlog

from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from utils.eval import PROMPTS, judge_messages, parse_verdict
from utils.ollama import OllamaError

log = structlog.get_logger()


@dataclass(frozen=True)
class JudgeInput:
    model: str
    messages: list[dict[str, str]]


class JudgeAnswer(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)
    inputs: ClassVar[dict[str, Any]] = {"question": str, "answer": str, "sources": list}
    may_read: ClassVar[dict[str, Any]] = {"judge_model": "str", "model": "str"}
    writes: ClassVar[dict[str, Any]] = {"judgements": "dict[str, dict[str, Any]]"}

    def __init__(
        self,
        deps: Deps,
        criterion: Literal["faithfulness", "relevance"] = "faithfulness",
        model: str | None = None,
        prompt: str | None = None,
        threshold: float = 0.75,
    ) -> None:
        super().__init__(deps)
        self.criterion = criterion
        self.model = model
        self.template = prompt or PROMPTS[criterion]
        self.threshold = threshold

    def prep(self, shared: Shared) -> JudgeInput:
        """The judge's model and the filled-in messages."""
        model = self.model or shared.get("judge_model") or shared.get("model")
        model = str(model or self.deps.settings.model)
        sources = [s for s in shared.get("sources") or [] if isinstance(s, dict)]
        messages = judge_messages(self.template, str(shared.get("question") or ""),
                                  str(shared.get("answer") or ""), sources)  # fmt: skip
        return JudgeInput(model, messages)

    def exec(self, prep_res: JudgeInput) -> dict[str, Any]:
        """Ask the judge (holding a queue slot) and read its verdict."""
        gate = self.deps.gate
        ticket = gate.acquire(lambda position, eta: None) if gate is not None else None
        try:
            reply = self.deps.llm.chat(prep_res.model, prep_res.messages,
                                       options={"temperature": 0}).text  # fmt: skip
        except OllamaError as exc:
            return {"error": str(exc), "score": None, "pass": None, "reply": None}
        finally:
            if ticket is not None:
                ticket.release()
        return {**parse_verdict(reply, self.threshold), "reply": reply}

    def post(self, shared: Shared, prep_res: JudgeInput, exec_res: dict[str, Any]) -> str:
        """Record the verdict with the judge's model and prompt."""
        verdict = {**exec_res, "model": prep_res.model, "prompt": prep_res.messages}
        shared.setdefault("judgements", {})[self.criterion] = verdict
        log.info("answer_judged", criterion=self.criterion, model=prep_res.model,
                 score=verdict.get("score"), error=verdict.get("error"))  # fmt: skip
        return "default"
