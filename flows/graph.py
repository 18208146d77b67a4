"""The graph rules of a flow file: edges, ends and reachability.

- `a >> b >> c` chains on the default action; `a - hit >> b` routes action `hit`.
- An edge must leave on an action its node can return.
- A node with no outgoing edges is an end: the flow stops after it, whatever it returns.
- A node with outgoing edges must route every action it can return; an action meant to end the
  flow is listed under `ends:` as `node - action` (or `node` for all its unrouted actions).
- Every node must be reachable from `start`, checked even when other problems were found: over
  every readable hop between declared nodes, so a node behind a broken node or an edge on a
  wrong action is not reported too; a node a broken edge probably meant (a node named in an
  unreadable edge, the near match of an unknown node, the known end of such a hop) is not
  reported either.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flows.params import did_you_mean
from flows.spec import DEFAULT, EdgeSpec, NodeSpec

if TYPE_CHECKING:
    from flows.checker import Checker

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SEGMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:-\s*([A-Za-z0-9_.:-]+))?\s*$")
ActionsOf = Callable[[NodeSpec], tuple[str, ...]]


def parse_segment(text: str) -> tuple[str, str | None] | None:
    """`node` -> (node, None); `node - action` -> (node, action); anything else -> None."""
    m = SEGMENT.match(text)
    return (m.group(1), m.group(2)) if m else None


def parse_edge(text: str) -> list[tuple[str, str, str]] | None:
    """`a - x >> b >> c` -> [(a, x, b), (b, default, c)]; None when malformed."""
    segments: list[tuple[str, str | None]] = []
    for part in text.split(">>"):
        seg = parse_segment(part)
        if seg is None:
            return None
        segments.append(seg)
    if len(segments) < 2 or segments[-1][1] is not None:
        return None
    return [(src, action or DEFAULT, nxt[0]) for (src, action), nxt in itertools.pairwise(segments)]


def check_graph(
    c: Checker,
    data: dict[str, Any],
    nodes: dict[str, NodeSpec],
    start: str | None,
    actions_of: ActionsOf,
) -> tuple[list[EdgeSpec], frozenset[tuple[str, str]]]:
    declared = [str(k) for k in data["nodes"]]
    hops = Hops()
    edges = _edges(c, data.get("edges"), nodes, set(declared), actions_of, hops)
    ends = _ends(c, data.get("ends"), nodes, set(declared), edges, actions_of)
    if start is not None and start in declared:
        _reachable(c, declared, start, hops)
    return edges, ends


@dataclass
class Hops:
    """What reachability runs over: hops between declared nodes, and nodes broken edges meant."""

    links: list[tuple[str, str]] = field(default_factory=list)
    meant: set[str] = field(default_factory=set)


def _edges(
    c: Checker,
    raw: Any,
    nodes: dict[str, NodeSpec],
    declared: set[str],
    actions_of: ActionsOf,
    reach: Hops,
) -> list[EdgeSpec]:
    """The valid edges; `reach` gets every hop between declared nodes, for reachability."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.add(c.line("edges"), None, "'edges' must be a list such as ['a >> b', 'b - hit >> c']")
        return []
    edges: list[EdgeSpec] = []
    seen: dict[tuple[str, str], EdgeSpec] = {}
    for index, text in enumerate(raw):
        line = c.line("edges", index)
        hops = parse_edge(text) if isinstance(text, str) else None
        if hops is None:
            c.add(line, None, f"cannot read edge {text!r}; write 'a >> b' or 'a - action >> b'")
            reach.meant.update(w for w in WORD.findall(str(text)) if w in declared)
            continue
        for src, action, dst in hops:
            bad = False
            for end in (src, dst):
                if end not in declared:
                    c.add(
                        line,
                        end,
                        f"edge names an unknown node{did_you_mean(end, sorted(declared))}",
                    )
                    bad = True
            if bad:
                for end in (src, dst):
                    near = difflib.get_close_matches(end, sorted(declared), n=1)
                    reach.meant.update([end] if end in declared else near)
                continue
            reach.links.append((src, dst))
            if src not in nodes or dst not in nodes:
                continue
            can = actions_of(nodes[src])
            if action not in can:
                c.add(
                    line,
                    src,
                    f"edge on action '{action}', which it never returns "
                    f"(it returns: {', '.join(can) or 'nothing'})",
                )
                continue
            if (src, action) in seen:
                first = seen[(src, action)]
                c.add(
                    line,
                    src,
                    f"action '{action}' already goes to '{first.dst}' (line {first.line})",
                )
                continue
            edge = EdgeSpec(src, action, dst, line)
            seen[(src, action)] = edge
            edges.append(edge)
    return edges


def _ends(
    c: Checker,
    raw: Any,
    nodes: dict[str, NodeSpec],
    declared: set[str],
    edges: list[EdgeSpec],
    actions_of: ActionsOf,
) -> frozenset[tuple[str, str]]:
    routed = {(e.src, e.action) for e in edges}
    has_edges = {e.src for e in edges}
    listed_all: set[str] = set()
    listed: set[tuple[str, str]] = set()
    if raw is not None and not isinstance(raw, list):
        c.add(c.line("ends"), None, "'ends' must be a list such as [archive, 'call - failed']")
        raw = None
    for index, text in enumerate(raw or []):
        line = c.line("ends", index)
        seg = parse_segment(text) if isinstance(text, str) else None
        if seg is None:
            c.add(line, None, f"cannot read end {text!r}; write 'node' or 'node - action'")
            continue
        node_id, action = seg
        if node_id not in declared:
            c.add(
                line,
                node_id,
                f"'ends' names an unknown node{did_you_mean(node_id, sorted(declared))}",
            )
            continue
        if node_id not in nodes:
            continue
        if action is None:
            listed_all.add(node_id)
        elif action not in actions_of(nodes[node_id]):
            c.add(line, node_id, f"'ends' lists action '{action}', which it never returns")
        elif (node_id, action) in routed:
            c.add(line, node_id, f"'ends' lists action '{action}', which has an edge")
        else:
            listed.add((node_id, action))
    ends: set[tuple[str, str]] = set()
    for node_id, node in nodes.items():
        for action in actions_of(node):
            if (node_id, action) in routed:
                continue
            if node_id not in has_edges or node_id in listed_all or (node_id, action) in listed:
                ends.add((node_id, action))
            else:
                c.add(
                    node.line,
                    node_id,
                    f"action '{action}' has no edge; add "
                    f"'{node_id} - {action} >> ...' or list '{node_id} - {action}' under ends",
                )
    return frozenset(ends)


def _reachable(c: Checker, declared: list[str], start: str, hops: Hops) -> None:
    """Report the declared nodes no hop leads to from `start` (see the module's notes)."""
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for src, dst in hops.links:
            if src == current and dst not in seen:
                seen.add(dst)
                todo.append(dst)
    for node_id in declared:
        if node_id not in seen and node_id not in hops.meant:
            c.add(c.line("nodes", node_id), node_id, f"unreachable from start node '{start}'")
