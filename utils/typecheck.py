"""Does a YAML value suit a Python annotation? Used for settings and for flow params."""

from __future__ import annotations

import math
import types
import typing
from typing import Any


def fits(hint: Any, value: Any) -> bool:
    """Whether a YAML value suits an annotation (unknown annotations always fit)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (types.UnionType, typing.Union):
        return any(fits(arg, value) for arg in args)
    if origin is typing.Literal:
        return value in args
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:  # .nan and .inf are YAML floats, but no setting or param means them
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return isinstance(value, int) or math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if hint in (list, tuple) or origin in (list, tuple):
        if not isinstance(value, list):
            return False
        if origin is tuple and args and args[-1] is not Ellipsis:
            return len(args) == len(value) and all(map(fits, args, value))
        return not args or all(fits(args[0], v) for v in value)
    if hint is dict or origin is dict:
        if not isinstance(value, dict):
            return False
        return not args or all(fits(args[0], k) and fits(args[1], v) for k, v in value.items())
    return True


def describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if hint is type(None):
        return "null"
    simple = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}
    if hint in simple:
        return simple[hint]
    if hint in (list, tuple) or origin in (list, tuple):
        return f"a list of {describe(args[0])}" if args and args[0] is not Ellipsis else "a list"
    if hint is dict or origin is dict:
        return "a mapping"
    return getattr(hint, "__name__", str(hint))
