"""Importing a person's node modules (a flow's `imports:`) without pocketchat's packages and
theirs shadowing one another.

pocketchat's top-level packages are `app`, `cli`, `config`, `flows`, `nodes` and `utils`:
common names. A person's `utils.py` beside their flow would otherwise lose to ours (already in
`sys.modules`: `cannot import name 'normalise' from 'utils'`), or, found first on `sys.path`,
hide ours from pocketchat itself.

So a module is imported with the flow file's folder first on `sys.path` and, for each of our
names that the folder also holds (`utils.py` or `utils/__init__.py`), our package set aside in
`sys.modules` for the length of the import: their `from utils import normalise` finds their
file. Afterwards ours are put back and theirs leave `sys.modules` (their module keeps what it
imported). A module of the same name imported earlier from another flow's folder gives way to
the one beside this flow. When a name still resolves to ours — their file is elsewhere, or
their module needs both — the error says in one line which name collides and what to do.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

OURS = ("app", "cli", "config", "flows", "nodes", "utils")
PROJECT = Path(__file__).resolve().parent.parent


def import_person_module(dotted: str, folder: Path) -> ModuleType:
    """Import `dotted` as the person wrote it, their folder's modules first."""
    importlib.import_module("nodes.base")  # what a person's node may subclass, loaded with ours
    _forget_another_folders(dotted.partition(".")[0], folder)
    shadowed = [name for name in OURS if _holds(folder, name)]
    with _on_sys_path(folder), _set_aside(shadowed):
        return importlib.import_module(dotted)


def describe_import_error(dotted: str, exc: BaseException, folder: Path) -> str:
    """One line for a failed import; names the colliding package when that is the cause."""
    clash = _colliding_name(exc, folder)
    if clash is not None:
        return (
            f"cannot import module '{dotted}': '{clash}' is also the name of pocketchat's own "
            f"package ({', '.join(OURS)} are taken): rename your {clash}.py (e.g. my_{clash}.py) "
            f"and import it by that name ({type(exc).__name__}: {exc})"
        )
    return f"cannot import module '{dotted}': {type(exc).__name__}: {exc}"


def _forget_another_folders(root: str, folder: Path) -> None:
    """A `my_nodes` imported earlier from another flow's folder is not this folder's: drop it
    from `sys.modules` so the one beside this flow is imported."""
    cached = sys.modules.get(root)
    if root in OURS or cached is None or not _holds(folder, root):
        return
    where = getattr(cached, "__file__", None)
    if where and Path(where).resolve().is_relative_to(folder.resolve()):
        return
    for key in [k for k in sys.modules if k == root or k.startswith(f"{root}.")]:
        del sys.modules[key]


def _holds(folder: Path, name: str) -> bool:
    return (folder / f"{name}.py").is_file() or (folder / name / "__init__.py").is_file()


def _colliding_name(exc: BaseException, folder: Path) -> str | None:
    """Ours, when the import failed on one of our names: `cannot import name 'x' from 'utils'
    (…/pocketchat/utils/__init__.py)`, `No module named 'utils.x'; 'utils' is not a
    package` (theirs found where ours was wanted), and the like."""
    if not isinstance(exc, ImportError):
        return None
    name = (exc.name or "").partition(".")[0]
    if name not in OURS:
        return None
    path = Path(exc.path).resolve() if exc.path else None
    ours = path is not None and path.is_relative_to(PROJECT / name)
    if ours or _holds(folder, name) or "is not a package" in str(exc):
        return name
    return None


@contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    entry = str(folder.resolve())
    added = entry not in sys.path
    if added:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        if added and entry in sys.path:
            sys.path.remove(entry)


@contextmanager
def _set_aside(names: list[str]) -> Iterator[None]:
    """Our modules under `names` out of `sys.modules` for the block; back after, theirs out."""
    if not names:
        yield
        return

    def under(module: str) -> bool:
        return module.partition(".")[0] in names

    ours = {k: sys.modules.pop(k) for k in list(sys.modules) if under(k)}
    try:
        yield
    finally:
        for key in [k for k in sys.modules if under(k)]:
            del sys.modules[key]
        sys.modules.update(ours)
        importlib.invalidate_caches()
