"""Building a PocketFlow graph from a validated `FlowSpec`.

A node class is built as `cls(deps, **params)` when its constructor's first parameter is named
`deps`, else `cls(**params)`. A `retry:` block goes to `configure_retry` on a `PocketNode`, or to
`max_retries` / `wait` (a fixed sleep of `backoff` seconds) on a plain pocketflow `Node`; keys
left out take `retry_defaults` (the config's `retry:` section). A sub-flow node is its own
`StrictFlow`, wired like any node: its last action is its action in the parent.
"""

from __future__ import annotations

from typing import Any

from pocketflow import BaseNode, Node

from config.settings import RetrySettings
from flows.params import takes_deps
from flows.spec import FlowSpec, NodeSpec, RetrySpec
from flows.strict import NODE_ID_ATTR, StrictFlow
from nodes.base import PocketNode
from nodes.deps import Deps


def build_flow(
    spec: FlowSpec, deps: Deps, retry_defaults: RetrySettings | None = None
) -> StrictFlow:
    """A fresh runnable flow for `spec`; nodes are constructed here, never during validation."""
    defaults = retry_defaults or RetrySettings()
    built = {node_id: _build_node(node, deps, defaults) for node_id, node in spec.nodes.items()}
    for node_id, node in built.items():
        setattr(node, NODE_ID_ATTR, node_id)
    for edge in spec.edges:
        built[edge.src].next(built[edge.dst], edge.action)
    return StrictFlow(built[spec.start], name=spec.name, ends=spec.ends)


def _build_node(node: NodeSpec, deps: Deps, defaults: RetrySettings) -> BaseNode[Any, Any, Any]:
    if node.subflow is not None:
        return build_flow(node.subflow, deps, defaults)
    cls = node.cls
    if cls is None:  # load_flow never returns such a spec
        raise ValueError(f"node '{node.id}' has neither a class nor a sub-flow")
    instance: BaseNode[Any, Any, Any] = (
        cls(deps, **node.params) if takes_deps(cls) else cls(**node.params)
    )
    if node.retry is not None:
        _apply_retry(instance, node.retry, defaults)
    return instance


def _apply_retry(
    instance: BaseNode[Any, Any, Any], retry: RetrySpec, defaults: RetrySettings
) -> None:
    max_retries = retry.max_retries if retry.max_retries is not None else defaults.max_retries
    backoff = retry.backoff if retry.backoff is not None else defaults.backoff
    jitter = retry.jitter if retry.jitter is not None else defaults.jitter
    if isinstance(instance, PocketNode):
        instance.configure_retry(max_retries, backoff, jitter)
    elif isinstance(instance, Node):
        instance.max_retries = max_retries
        instance.wait = backoff
