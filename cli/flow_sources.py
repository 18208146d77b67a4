"""What `flow compare` compares: variants, each a label and its `flow run` records, read from
`flow run --out` files (a file of several variants is split by its `variant` key) or from the
store by experiment id or batch id (runs with their recorded evaluations)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from cli.flow_summary import read_jsonl

Column = tuple[str, list[dict[str, Any]]]


def load_columns(ctx: click.Context, sources: Sequence[str]) -> list[Column]:
    """Every variant named by `sources`, in order; one clear line when one is neither."""
    columns: list[Column] = []
    for source in sources:
        path = Path(source)
        if path.is_file():
            columns.extend(_from_file(path))
        else:
            columns.extend(_from_store(ctx, source))
    labels = [label for label, _ in columns]
    if len(set(labels)) < len(labels):  # the same file twice: A, B, ...
        columns = [(f"{chr(65 + i)} {label}", rows) for i, (label, rows) in enumerate(columns)]
    return columns


def _from_file(path: Path) -> list[Column]:
    rows = read_jsonl(path)
    variants: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        variants.setdefault(str(row.get("variant") or ""), []).append(row)
    if len(variants) <= 1:
        return [(str(path), rows)]
    return list(variants.items())


def _from_store(ctx: click.Context, source: str) -> list[Column]:
    from cli._ctx import get_store, store_errors

    if "/" in source or source.endswith((".jsonl", ".json")):
        raise click.ClickException(f"{source}: no such file")
    with store_errors():
        store = get_store(ctx)
        experiment = store.experiment(source)
        if experiment is not None:
            return [(v.label, _records(store, v.batch_id, experiment.id, v.label))
                    for v in experiment.variants]  # fmt: skip
        rows = _records(store, source, None, None)
    if not rows:
        raise click.ClickException(
            f"{source}: not a file, an experiment id nor a batch id (see `flow run`'s output)"
        )
    return [(f"batch {source}", rows)]


def _records(store: Any, batch: str, experiment: str | None, label: str | None) -> list[Any]:
    evaluations = store.evaluations(batch)
    out = []
    for run in store.flow_runs(batch):
        try:
            given: Any = json.loads(run.input)
        except json.JSONDecodeError:
            given = run.input
        record = {"line": run.line, "batch_id": run.batch_id, "run_id": run.id,
                  "input": given, "status": run.status, "error": run.error,
                  "outputs": run.output, **evaluations.get(run.id, {})}  # fmt: skip
        if experiment:
            record.update(experiment_id=experiment, variant=label)
        out.append(record)
    return out
