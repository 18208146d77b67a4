"""The experiments half of `SqliteStore` (made by m012): an experiment is one `flow run` over
one question file with one or more variants (a flow and the params a grid gave it), each variant
one batch of `flow_runs`; `flow_run_evals` holds each run's evaluation (retrieval metrics,
answer checks, the judge's verdicts with its model and prompt) as JSON. Portable SQL only."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from utils.store.base import StoreBase
from utils.store.sql_seam import SqlConn


@dataclass(frozen=True)
class Variant:
    label: str
    batch_id: str
    flow_name: str
    flow_file: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    id: str
    created_at: str
    input_file: str
    variants: list[Variant]


class ExperimentsMixin(StoreBase):
    def record_experiment(
        self, *, experiment_id: str, input_file: str, variants: Sequence[Variant]
    ) -> None:
        """Insert an experiment and its variants (in order) in one transaction."""
        now = self._now()

        def insert(conn: SqlConn) -> None:
            conn.execute(
                "INSERT INTO experiments (id, created_at, input_file) VALUES (?,?,?)",
                [experiment_id, now, input_file],
            )
            for ord_, v in enumerate(variants):
                conn.execute(
                    "INSERT INTO experiment_variants (experiment_id, ord, label, batch_id, "
                    "flow_name, flow_file, params) VALUES (?,?,?,?,?,?,?)",
                    [experiment_id, ord_, v.label, v.batch_id, v.flow_name, v.flow_file,
                     json.dumps(v.params, sort_keys=True)],
                )  # fmt: skip

        self._write(insert)

    def experiment(self, experiment_id: str) -> Experiment | None:
        head = self._rows("SELECT * FROM experiments WHERE id = ?", [experiment_id])
        if not head:
            return None
        rows = self._rows(
            "SELECT * FROM experiment_variants WHERE experiment_id = ? ORDER BY ord",
            [experiment_id],
        )
        variants = [Variant(r["label"], r["batch_id"], r["flow_name"], r["flow_file"],
                            json.loads(r["params"])) for r in rows]  # fmt: skip
        h = head[0]
        return Experiment(h["id"], h["created_at"], h["input_file"], variants)

    def record_evaluation(self, run_id: int, evaluation: Mapping[str, Any]) -> None:
        """A run's evaluation (replaces an earlier one of the same run)."""
        text = json.dumps(dict(evaluation), ensure_ascii=False, default=str)

        def upsert(conn: SqlConn) -> None:
            conn.execute(
                "INSERT INTO flow_run_evals (run_id, evaluation) VALUES (?, ?) "
                "ON CONFLICT (run_id) DO UPDATE SET evaluation = excluded.evaluation",
                [run_id, text],
            )

        self._write(upsert)

    def evaluations(self, batch_id: str) -> dict[int, dict[str, Any]]:
        """Run id -> evaluation for the runs of a batch that have one."""
        rows = self._rows(
            "SELECT e.run_id, e.evaluation FROM flow_run_evals e "
            "JOIN flow_runs r ON r.id = e.run_id WHERE r.batch_id = ?",
            [batch_id],
        )
        return {int(r["run_id"]): json.loads(r["evaluation"]) for r in rows}
