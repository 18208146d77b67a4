"""Is every shared key a node reads there when it runs? (`flow validate`, from the declarations.)

A key is there at a node when every path from `start` to it passes a node that writes it (on the
action taken), or when the flow's inputs provide it: the YAML `inputs:`, the keys its nodes take
from the caller (`inputs` of their classes), and — for a turn flow, one whose nodes read the
person's `user_message` — the turn's standard inputs (`TURN_INPUTS`), which chat, ask, serve
and `flow run` give every turn (not `session_id` and `model`: they may be None until LoadSession
resolves them). A key in `reads` that is not there is an error on the node's
line; `may_read` keys are never required. A node whose class declares nothing (a person's plain
pocketflow node) is a warning, and after it any key may be there (no error is made up). A
sub-flow node reads the sub-flow's YAML `inputs:` and writes what the sub-flow writes on every
path to the end it leaves by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flows.errors import FlowIssue
from flows.spec import EdgeSpec, FlowSpec, Keys, NodeSpec
from nodes.keys import declaration

TURN_INPUTS: tuple[str, ...] = (
    "user_message", "regenerate", "retry_hint", "request_id", "system", "options", "title",
    "origin", "collection", "_store", "context_mode",
)  # fmt: skip  # not session_id, model: None until LoadSession resolves them


@dataclass(frozen=True)
class Wiring:
    provided: frozenset[str]  # the flow's inputs, in effect at its start
    end_writes: Mapping[str, Keys]  # end action -> keys there when the flow ends on it
    issues: list[FlowIssue]
    warnings: list[FlowIssue]


def is_turn_flow(spec: FlowSpec) -> bool:
    """A flow whose nodes (or sub-flows' nodes) take the person's message from the caller."""
    for node in spec.nodes.values():
        if node.subflow is not None and is_turn_flow(node.subflow):
            return True
        if node.cls is not None and "user_message" in declaration(node.cls).inputs:
            return True
    return False


def caller_keys(spec: FlowSpec) -> set[str]:
    """The keys its nodes (and its sub-flows' nodes) take from the caller (`inputs`)."""
    found: set[str] = set()
    for node in spec.nodes.values():
        if node.subflow is not None:
            found |= caller_keys(node.subflow)
        elif node.cls is not None:
            found |= set(declaration(node.cls).inputs)
    return found


def provided_keys(spec: FlowSpec) -> frozenset[str]:
    """Keys there at the start: YAML `inputs:`, the nodes' caller keys, a turn's inputs."""
    found = set(spec.inputs) | caller_keys(spec)
    if is_turn_flow(spec):
        found |= set(TURN_INPUTS)
    return frozenset(found)


def written(node: NodeSpec, action: str) -> Keys:
    """The keys `node` sets when it leaves on `action` (None: it does not say)."""
    if node.subflow is not None:
        return node.subflow.end_writes.get(action)
    if node.cls is None:
        return None
    decl = declaration(node.cls)
    return frozenset(decl.written(action)) if decl.declared else None


def needed(node: NodeSpec) -> dict[str, str]:
    """Key -> who needs it: the node's `reads`, or a sub-flow's YAML inputs."""
    if node.subflow is not None:
        return {key: f"flow {node.flow_ref}" for key in node.subflow.inputs}
    if node.cls is None:
        return {}
    return {key: node.type_name or "" for key in declaration(node.cls).reads}


def check_wiring(spec: FlowSpec) -> Wiring:
    """The keys at every node (must-analysis over the edges), and what is missing where."""
    provided = provided_keys(spec)
    there = _fixpoint(spec, provided)
    issues: list[FlowIssue] = []
    warnings: list[FlowIssue] = []
    file = str(spec.file)
    for node_id, node in spec.nodes.items():
        if node.cls is not None and node.subflow is None and not declaration(node.cls).declared:
            warnings.append(FlowIssue(file, node.line, node_id,
                f"warning: {node.type_name} declares no reads or writes; keys read after it "
                "are not checked"))  # fmt: skip
        keys = there.get(node_id)
        if keys is None:
            continue
        for key, who in needed(node).items():
            if key not in keys:
                issues.append(FlowIssue(file, node.line, node_id,
                    f"{who} reads '{key}', {_why(spec, key, node_id)}"))  # fmt: skip
    ends: dict[str, Keys] = {}
    for node_id, action in sorted(spec.ends):
        out = _out(spec.nodes[node_id], action, there.get(node_id))
        ends[action] = out if action not in ends else _meet(ends[action], out)
    return Wiring(provided, ends, issues, warnings)


def _why(spec: FlowSpec, key: str, node_id: str) -> str:
    writers = [n for n, node in spec.nodes.items() if n != node_id and _may_write(node, key)]
    before = _upstream(spec, node_id)
    earlier = [n for n in writers if n in before]
    if earlier:
        names = ", ".join(f"'{n}'" for n in earlier)
        return (f"which is not written on every path from '{spec.start}' to it "
                f"(written by {names})")  # fmt: skip
    later = ", ".join(f"'{n}'" for n in writers)
    tail = f" ({later} writes it, after this node)" if writers else " (add it under `inputs:`)"
    return "which no upstream node writes and no input provides" + tail


def _upstream(spec: FlowSpec, node_id: str) -> set[str]:
    """The nodes some path leads from to `node_id`."""
    found: set[str] = set()
    todo = [node_id]
    while todo:
        dst = todo.pop()
        for edge in spec.edges:
            if edge.dst == dst and edge.src not in found:
                found.add(edge.src)
                todo.append(edge.src)
    return found


def _may_write(node: NodeSpec, key: str) -> bool:
    if node.subflow is not None:
        return any(keys is not None and key in keys for keys in node.subflow.end_writes.values())
    if node.cls is None:
        return False
    decl = declaration(node.cls)
    return (
        key in decl.writes
        or key in decl.may_write
        or any(key in keys for keys in decl.writes_on.values())
    )


def _out(node: NodeSpec, action: str, keys_in: Keys) -> Keys:
    if keys_in is None:
        return None
    more = written(node, action)
    return None if more is None else keys_in | more


def _meet(a: Keys, b: Keys) -> Keys:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _fixpoint(spec: FlowSpec, provided: frozenset[str]) -> dict[str, Keys]:
    """Node id -> keys surely there when it starts; nodes no edge reaches are left out."""
    there: dict[str, Keys] = {spec.start: provided}
    todo = [spec.start]
    while todo:
        src = todo.pop()
        for edge in _leaving(spec, src):
            now = _out(spec.nodes[src], edge.action, there[src])
            if edge.dst in there:
                now = _meet(there[edge.dst], now)
            if edge.dst == spec.start:
                now = _meet(now, provided)
            if edge.dst not in there or now != there[edge.dst]:
                there[edge.dst] = now
                todo.append(edge.dst)
    return there


def _leaving(spec: FlowSpec, node_id: str) -> Iterable[EdgeSpec]:
    return [e for e in spec.edges if e.src == node_id]
