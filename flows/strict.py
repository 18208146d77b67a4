"""A PocketFlow `Flow` that refuses to end by accident.

PocketFlow ends a flow with only a warning when a node returns an action that has no successor.
`StrictFlow` ends quietly only where the flow file says it may (a node with no outgoing edges, or
an entry under `ends:`) and raises `FlowRoutingError` otherwise. An exception out of a node
is marked with the flow, the node id and its class (`flows/node_errors.py`), so the person
reads which of their nodes failed, not a bare `KeyError`.
"""

from __future__ import annotations

import copy
from typing import Any

from pocketflow import BaseNode, Flow

from flows.errors import FlowRoutingError
from flows.node_errors import mark
from flows.spec import DEFAULT

NODE_ID_ATTR = "flow_node_id"  # set by build_flow on every node; survives PocketFlow's copies


def node_id(node: BaseNode[Any, Any, Any]) -> str:
    return str(getattr(node, NODE_ID_ATTR, type(node).__name__))


class StrictFlow(Flow):  # type: ignore[type-arg]
    def __init__(
        self,
        start: BaseNode[Any, Any, Any] | None = None,
        *,
        name: str = "flow",
        ends: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        super().__init__(start)
        self.name = name
        self.ends = ends

    def get_next_node(
        self, curr: BaseNode[Any, Any, Any], action: str | None
    ) -> BaseNode[Any, Any, Any] | None:
        key = action or DEFAULT
        successors: dict[str, BaseNode[Any, Any, Any]] = curr.successors
        nxt = successors.get(key)
        if nxt is not None:
            return nxt
        current = node_id(curr)
        if not successors or (current, key) in self.ends:
            return None
        routes = ", ".join(f"{a} -> {node_id(n)}" for a, n in successors.items())
        raise FlowRoutingError(
            f"flow '{self.name}': node '{current}' returned action '{key}', which has no edge "
            f"and is not under ends (its edges: {routes})"
        )

    def _orch(self, shared: Any, params: Any = None) -> Any:
        """PocketFlow 0.0.3's loop (pinned), with each node's exception marked."""
        curr = copy.copy(self.start_node)
        p, last_action = (params or {**self.params}), None
        while curr:
            curr.set_params(p)
            try:
                last_action = curr._run(shared)
            except Exception as exc:
                mark(exc, self.name, node_id(curr), type(curr))
                raise
            curr = copy.copy(self.get_next_node(curr, last_action))
        return last_action
