"""Turning a YAML flow file into a validated `FlowSpec` (and, via `build_flow`, a PocketFlow graph).

    spec = load_flow("chat", registry)          # parse + validate; raises FlowError
    flow = build_flow(spec, deps, settings.retry)
    flow.run(shared)

The format and the rules are documented in docs/flows.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flows.build import build_flow
from flows.errors import FlowError, FlowIssue
from flows.source import YamlProblem, parse_source
from flows.spec import FlowSpec
from flows.validate import check_flow
from nodes.registry import Registry

FLOWS_DIR = Path(__file__).parent
SUFFIXES = (".yaml", ".yml")

__all__ = [
    "FLOWS_DIR", "FlowError", "available_flows", "build_flow", "load_flow", "resolve_flow",
    "shadow_note", "shadowed",
]  # fmt: skip


def available_flows(search_path: Sequence[Path] = (FLOWS_DIR,)) -> dict[str, Path]:
    """Flow name -> file for every *.yaml in the search path (earlier folders win)."""
    found: dict[str, Path] = {}
    for folder in search_path:
        for suffix in SUFFIXES:
            for path in sorted(Path(folder).glob(f"*{suffix}")):
                found.setdefault(path.stem, path)
    return dict(sorted(found.items()))


def shadowed(search_path: Sequence[Path] = (FLOWS_DIR,)) -> dict[str, list[Path]]:
    """Flow name -> the files of that name that an earlier folder's file hides."""
    seen: dict[str, Path] = {}
    hidden: dict[str, list[Path]] = {}
    for folder in search_path:
        for suffix in SUFFIXES:
            for path in sorted(Path(folder).glob(f"*{suffix}")):
                if path.stem in seen:
                    hidden.setdefault(path.stem, []).append(path)
                else:
                    seen[path.stem] = path
    return hidden


def shadow_note(name: str, search_path: Sequence[Path] = (FLOWS_DIR,)) -> str | None:
    """One line when the flow `name` hides another of the same name (None otherwise)."""
    hidden = shadowed(search_path).get(name)
    if not hidden:
        return None
    used = available_flows(search_path)[name]
    others = ", ".join(str(p) for p in hidden)
    return (f"note: flow '{name}' is {used}; it shadows {others} (run that one by its path, "
            "or rename it)")  # fmt: skip


def resolve_flow(
    name_or_path: str | Path,
    *,
    search_path: Sequence[Path] = (FLOWS_DIR,),
    base: Path | None = None,
) -> Path:
    """A name (`chat`) -> `<folder>/chat.yaml` from `base` then `search_path`; else a file path
    (relative to `base`, then the working directory). Raises `FlowError` when nothing matches."""
    text = str(name_or_path)
    is_name = isinstance(name_or_path, str) and "/" not in text and not text.endswith(SUFFIXES)
    if is_name:
        folders = ([base] if base else []) + [Path(p) for p in search_path]
        for folder in folders:
            for suffix in SUFFIXES:
                candidate = folder / f"{text}{suffix}"
                if candidate.is_file():
                    return candidate.resolve()
        names = ", ".join(available_flows(search_path)) or "none"
        raise FlowError(
            [FlowIssue(text, None, None, f"no flow named '{text}' (available: {names})")]
        )
    path = Path(name_or_path)
    candidates = [path] if path.is_absolute() else ([base / path] if base else []) + [path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise FlowError([FlowIssue(text, None, None, "flow file not found")])


def load_flow(
    source: str | Path,
    registry: Registry,
    *,
    search_path: Sequence[Path] = (FLOWS_DIR,),
    extra_imports: Sequence[str] = (),
    run_imports: bool = True,
) -> FlowSpec:
    """Parse and validate a flow (a name or a file) and its sub-flows; raises `FlowError` with
    every problem found. Modules under `imports:` and `extra_imports` are imported (their code
    runs) and added to `registry`. `run_imports=False` checks the structure only: nothing is
    imported, and a type that could come from an import is listed in `spec.unchecked` (such a
    spec is for reporting; it cannot be built)."""
    path = resolve_flow(source, search_path=search_path)
    return _load(path, registry, tuple(search_path), tuple(extra_imports), (), run_imports)


def _load(
    path: Path,
    registry: Registry,
    search_path: tuple[Path, ...],
    extra_imports: tuple[str, ...],
    stack: tuple[Path, ...],
    run_imports: bool = True,
) -> FlowSpec:
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FlowError([FlowIssue(file, None, None, f"cannot read: {exc.strerror}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        reason = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"
        raise FlowError([FlowIssue(file, bad_line, None, reason)]) from exc
    try:
        source = parse_source(text, file)
    except YamlProblem as exc:
        raise FlowError([FlowIssue(file, exc.line, None, str(exc))]) from exc
    issues: list[FlowIssue] = []
    data = source.data
    imports = data.get("imports", []) if isinstance(data, dict) else []
    if not isinstance(imports, list) or not all(isinstance(i, str) for i in imports):
        issues.append(
            FlowIssue(
                file, source.line("imports"), None, "'imports' must be a list of module names"
            )
        )
        imports = []
    wanted = [*extra_imports, *imports]
    for index, dotted in enumerate(wanted if run_imports else []):
        line = (
            source.line("imports", index - len(extra_imports))
            if index >= len(extra_imports)
            else None
        )
        problem = _import(registry, dotted, path.parent)
        if problem:
            issues.append(FlowIssue(file, line, None, problem))

    def load_sub(ref: str, line: int | None, node_id: str) -> FlowSpec | None:
        try:
            sub_path = resolve_flow(ref, search_path=search_path, base=path.parent)
        except FlowError as exc:
            issues.append(FlowIssue(file, line, node_id, exc.issues[0].message))
            return None
        chain = (*stack, path)
        if sub_path in chain:
            names = " -> ".join(p.name for p in (*chain[chain.index(sub_path) :], sub_path))
            issues.append(FlowIssue(file, line, node_id, f"sub-flow cycle: {names}"))
            return None
        try:
            return _load(sub_path, registry, search_path, extra_imports, chain, run_imports)
        except FlowError as exc:
            issues.extend(exc.issues)
            issues.append(FlowIssue(file, line, node_id, f"sub-flow '{ref}' is invalid"))
            return None

    skipped = not run_imports and bool(wanted)
    spec, found = check_flow(source, path, registry, load_sub, imports_skipped=skipped)
    issues.extend(found)
    if issues or spec is None:
        raise FlowError(issues)
    return spec


def _import(registry: Registry, dotted: str, folder: Path) -> str | None:
    """Import a person's module (their folder's modules first, never shadowing ours: see
    flows/person_modules.py); a message on failure."""
    from flows.person_modules import describe_import_error, import_person_module

    try:
        registry.add_module(import_person_module(dotted, folder))
    except Exception as exc:  # any error in a person's module becomes one line, not a traceback
        return describe_import_error(dotted, exc, folder)
    return None
