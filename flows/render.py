"""Text views of a validated flow: a mermaid diagram and a plain outline (for `flow show`).

Each edge carries the shared keys its source node writes when it leaves on that action (a
sub-flow: what it writes on every path to that end; nothing for a node that declares nothing).
"""

from __future__ import annotations

from flows.spec import DEFAULT, EdgeSpec, FlowSpec, NodeSpec
from flows.wiring import written


def _mid(node_id: str) -> str:
    return f"n_{node_id}"  # mermaid reserves words such as `end`


def _label(node: NodeSpec) -> str:
    if node.subflow is not None:
        return f'{_mid(node.id)}[["{node.id}<br/>flow: {node.flow_ref}"]]'
    return f'{_mid(node.id)}["{node.id}<br/>{node.type_name}"]'


def edge_keys(spec: FlowSpec, edge: EdgeSpec) -> str:
    """`context, prompt` (sorted); empty when it writes nothing or does not say."""
    node = spec.nodes[edge.src]
    keys = written(node, edge.action)
    if keys is None:
        return ""
    if node.subflow is not None:
        keys = keys - node.subflow.provided
    return ", ".join(sorted(keys))


def _edge_label(spec: FlowSpec, edge: EdgeSpec) -> str:
    keys = edge_keys(spec, edge)
    text = edge.action if edge.action != DEFAULT else ""
    if keys:
        text = f"{text}: {keys}" if text else keys
    return text


def mermaid(spec: FlowSpec) -> str:
    """A `flowchart TD` diagram; explicit ends (under `ends:`) point at a stop circle."""
    lines = ["flowchart TD"]
    lines += [f"    {_label(node)}" for node in spec.nodes.values()]
    for e in spec.edges:
        label = _edge_label(spec, e)
        shown = label if label == e.action else f'"{label}"'
        arrow = f"-->|{shown}|" if label else "-->"
        lines.append(f"    {_mid(e.src)} {arrow} {_mid(e.dst)}")
    routed = {e.src for e in spec.edges}
    explicit = sorted((n, a) for n, a in spec.ends if n in routed)
    if explicit:
        lines.append("    stop((end))")
        lines += [f"    {_mid(n)} -.->|{a}| stop" for n, a in explicit]
    lines.append(f"    style {_mid(spec.start)} stroke-width:3px")
    return "\n".join(lines)


def _node_line(node: NodeSpec, width: int) -> str:
    if node.subflow is not None:
        return f"  {node.id:<{width}}  flow {node.flow_ref} ({node.subflow.file})"
    parts = [f"  {node.id:<{width}}  {node.type_name}"]
    parts += [f"{k}={v!r}" for k, v in node.params.items()]
    if node.retry is not None:
        r = node.retry
        given = {"max_retries": r.max_retries, "backoff": r.backoff, "jitter": r.jitter}
        shown = " ".join(f"{k}={v}" for k, v in given.items() if v is not None)
        parts.append(f"retry({shown or 'defaults'})")
    return "  ".join(parts)


def outline(spec: FlowSpec) -> str:
    """Nodes with their types, params and retry; edges; where the flow ends."""
    width = max(len(n) for n in spec.nodes)
    lines = [f"flow {spec.name}: {spec.description}".rstrip(": "), f"file: {spec.file}"]
    if spec.imports:
        lines.append(f"imports: {', '.join(spec.imports)}")
    if spec.inputs:
        lines.append(f"inputs: {', '.join(spec.inputs)}")
    lines += [f"start: {spec.start}", "nodes:"]
    lines += [_node_line(node, width) for node in spec.nodes.values()]
    lines.append("edges:")
    for e in spec.edges:
        via = "" if e.action == DEFAULT else f" - {e.action}"
        keys = edge_keys(spec, e)
        lines.append(f"  {e.src}{via} >> {e.dst}" + (f"   [{keys}]" if keys else ""))
    lines.append("ends:")
    routed = {e.src for e in spec.edges}
    for node_id, action in sorted(spec.ends):
        why = "" if node_id in routed else "  (no outgoing edges)"
        lines.append(f"  {node_id} - {action}{why}")
    return "\n".join(lines)
