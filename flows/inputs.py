"""What a flow reads from whoever runs it, and whether one set of inputs suits it.

Node classes declare the shared keys they take from the caller and their types
(`PocketNode.inputs`, e.g. LoadSession: `{"user_message": str, ...}`; a person's own node may
declare `inputs` too). A flow reads the union over its nodes and sub-flows, and the keys of its
own YAML `inputs:`. `flow run` checks
each input line against it before running the line, so `{"user_message": 42}` is "'user_message'
must be text, not 42 (node 'load' reads it)" rather than an error deep inside a node. Keys no
node declares (`expected_sources`, a person's own keys) pass unchecked, unless one is a near
miss of a declared key the line lacks (`user_mesage`: did you mean 'user_message'?).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.spec import FlowSpec
from utils.typecheck import describe, fits


@dataclass(frozen=True)
class Declared:
    """One node's declaration of one input key."""

    node: str
    hint: Any


def flow_inputs(spec: FlowSpec) -> dict[str, list[Declared]]:
    """Input key -> the nodes (of the flow and its sub-flows) that read it, with their types."""
    found: dict[str, list[Declared]] = {}
    for key, hint in spec.inputs.items():  # the flow's own `inputs:` (node "" = the flow)
        found.setdefault(key, []).append(Declared("", hint))
    for node in spec.nodes.values():
        if node.subflow is not None:
            for key, decls in flow_inputs(node.subflow).items():
                found.setdefault(key, []).extend(decls)
            continue
        declared = getattr(node.cls, "inputs", None)
        if isinstance(declared, Mapping):
            for key, hint in declared.items():
                found.setdefault(str(key), []).append(Declared(node.id, hint))
    return found


def input_problem(declared: Mapping[str, list[Declared]], values: Mapping[str, Any]) -> str | None:
    """The first key whose value does not suit a node that reads it, in one line; else None."""
    for key, value in values.items():
        for decl in declared.get(key, ()):
            if not fits(decl.hint, value):
                who = f"node '{decl.node}' reads it" if decl.node else "the flow's inputs: say so"
                return f"'{key}' must be {describe(decl.hint)}, not {_shown(value)} ({who})"
    missing = [key for key in declared if key not in values]
    for key in values:
        near = difflib.get_close_matches(key, missing, n=1, cutoff=0.8)
        if key not in declared and near:
            return f"no node reads '{key}' (did you mean '{near[0]}'?)"
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "…"
