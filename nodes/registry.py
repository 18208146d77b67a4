"""Node types by name: the built-ins, and classes from the person's own modules.

Built-in modules are listed here and imported only when a flow is loaded. A person's module
(listed under `imports:` in a flow or in the config) needs nothing from pocketchat: every
`pocketflow.BaseNode` subclass defined in it becomes usable by its class name.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from pocketflow import BaseNode

BUILTIN_MODULES: tuple[str, ...] = (
    "nodes.limit_rate",
    "nodes.load_session",
    "nodes.trim_context",
    "nodes.check_cache",
    "nodes.call_ollama",
    "nodes.stream_reply",
    "nodes.persist_turn",
    "nodes.calibrate_tokens",
    "nodes.cache_reply",
    "nodes.summarize_history",
    "nodes.archive_sessions",
    "nodes.load_documents",
    "nodes.chunk_text",
    "nodes.embed_chunks",
    "nodes.store_vectors",
    "nodes.embed_query",
    "nodes.retrieve",
    "nodes.build_rag_prompt",
)


class Registry:
    """A mapping from type name to node class."""

    def __init__(self) -> None:
        self._types: dict[str, type[BaseNode[Any, Any, Any]]] = {}
        self._origin: dict[str, str] = {}

    def add_module(self, module: ModuleType) -> list[str]:
        """Register the node classes defined in `module`; return their names."""
        added: list[str] = []
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseNode)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
                and not inspect.isabstract(obj)
            ):
                self._types[name] = obj
                self._origin[name] = module.__name__
                added.append(name)
        return added

    def import_module(self, dotted: str) -> list[str]:
        return self.add_module(importlib.import_module(dotted))

    def get(self, name: str) -> type[BaseNode[Any, Any, Any]] | None:
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(self._types)

    def origin(self, name: str) -> str:
        return self._origin.get(name, "?")


def builtin_registry() -> Registry:
    """A registry with every built-in node type."""
    registry = Registry()
    for dotted in BUILTIN_MODULES:
        registry.import_module(dotted)
    return registry
