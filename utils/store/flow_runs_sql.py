"""The flow-runs half of `SqliteStore` (made by m004): one row per input line of `flow run`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from utils.store.base import StoreBase
from utils.store.sql_seam import SqlConn


@dataclass(frozen=True)
class FlowRun:
    id: int
    batch_id: str
    line: int
    flow_name: str
    flow_file: str
    input: str
    output: dict[str, Any] | None
    status: str  # ok | failed
    error: str | None
    started_at: str
    finished_at: str
    duration_ms: float


class FlowRunsMixin(StoreBase):
    def record_flow_run(
        self,
        *,
        batch_id: str,
        line: int,
        flow_name: str,
        flow_file: str,
        input_text: str,
        output: dict[str, Any] | None,
        status: str,
        error: str | None,
        started_at: str,
        finished_at: str,
        duration_ms: float,
    ) -> int:
        """Insert one run; return its id. `input_text` is the line as given (JSON or not)."""
        out = None if output is None else json.dumps(output, ensure_ascii=False, default=str)

        def insert(conn: SqlConn) -> int:
            row = conn.execute(
                "INSERT INTO flow_runs (batch_id, line, flow_name, flow_file, input, output, "
                "status, error, started_at, finished_at, duration_ms) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
                [batch_id, line, flow_name, flow_file, input_text, out, status, error,
                 started_at, finished_at, duration_ms],
            ).fetchone()  # fmt: skip
            return int(row[0])

        return self._write(insert)

    def flow_runs(self, batch_id: str) -> list[FlowRun]:
        rows = self._rows("SELECT * FROM flow_runs WHERE batch_id = ? ORDER BY line", [batch_id])
        return [
            FlowRun(
                id=r["id"], batch_id=r["batch_id"], line=r["line"], flow_name=r["flow_name"],
                flow_file=r["flow_file"], input=r["input"],
                output=json.loads(r["output"]) if r["output"] else None, status=r["status"],
                error=r["error"], started_at=r["started_at"], finished_at=r["finished_at"],
                duration_ms=r["duration_ms"],
            )
            for r in rows
        ]  # fmt: skip
