"""What a node type says about itself: the shared keys it reads and writes, its actions, params.

A class declares `inputs` (keys the caller gives), `reads` (keys it needs from an upstream node
or a flow input), `may_read` (keys read when present), `writes` (keys set whenever its `post`
runs), `writes_on` (action -> keys set only on that action) and `may_write` (keys set only
sometimes, which no node downstream may count on), each a mapping of key -> type
(a type, or the type's name as text). `declaration(cls)` reads them from any pocketflow class:
a person's class that declares none of them is `declared=False`, and `flow validate` treats it
leniently (a warning, and it may write anything). PocketNode's empty defaults do not count.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KEY_ATTRS = ("inputs", "reads", "may_read", "writes", "writes_on", "may_write")
_BASE_MODULES = ("nodes.base", "pocketflow", "builtins")


def _is_base(cls: type[Any]) -> bool:
    """PocketNode, pocketflow's classes, object: their empty defaults declare nothing."""
    module = cls.__module__
    return module in _BASE_MODULES or module.startswith("pocketflow.")


@dataclass(frozen=True)
class Param:
    """One constructor param: its type, its default (`REQUIRED` when none) and its setting."""

    name: str
    hint: Any
    default: Any
    setting: str | None


REQUIRED = inspect.Parameter.empty


@dataclass(frozen=True)
class Declaration:
    declared: bool
    actions: tuple[str, ...]
    inputs: Mapping[str, Any] = field(default_factory=dict)
    reads: Mapping[str, Any] = field(default_factory=dict)
    may_read: Mapping[str, Any] = field(default_factory=dict)
    writes: Mapping[str, Any] = field(default_factory=dict)
    writes_on: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    may_write: Mapping[str, Any] = field(default_factory=dict)

    def written(self, action: str) -> dict[str, Any]:
        """The keys set when `post` returns `action`."""
        return {**self.writes, **self.writes_on.get(action, {})}


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}


def declaration(cls: type[Any]) -> Declaration:
    """The declaration of `cls` (a node class, built-in or a person's own)."""
    own = [c for c in cls.__mro__ if not _is_base(c)]
    declared = any(attr in vars(c) for c in own for attr in KEY_ATTRS if attr != "inputs")
    actions = tuple(str(a) for a in getattr(cls, "actions", ("default",)))
    writes_on = getattr(cls, "writes_on", {})
    return Declaration(
        declared=declared,
        actions=actions,
        inputs=_mapping(getattr(cls, "inputs", {})),
        reads=_mapping(getattr(cls, "reads", {})),
        may_read=_mapping(getattr(cls, "may_read", {})),
        writes=_mapping(getattr(cls, "writes", {})),
        may_write=_mapping(getattr(cls, "may_write", {})),
        writes_on={
            str(a): _mapping(keys)
            for a, keys in (writes_on.items() if isinstance(writes_on, Mapping) else ())
        },
    )


def params(cls: type[Any]) -> list[Param]:
    """The YAML params of `cls` (its constructor's keyword parameters after `deps`)."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation naming something not importable at run time
        hints = {}
    settings = _mapping(getattr(cls, "param_settings", {}))
    found = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if found and found[0].name == "deps":
        found = found[1:]
    return [
        Param(p.name, hints.get(p.name, p.annotation), p.default, settings.get(p.name))
        for p in found
    ]


def type_text(hint: Any) -> str:
    """A type as a person writes it: `str | None`, `list[Message]`, `Session`."""
    if isinstance(hint, str):
        return hint
    if hint is inspect.Parameter.empty:
        return "any"
    if hint is type(None):
        return "None"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    text = str(hint)
    return re.sub(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+([A-Za-z_][A-Za-z0-9_]*)", r"\1", text)


def first_lines(cls: type[Any], count: int = 3) -> list[str]:
    """The first paragraph of the class's docstring (else its module's), at most `count` lines."""
    doc = inspect.getdoc(cls) or ""
    if not doc or doc == inspect.getdoc(next((c for c in cls.__mro__[1:]), object)):
        module = inspect.getmodule(cls)
        doc = (inspect.getdoc(module) or "") if module is not None else ""
    paragraph = doc.strip().split("\n\n")[0] if doc.strip() else ""
    lines = [line.rstrip() for line in paragraph.splitlines()]
    return lines[:count] + (["…"] if len(lines) > count else [])
