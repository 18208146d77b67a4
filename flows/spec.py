"""The parsed, validated form of a flow file (what `load_flow` returns and `build_flow` builds)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT = "default"
Keys = (
    frozenset[str] | None
)  # shared keys surely there; None: any may be (after an undeclared node)


@dataclass(frozen=True)
class RetrySpec:
    """A node's `retry:` block; a key left out takes the config's `retry` default at build time."""

    max_retries: int | None = None
    backoff: float | None = None
    jitter: float | None = None


@dataclass(frozen=True)
class NodeSpec:
    """One entry under `nodes:`: either a node class (`type`) or a sub-flow (`flow`)."""

    id: str
    line: int | None
    type_name: str | None = None
    cls: type[Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    retry: RetrySpec | None = None
    flow_ref: str | None = None
    subflow: FlowSpec | None = None


@dataclass(frozen=True)
class EdgeSpec:
    """`src - action >> dst` (action "default" for a plain `src >> dst`)."""

    src: str
    action: str
    dst: str
    line: int | None


@dataclass(frozen=True)
class FlowSpec:
    """A whole flow: its nodes, edges, start and the places where it ends on purpose."""

    name: str
    description: str
    file: Path
    start: str
    nodes: dict[str, NodeSpec]
    edges: list[EdgeSpec]
    ends: frozenset[tuple[str, str]]
    imports: tuple[str, ...] = ()
    unchecked: tuple[str, ...] = ()  # `--no-imports`: nodes whose types may come from imports
    inputs: Mapping[str, Any] = field(default_factory=dict)  # YAML `inputs:`: key -> type
    provided: frozenset[str] = frozenset()  # every input in effect at the start (flows/wiring.py)
    end_writes: Mapping[str, Keys] = field(default_factory=dict)  # end action -> keys there
    warnings: tuple[str, ...] = ()  # e.g. a node that declares no reads or writes

    def all_warnings(self) -> tuple[str, ...]:
        """`warnings` of this flow and of its sub-flows."""
        found = list(self.warnings)
        for node in self.nodes.values():
            if node.subflow is not None:
                found.extend(n for n in node.subflow.all_warnings() if n not in found)
        return tuple(found)

    def all_unchecked(self) -> tuple[str, ...]:
        """`unchecked` of this flow and of its sub-flows."""
        found = list(self.unchecked)
        for node in self.nodes.values():
            if node.subflow is not None:
                found.extend(n for n in node.subflow.all_unchecked() if n not in found)
        return tuple(found)

    def successors(self, node_id: str) -> dict[str, str]:
        """Action -> destination node id for the edges leaving `node_id`."""
        return {e.action: e.dst for e in self.edges if e.src == node_id}

    def end_actions(self) -> tuple[str, ...]:
        """The actions this flow can end on: its last action, seen by a parent flow."""
        seen: dict[str, None] = {}
        for src, action in sorted(self.ends):
            if src in self.nodes:
                seen.setdefault(action, None)
        return tuple(seen)
