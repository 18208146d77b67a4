"""Text views of a validated flow: a mermaid diagram and a plain outline (for `flow show`)."""

from __future__ import annotations

from flows.spec import DEFAULT, FlowSpec, NodeSpec


def _mid(node_id: str) -> str:
    return f"n_{node_id}"  # mermaid reserves words such as `end`


def _label(node: NodeSpec) -> str:
    if node.subflow is not None:
        return f'{_mid(node.id)}[["{node.id}<br/>flow: {node.flow_ref}"]]'
    return f'{_mid(node.id)}["{node.id}<br/>{node.type_name}"]'


def mermaid(spec: FlowSpec) -> str:
    """A `flowchart TD` diagram; explicit ends (under `ends:`) point at a stop circle."""
    lines = ["flowchart TD"]
    lines += [f"    {_label(node)}" for node in spec.nodes.values()]
    for e in spec.edges:
        arrow = "-->" if e.action == DEFAULT else f"-->|{e.action}|"
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
    lines += [f"start: {spec.start}", "nodes:"]
    lines += [_node_line(node, width) for node in spec.nodes.values()]
    lines.append("edges:")
    for e in spec.edges:
        via = "" if e.action == DEFAULT else f" - {e.action}"
        lines.append(f"  {e.src}{via} >> {e.dst}")
    lines.append("ends:")
    routed = {e.src for e in spec.edges}
    for node_id, action in sorted(spec.ends):
        why = "" if node_id in routed else "  (no outgoing edges)"
        lines.append(f"  {node_id} - {action}{why}")
    return "\n".join(lines)
