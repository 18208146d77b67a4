"""One line of `flow run`: its inputs checked against what the flow reads, the flow run on them,
and the run recorded (`flow_runs`). A failing line is recorded with one line saying why."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from cli.flow_summary import checks, failure_of, outputs_of

if TYPE_CHECKING:
    from flows.spec import FlowSpec


class Batch:
    """Runs one input line on the built flow and records it."""

    def __init__(self, app: Any, graph: Any, spec: FlowSpec, batch: str, sink: Any,
                 collection: str | None, keep: tuple[str, ...]) -> None:  # fmt: skip
        from flows.inputs import flow_inputs

        self.app, self.graph, self.batch = app, graph, batch
        self.name, self.file, self.declared = spec.name, str(spec.file), flow_inputs(spec)
        self.sink, self.collection, self.keep = sink, collection, keep
        self.crashed = 0  # lines that failed in a node: their tracebacks are in the log file

    def one(self, number: int, text: str) -> dict[str, Any]:
        from cli.errors import describe
        from flows.inputs import input_problem
        from flows.node_errors import node_line
        from flows.turn import run_turn
        from nodes.base import InputError
        from utils.store import iso

        clock, store = self.app.clock, self.app.store()
        started_at, t0 = iso(clock.now()), time.monotonic()
        notices_before = len(self.sink.notices)
        inputs: Any = None
        outputs: dict[str, Any] | None = None
        error: str | None = None
        try:
            inputs = json.loads(text)
            if not isinstance(inputs, dict):
                raise InputError(f"line {number} is not a JSON object")
            problem = input_problem(self.declared, inputs)
            if problem:
                raise InputError(f"line {number}: {problem}")
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
        if isinstance(inputs, dict):  # a failed run with expected sources counts as a miss
            record.update(checks(inputs, outputs or {}))
        record["run_id"] = store.record_flow_run(
            batch_id=self.batch, line=number, flow_name=self.name, flow_file=self.file,
            input_text=text, output=outputs, status=status, error=error, started_at=started_at,
            finished_at=iso(clock.now()), duration_ms=round(elapsed * 1000, 3),
        )  # fmt: skip
        return record
