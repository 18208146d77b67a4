"""Checking a node's YAML `params` against its class's constructor signature.

The constructor's first parameter is the injected `Deps` when it is named `deps`; every other
named parameter is a YAML param. Types are checked for int, float, str, bool, list[...],
dict[...], tuple[...], `X | None` / Optional and Literal; any other annotation is accepted as is.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from typing import Any

from utils.typecheck import describe, fits

DEPS_PARAM = "deps"


def takes_deps(cls: type[Any]) -> bool:
    """True when `cls(deps, **params)` is the way to build it."""
    params = list(_signature(cls).parameters.values())
    return bool(params) and params[0].name == DEPS_PARAM


def check_params(cls: type[Any], given: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Problems with `given` for `cls`'s constructor: (param name or None, message) pairs."""
    sig = _signature(cls)
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation naming something not importable at run time
        hints = {}
    named = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if named and named[0].name == DEPS_PARAM:
        named = named[1:]
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    known = {p.name: p for p in named}
    problems: list[tuple[str | None, str]] = []
    for key, value in given.items():
        if key not in known:
            if not accepts_any:
                problems.append((key, f"unknown param '{key}'{did_you_mean(key, list(known))}"))
            continue
        hint = hints.get(key)
        if hint is not None and not fits(hint, value):
            problems.append((key, f"param '{key}' must be {describe(hint)}, got {value!r}"))
    for name, p in known.items():
        if p.default is p.empty and name not in given:
            want = f" ({describe(hints[name])})" if name in hints else ""
            problems.append((None, f"missing required param '{name}'{want}"))
    return problems


def did_you_mean(word: str, choices: list[str]) -> str:
    near = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{near[0]}'?)" if near else ""


def _signature(cls: type[Any]) -> inspect.Signature:
    try:
        return inspect.signature(cls)
    except (TypeError, ValueError):
        return inspect.Signature()
