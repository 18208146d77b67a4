"""One line of `flow run`: its inputs checked against what the flow reads (and its assertions
read), the flow run on them, the answer evaluated (utils/eval; with `--judge`, the eval flow's
LLM-graded checks) and the run recorded (`flow_runs`, `flow_run_evals`). A failing line is
recorded with one line saying why."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cli.flow_summary import checks, failure_of, outputs_of

if TYPE_CHECKING:
    from flows.spec import FlowSpec

EVALUATED = ("retrieval", "answer_match", "assertions", "judgements")


@dataclass(frozen=True)
class Judge:
    """The eval flow (built) that grades each answered line, and the judge model if given."""

    graph: Any
    model: str | None


@dataclass(frozen=True)
class Labels:
    """Which experiment and variant a batch belongs to."""

    experiment_id: str | None = None
    variant: str | None = None


class Batch:
    """Runs one input line on the built flow and records it."""

    def __init__(self, app: Any, graph: Any, spec: FlowSpec, batch: str, sink: Any,
                 collection: str | None, keep: tuple[str, ...], labels: Labels | None = None,
                 judge: Judge | None = None) -> None:  # fmt: skip
        from flows.inputs import flow_inputs

        self.app, self.graph, self.batch = app, graph, batch
        self.name, self.file, self.declared = spec.name, str(spec.file), flow_inputs(spec)
        self.sink, self.collection, self.keep = sink, collection, keep
        self.labels, self.judge = labels or Labels(), judge
        self.crashed = 0  # lines that failed in a node: their tracebacks are in the log file

    def one(self, number: int, text: str) -> dict[str, Any]:
        from cli.errors import describe
        from flows.inputs import input_problem
        from flows.node_errors import node_line
        from flows.turn import run_turn
        from nodes.base import InputError
        from utils.eval import AssertionProblem, check_assertions
        from utils.store import iso

        clock, store = self.app.clock, self.app.store()
        started_at, t0 = iso(clock.now()), time.monotonic()
        notices_before = len(self.sink.notices)
        inputs: Any = None
        retrieved: Any = None
        outputs: dict[str, Any] | None = None
        error: str | None = None
        try:
            inputs = json.loads(text)
            if not isinstance(inputs, dict):
                raise InputError(f"line {number} is not a JSON object")
            problem = input_problem(self.declared, inputs)
            if problem:
                raise InputError(f"line {number}: {problem}")
            try:
                check_assertions(inputs)
            except AssertionProblem as exc:
                raise InputError(f"line {number}: {exc}") from exc
            shared: dict[str, Any] = dict(inputs)
            if self.collection and "collection" not in shared:
                shared["collection"] = self.collection
            if "user_message" in shared and not shared.get("session_id"):
                shared.setdefault("title", f"flow run {self.batch} line {number}")
            shared["origin"] = "flow-run"  # a new session is a batch one (`sessions list --all`)
            shared["_store"] = store
            run_turn(self.graph, shared)
            outputs = outputs_of(shared, time.monotonic() - t0, self.keep)
            error = failure_of(shared)
            retrieved = shared.get("retrieved")
        except json.JSONDecodeError as exc:
            error = f"line {number}: not JSON ({exc.msg})"
        except Exception as exc:  # a node raising: recorded, and the batch goes on
            error, in_node = describe(exc, self.app)[1], node_line(exc)
            if in_node is not None and error.startswith(in_node):  # a bug in a node: its line,
                error, self.crashed = in_node, self.crashed + 1  # the traceback in the log
        elapsed = time.monotonic() - t0
        status = "failed" if error else "ok"
        record: dict[str, Any] = {"line": number, "batch_id": self.batch,
                                  "input": inputs if isinstance(inputs, dict) else text,
                                  "status": status, "error": error, "outputs": outputs}  # fmt: skip
        if outputs is not None:
            outputs["notices"] = self.sink.notices[notices_before:]
        if self.labels.experiment_id:
            record.update(experiment_id=self.labels.experiment_id, variant=self.labels.variant)
        if isinstance(inputs, dict):  # a failed run with expected sources counts as a miss
            with contextlib.suppress(AssertionProblem):  # else already the line's error
                record.update(checks(inputs, outputs or {}))
            if self.judge is not None and status == "ok" and outputs is not None:
                record["judgements"] = self._judge(inputs, outputs, retrieved)
        record["run_id"] = store.record_flow_run(
            batch_id=self.batch, line=number, flow_name=self.name, flow_file=self.file,
            input_text=text, output=outputs, status=status, error=error, started_at=started_at,
            finished_at=iso(clock.now()), duration_ms=round(elapsed * 1000, 3),
        )  # fmt: skip
        evaluation = {k: record[k] for k in EVALUATED if k in record}
        if evaluation:
            store.record_evaluation(record["run_id"], evaluation)
        return record

    def _judge(self, inputs: dict[str, Any], outputs: dict[str, Any], retrieved: Any) -> Any:
        """The eval flow on this answer: shared["judgements"], or {"error": line}."""
        from cli.errors import describe
        from flows.turn import run_turn

        judge = self.judge
        assert judge is not None
        shared: dict[str, Any] = {
            "question": inputs.get("user_message") or inputs.get("question") or "",
            "answer": outputs.get("reply") or "",
            "sources": [{"path": h.get("path"), "text": h.get("text")}
                        for h in retrieved or [] if isinstance(h, dict)],
            "model": outputs.get("model"), "judge_model": judge.model,
            "_store": self.app.store(),
        }  # fmt: skip
        try:
            run_turn(judge.graph, shared)
        except Exception as exc:  # the judge's failure is recorded, the line stays ok
            return {"error": describe(exc, self.app)[1]}
        return shared.get("judgements") or {}
