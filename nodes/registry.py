"""Node types by name: the built-ins, and classes from the person's own modules.

The built-in types are known by name and module without importing anything (`BUILTIN_TYPES`);
a module is imported the first time one of its types is looked up, so a chat turn imports only
the nodes the chat flow names (never numpy or the RAG nodes), while `names()` still lists every
type for `flow validate`'s did-you-mean. tests/test_registry.py imports every node module and
checks the map against what they define. A person's module (listed under `imports:` in a flow or
in the config) needs nothing from pocketchat: every `pocketflow.BaseNode` subclass defined in it
becomes usable by its class name, and replaces a built-in of the same name.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from typing import Any

from pocketflow import BaseNode

BUILTIN_TYPES: dict[str, str] = {
    "LimitRate": "nodes.limit_rate",
    "LoadSession": "nodes.load_session",
    "TrimContext": "nodes.trim_context",
    "CheckCache": "nodes.check_cache",
    "CallOllama": "nodes.call_ollama",
    "StreamReply": "nodes.stream_reply",
    "PersistTurn": "nodes.persist_turn",
    "CalibrateTokens": "nodes.calibrate_tokens",
    "CacheReply": "nodes.cache_reply",
    "SummarizeHistory": "nodes.summarize_history",
    "ArchiveSessions": "nodes.archive_sessions",
    "LoadDocuments": "nodes.load_documents",
    "ChunkText": "nodes.chunk_text",
    "EmbedChunks": "nodes.embed_chunks",
    "StoreVectors": "nodes.store_vectors",
    "EmbedQuery": "nodes.embed_query",
    "Retrieve": "nodes.retrieve",
    "BuildRagPrompt": "nodes.build_rag_prompt",
    "JudgeAnswer": "nodes.judge_answer",
    "RecallMemories": "nodes.recall_memories",
    "ExtractMemories": "nodes.extract_memories",
}


def node_classes(module: ModuleType) -> dict[str, type[BaseNode[Any, Any, Any]]]:
    """The public, concrete `BaseNode` subclasses defined in `module`, by class name."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseNode)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
        and not inspect.isabstract(obj)
    }


class Registry:
    """A mapping from type name to node class; `builtins` are imported on first lookup."""

    def __init__(self, builtins: dict[str, str] | None = None) -> None:
        self._types: dict[str, type[BaseNode[Any, Any, Any]]] = {}
        self._origin: dict[str, str] = {}
        self._builtins: dict[str, str] = dict(builtins or {})

    def add_module(self, module: ModuleType) -> list[str]:
        """Register the node classes defined in `module`; return their names."""
        found = node_classes(module)
        for name, cls in found.items():
            self._types[name] = cls
            self._origin[name] = module.__name__
        return list(found)

    def import_module(self, dotted: str) -> list[str]:
        return self.add_module(importlib.import_module(dotted))

    def get(self, name: str) -> type[BaseNode[Any, Any, Any]] | None:
        if name not in self._types and name in self._builtins:
            dotted = self._builtins[name]
            for found, cls in node_classes(importlib.import_module(dotted)).items():
                if found not in self._types:  # a person's class of the same name stays
                    self._types[found] = cls
                    self._origin[found] = dotted
        return self._types.get(name)

    def names(self) -> list[str]:
        return sorted(set(self._types) | set(self._builtins))

    def origin(self, name: str) -> str:
        return self._origin.get(name) or self._builtins.get(name, "?")


def builtin_registry() -> Registry:
    """A registry that knows every built-in node type (each imported when first looked up)."""
    return Registry(BUILTIN_TYPES)
