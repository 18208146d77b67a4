"""sqlite-utils, imported without numpy: every pocketchat module takes `Database` from here.

sqlite-utils imports numpy and pandas at import time when they are installed, only to map their
scalar types to column types. pocketchat never hands it one (vectors are stored as bytes, ids as
int), and numpy costs about 100 ms of every start, so sqlite_utils is imported here with both
hidden: `import numpy` inside it raises ImportError and it carries on without. Whatever was
imported before is put back, so RAG code importing numpy later gets the real module. The column
types are the same whichever module was imported first.
"""

from __future__ import annotations

import sys
from types import ModuleType

_HIDDEN = ("numpy", "pandas")
_saved: dict[str, ModuleType | None] = {name: sys.modules.get(name) for name in _HIDDEN}
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # import system: "not importable"
try:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
finally:
    for _name, _module in _saved.items():
        if _module is None:
            del sys.modules[_name]
        else:
            sys.modules[_name] = _module

__all__ = ["Database", "Migrations"]
