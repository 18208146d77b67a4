"""The composition root: `App` turns settings into the real objects (store, Ollama service,
queue, clock, logging, node registry) and hands nodes their `Deps`. Every front door uses it:
the CLI today (`cli/`), a server next. Importing it is cheap; each object is built on first use.
"""

from __future__ import annotations

from app.root import App

__all__ = ["App"]
