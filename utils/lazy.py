"""Lazy package exports: a package names what it exports without importing heavy modules.

    __getattr__ = lazy_exports(__name__, {"OllamaService": "client"})

`from utils.ollama import OllamaService` then imports `utils.ollama.client` on first use, so a
command that never talks to Ollama (or `--help`) never imports `ollama` or `httpx`. The package
also imports the same names under `TYPE_CHECKING`, so mypy sees real types.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
