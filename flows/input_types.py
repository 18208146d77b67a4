"""A flow's `inputs:` in YAML: the shared keys whoever runs it gives, with their types.

    inputs: [question]                       # any value
    inputs: {question: str, top_k: int | None}

Type names: str, int, float, bool, list, dict, any, and `X | None` (or null). `flow run` checks
each input line against them as it does the keys nodes declare (flows/inputs.py); `flow validate`
counts them as there from the start (flows/wiring.py).
"""

from __future__ import annotations

import functools
import operator
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.checker import Checker

TYPE_NAMES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
    "any": Any, "None": type(None), "null": type(None),
}  # fmt: skip
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_type(text: str) -> Any | None:
    """`"str | None"` -> `str | None`; None when a part is not a known name."""
    parts = [TYPE_NAMES.get(part.strip()) for part in text.split("|")]
    if any(p is None for p in parts):
        return None
    if Any in parts:
        return Any
    return functools.reduce(operator.or_, parts)


def parse_inputs(c: Checker, raw: Any) -> dict[str, Any]:
    """Key -> type from the `inputs:` value (a list of keys or a mapping of key -> type)."""
    if raw is None:
        return {}
    if isinstance(raw, list):
        raw = {key: "any" for key in raw} if all(isinstance(k, str) for k in raw) else None
    if not isinstance(raw, dict):
        what = "'inputs' must be a list of keys or a mapping of key -> type (str, int, …)"
        c.add(c.line("inputs"), None, what)
        return {}
    found: dict[str, Any] = {}
    for key, name in raw.items():
        line = c.line("inputs", str(key)) or c.line("inputs")
        hint = parse_type(name) if isinstance(name, str) else None
        if not KEY.match(str(key)):
            c.add(line, None, f"input '{key}' must be a word (letters, digits, _)")
        elif hint is None:
            names = ", ".join(n for n in TYPE_NAMES if n != "null")
            c.add(line, None, f"input '{key}': unknown type {name!r} (use {names}, or X | None)")
        else:
            found[str(key)] = hint
    return found
