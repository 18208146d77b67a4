"""Checking a parsed flow file: top-level keys, nodes, params and retry blocks.

The graph rules (edges, ends, reachability) live in `flows.graph`. Every problem is collected as a
`FlowIssue`; nothing stops at the first one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pocketflow import BaseNode, Node

from flows.checker import Checker
from flows.errors import FlowIssue
from flows.graph import check_graph
from flows.input_types import parse_inputs
from flows.params import check_params, did_you_mean
from flows.source import Source
from flows.spec import DEFAULT, FlowSpec, NodeSpec, RetrySpec
from flows.wiring import check_wiring
from nodes.registry import Registry

TOP_KEYS = ("name", "description", "imports", "inputs", "start", "nodes", "edges", "ends")
REQUIRED_KEYS = ("start", "nodes")
NODE_KEYS = ("type", "flow", "params", "retry")
RETRY_KEYS = ("max_retries", "backoff", "jitter")
NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SubflowLoader = Callable[[str, int | None, str], FlowSpec | None]


def node_actions(node: NodeSpec) -> tuple[str, ...]:
    """What a node can return: a class's `actions` (else "default"), a sub-flow's end actions."""
    if node.subflow is not None:
        return node.subflow.end_actions()
    if node.cls is None:
        return ()
    actions = getattr(node.cls, "actions", (DEFAULT,))
    return tuple(str(a) for a in actions)


def check_flow(
    source: Source,
    path: Path,
    registry: Registry,
    load_sub: SubflowLoader,
    *,
    imports_skipped: bool = False,
) -> tuple[FlowSpec | None, list[FlowIssue]]:
    """Validate a parsed file; returns the spec (None when unusable) and every issue found.
    `imports_skipped`: an unknown type is noted in `spec.unchecked`, not an issue."""
    c = Checker(source, path, imports_skipped=imports_skipped)
    data = source.data
    if not isinstance(data, dict):
        c.add(c.line(), None, "a flow file must be a mapping with 'start' and 'nodes'")
        return None, c.issues
    for key_path, line in source.duplicates:
        who = str(key_path[1]) if len(key_path) == 2 and key_path[0] == "nodes" else None
        what = "node id" if who else f"key '{'.'.join(map(str, key_path))}'"
        c.add(line, who, f"duplicate {what}; first defined on line {c.line(*key_path)}")
    for key in data:
        if key not in TOP_KEYS:
            c.add(
                c.line(str(key)),
                None,
                f"unknown top-level key '{key}'{did_you_mean(str(key), list(TOP_KEYS))}",
            )
    for key in REQUIRED_KEYS:
        if key not in data:
            c.add(c.line(), None, f"missing top-level key '{key}'")
    name = _text(c, data, "name", path.stem)
    description = _text(c, data, "description", "")
    nodes = _nodes(c, data.get("nodes"), registry, load_sub)
    start = data.get("start")
    if "start" in data and not isinstance(start, str):
        c.add(c.line("start"), None, "'start' must be a node id")
    elif (
        isinstance(start, str)
        and isinstance(data.get("nodes"), dict)
        and start not in {str(k) for k in data["nodes"]}
    ):
        c.add(
            c.line("start"),
            None,
            f"start node '{start}' is not defined"
            f"{did_you_mean(start, [str(k) for k in data['nodes']])}",
        )
    imports = data.get("imports") or []
    inputs = parse_inputs(c, data.get("inputs"))
    if nodes is None:
        return None, c.issues
    edges, ends = check_graph(
        c, data, nodes, start if isinstance(start, str) else None, node_actions
    )
    if c.issues or not isinstance(start, str):
        return None, c.issues
    spec = FlowSpec(
        name=name,
        description=description,
        file=path,
        start=start,
        nodes=nodes,
        edges=edges,
        ends=ends,
        imports=tuple(str(i) for i in imports) if isinstance(imports, list) else (),
        unchecked=tuple(str(issue) for issue in c.unchecked),
        inputs=inputs,
    )
    if c.unchecked:  # a node left out (imports not run) would hide what it writes
        return spec, c.issues
    wiring = check_wiring(spec)
    spec = dataclasses.replace(
        spec,
        provided=wiring.provided,
        end_writes=wiring.end_writes,
        warnings=tuple(str(w) for w in wiring.warnings),
    )
    return (None if wiring.issues else spec), [*c.issues, *wiring.issues]


def _text(c: Checker, data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        c.add(c.line(key), None, f"'{key}' must be text, got {value!r}")
        return default
    return value


def _nodes(
    c: Checker, raw: Any, registry: Registry, load_sub: SubflowLoader
) -> dict[str, NodeSpec] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        c.add(c.line("nodes"), None, "'nodes' must be a mapping of node id to {type: ...}")
        return None
    out: dict[str, NodeSpec] = {}
    for node_id, entry in raw.items():
        key = str(node_id)
        line = c.line("nodes", key)
        if not NODE_ID.match(key):
            c.add(line, key, "a node id must be a word (letters, digits, _)")
        spec = _node(c, key, line, entry, registry, load_sub)
        if spec is not None:
            out[key] = spec
    return out


def _node(
    c: Checker,
    node_id: str,
    line: int | None,
    entry: Any,
    registry: Registry,
    load_sub: SubflowLoader,
) -> NodeSpec | None:
    if not isinstance(entry, dict):
        c.add(line, node_id, "must be a mapping such as {type: LoadSession}")
        return None
    for key in entry:
        if key not in NODE_KEYS:
            c.add(
                c.line("nodes", node_id, str(key)),
                node_id,
                f"unknown key '{key}'{did_you_mean(str(key), list(NODE_KEYS))}",
            )
    type_name, flow_ref = entry.get("type"), entry.get("flow")
    if (type_name is None) == (flow_ref is None):
        c.add(line, node_id, "needs exactly one of 'type' (a node class) or 'flow' (a sub-flow)")
        return None
    if flow_ref is not None:
        if not isinstance(flow_ref, str):
            c.add(line, node_id, "'flow' must be a flow name or a file path")
            return None
        for key in ("params", "retry"):
            if key in entry:
                c.add(c.line("nodes", node_id, key), node_id, f"a sub-flow node takes no '{key}'")
        sub = load_sub(flow_ref, c.line("nodes", node_id, "flow"), node_id)
        return NodeSpec(node_id, line, flow_ref=flow_ref, subflow=sub) if sub else None
    if not isinstance(type_name, str):
        c.add(line, node_id, "'type' must be a node class name")
        return None
    cls = registry.get(type_name)
    if cls is None and c.imports_skipped:
        c.unchecked.append(
            FlowIssue(
                c.source.file,
                c.line("nodes", node_id, "type"),
                node_id,
                f"type '{type_name}' unknown unless imports run "
                "(its params, retry and actions not checked)"
                f"{did_you_mean(type_name, registry.names())}",
            )
        )
        return None
    if cls is None:
        c.add(
            c.line("nodes", node_id, "type"),
            node_id,
            f"unknown node type '{type_name}'{did_you_mean(type_name, registry.names())}",
        )
        return None
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        c.add(c.line("nodes", node_id, "params"), node_id, "'params' must be a mapping")
        params = {}
    for key, problem in check_params(cls, {str(k): v for k, v in params.items()}):
        where = ("nodes", node_id, "params", key) if key else ("nodes", node_id, "params")
        c.add(c.line(*where), node_id, f"{type_name}: {problem}")
    retry = _retry(c, node_id, cls, entry)
    return NodeSpec(node_id, line, type_name=type_name, cls=cls, params=dict(params), retry=retry)


def _retry(
    c: Checker, node_id: str, cls: type[BaseNode[Any, Any, Any]], entry: dict[str, Any]
) -> RetrySpec | None:
    if "retry" not in entry:
        return None
    raw, line = entry["retry"], c.line("nodes", node_id, "retry")
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        c.add(line, node_id, "'retry' must be a mapping of max_retries, backoff, jitter (or true)")
        return None
    if not issubclass(cls, Node):
        c.add(line, node_id, f"{cls.__name__} is not a pocketflow Node and cannot retry")
        return None
    ok = True
    for key, value in raw.items():
        if key not in RETRY_KEYS:
            c.add(
                line,
                node_id,
                f"unknown retry key '{key}'{did_you_mean(str(key), list(RETRY_KEYS))}",
            )
            ok = False
        elif key == "max_retries" and not (type(value) is int and value >= 1):
            c.add(line, node_id, f"retry max_retries must be a whole number >= 1, got {value!r}")
            ok = False
        elif key in ("backoff", "jitter") and not (
            type(value) in (int, float) and value >= 0 and (key == "backoff" or value <= 1)
        ):
            bound = ">= 0" if key == "backoff" else "between 0 and 1"
            c.add(line, node_id, f"retry {key} must be a number {bound}, got {value!r}")
            ok = False
    if not ok:
        return None
    return RetrySpec(
        max_retries=raw.get("max_retries"),
        backoff=float(raw["backoff"]) if "backoff" in raw else None,
        jitter=float(raw["jitter"]) if "jitter" in raw else None,
    )
