"""Which node raised: an error out of a running flow, named by flow, node id, class and file:line.

`StrictFlow` marks an exception that leaves one of its nodes with where it happened (the
innermost flow marks it first: a sub-flow's node is named, not the sub-flow). `node_line` is
the one line a person reads for it, e.g.
`flow my_rag, node 'clean' (Normalise, my_nodes.py:14): KeyError: 'pathh'` (a built-in node's:
`internal error in flow …`, a bug of ours): the line is the
innermost frame of the traceback in the node class's own module (where their code raised, or
called what raised); the full traceback goes to the log file only.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from dataclasses import dataclass
from typing import Any

_ATTR = "_pocketchat_node_failure"
_OUR_NODES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nodes")


@dataclass(frozen=True)
class NodeFailure:
    """Where an exception left a flow: the flow's name, the node's id and its class."""

    flow: str
    node: str
    cls: type[Any]


def mark(exc: BaseException, flow: str, node: str, cls: type[Any]) -> None:
    """Record where `exc` left a node, unless an inner flow already did."""
    if getattr(exc, _ATTR, None) is None:
        with contextlib.suppress(AttributeError, TypeError):  # an exception that takes no attrs
            setattr(exc, _ATTR, NodeFailure(flow, node, cls))


def failure_of(exc: BaseException) -> NodeFailure | None:
    found = getattr(exc, _ATTR, None)
    return found if isinstance(found, NodeFailure) else None


def node_line(exc: BaseException) -> str | None:
    """`flow F, node 'id' (Class, file.py:N): Type: message`, or None for an exception that did
    not come out of a node."""
    where = failure_of(exc)
    if where is None:
        return None
    place = where.cls.__name__
    frame = raising_frame(exc, where.cls)
    if frame is not None:
        place += f", {os.path.basename(frame[0])}:{frame[1]}"
    text = " ".join(str(exc).split())  # one line, whatever the message holds
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    lead = "internal error in flow" if is_builtin(where.cls) else "flow"  # our bug, not theirs
    return f"{lead} {where.flow}, node '{where.node}' ({place}): {detail}"


def is_builtin(cls: type[Any]) -> bool:
    """A node class of pocketchat's own `nodes` package (a person's class is theirs)."""
    files = _files_of(cls)
    return cls.__module__.startswith("nodes.") and any(
        os.path.dirname(f) == _OUR_NODES for f in files
    )


def raising_frame(exc: BaseException, cls: type[Any]) -> tuple[str, int] | None:
    """(file, line) of the innermost traceback frame in the node class's module: the most
    derived class (of the node's own, not pocketflow's) whose methods' file the traceback
    passes through. A person's module leaves `sys.modules` after import, so the functions'
    code objects say where it is."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.lineno is not None]
    for klass in cls.__mro__:
        if klass is object or klass.__module__.split(".")[0] == "pocketflow":
            continue
        files = _files_of(klass)
        inside = [f for f in frames if os.path.abspath(f.filename) in files]
        if inside:
            return inside[-1].filename, int(inside[-1].lineno or 0)
    return None


def _files_of(klass: type[Any]) -> set[str]:
    files = set()
    for value in vars(klass).values():
        func = getattr(value, "__func__", value)
        code = getattr(func, "__code__", None)
        if code is not None:
            files.add(os.path.abspath(code.co_filename))
    return files
