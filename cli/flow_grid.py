"""The variants of an experiment: every flow named, times every combination of a parameter grid.

A grid key is `param` (every node of the flow whose class takes that param) or `node.param`
(that node only; a node of a sub-flow is `sub.node.param`). Values are read as YAML scalars
(`2`, `false`, `text`) and checked against the node's constructor like params in the file.
`--grid top_k=2,4,8 --grid hybrid=false,true` and a `grid:` YAML file (`{top_k: [2, 4, 8]}`,
or the mapping at the top) add up; the same key twice is an error.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from flows.params import check_params
from flows.spec import FlowSpec, NodeSpec


@dataclass(frozen=True)
class Planned:
    """One variant to run: the flow with its grid params applied, and how it is labelled."""

    label: str
    spec: FlowSpec
    params: dict[str, Any]


def parse_grid(options: Sequence[str], grid_file: Path | None) -> dict[str, list[Any]]:
    """key -> values from `--grid key=v1,v2` options and a YAML file; ClickException if bad."""
    grid: dict[str, list[Any]] = {}
    if grid_file is not None:
        try:
            data = yaml.safe_load(grid_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise click.ClickException(f"{grid_file}: not a readable YAML grid ({exc})") from exc
        if isinstance(data, Mapping) and isinstance(data.get("grid"), Mapping):
            data = data["grid"]
        if not isinstance(data, Mapping) or not data:
            raise click.ClickException(f"{grid_file}: a grid is a mapping of key: [values]")
        for key, values in data.items():
            listed = values if isinstance(values, list) else [values]
            _add(grid, str(key), listed, f"{grid_file}: ")
    for option in options:
        key, sep, text = option.partition("=")
        if not sep or not key.strip() or not text.strip():
            raise click.ClickException(f"--grid {option!r}: write KEY=V1,V2 (e.g. top_k=2,4,8)")
        values = [yaml.safe_load(v) if v.strip() else v for v in text.split(",")]
        _add(grid, key.strip(), values, "--grid ")
    return grid


def _add(grid: dict[str, list[Any]], key: str, values: list[Any], where: str) -> None:
    if key in grid:
        raise click.ClickException(f"{where}{key}: given twice")
    if not values:
        raise click.ClickException(f"{where}{key}: no values")
    grid[key] = values


def plan(specs: Sequence[FlowSpec], grid: Mapping[str, list[Any]]) -> list[Planned]:
    """Every flow times every combination of the grid, in order; labels are unique."""
    keys = list(grid)
    planned: list[Planned] = []
    names = [s.name for s in specs]
    for spec in specs:
        for combo in itertools.product(*(grid[k] for k in keys)) if keys else [()]:
            params = dict(zip(keys, combo, strict=True))
            applied = apply_params(spec, params)
            head = spec.name if names.count(spec.name) == 1 else str(spec.file)
            shown = " ".join(f"{k}={_show(v)}" for k, v in params.items())
            planned.append(Planned(f"{head} {shown}".strip(), applied, params))
    return planned


def apply_params(spec: FlowSpec, params: Mapping[str, Any]) -> FlowSpec:
    """A copy of `spec` with the grid's params set on the nodes they name."""
    for key, value in params.items():
        *path, param = key.split(".")
        spec, hits = _set(spec, path, param, value)
        if not hits:
            where = f"node '{'.'.join(path)}'" if path else "no node"
            raise click.ClickException(
                f"flow {spec.name}: --grid {key}: {where} takes a param '{param}'"
                if path else f"flow {spec.name}: --grid {key}: no node takes a param '{param}'"
            )  # fmt: skip
    return spec


def _set(spec: FlowSpec, path: list[str], param: str, value: Any) -> tuple[FlowSpec, int]:
    nodes: dict[str, NodeSpec] = {}
    hits = 0
    for node_id, node in spec.nodes.items():
        if path and path[0] != node_id:
            nodes[node_id] = node
            continue
        rest = path[1:]
        if node.subflow is not None and (rest or not path):
            sub, n = _set(node.subflow, rest, param, value)
            nodes[node_id], hits = dataclasses.replace(node, subflow=sub), hits + n
        elif node.cls is not None and not rest and _takes(node.cls, param):
            problems = check_params(node.cls, {**node.params, param: value})
            bad = [m for p, m in problems if p == param]
            if bad:
                raise click.ClickException(f"flow {spec.name}, node '{node_id}': {bad[0]}")
            params = {**node.params, param: value}
            nodes[node_id], hits = dataclasses.replace(node, params=params), hits + 1
        else:
            nodes[node_id] = node
    return dataclasses.replace(spec, nodes=nodes), hits


def _takes(cls: type[Any], param: str) -> bool:
    return not any(p == param and m.startswith("unknown param") for p, m in
                   check_params(cls, {param: None}))  # fmt: skip


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
