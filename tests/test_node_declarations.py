"""Every built-in node declares the shared keys it reads and writes, and the declarations are
true: real chat turns (the stand-in as Ollama, a tmp_path store) run with a shared store that
records which node touched which key, and each node's reads and writes are checked against its
class's declaration — a key written on every run must really be written every time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from flows.turn import run_turn
from nodes.base import PocketNode
from nodes.keys import declaration, params
from nodes.registry import BUILTIN_TYPES, builtin_registry
from tests.chat_rig import ChatRig
from tests.standin import StandIn


class Recording(dict[str, Any]):
    """A shared store that notes, per running node, the keys read and written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.node: str | None = None
        self.read: dict[str, set[str]] = {}
        self.wrote: dict[str, set[str]] = {}

    def _note(self, book: dict[str, set[str]], key: str) -> None:
        if self.node is not None:
            book.setdefault(self.node, set()).add(key)

    def __getitem__(self, key: str) -> Any:
        self._note(self.read, key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(self.read, key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._note(self.read, str(key))
        return super().__contains__(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._note(self.wrote, key)
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._note(self.read, key)
        if not super().__contains__(key):
            self._note(self.wrote, key)
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key in dict(*args, **kwargs):
            self._note(self.wrote, key)
        super().update(*args, **kwargs)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, set[str], set[str]]]]:
    """(class, action, keys read, keys written) for every node run while the test runs."""
    seen: list[tuple[str, str, set[str], set[str]]] = []
    original = PocketNode._run

    def recording_run(self: PocketNode, shared: Any) -> Any:
        if not isinstance(shared, Recording):
            return original(self, shared)
        name = type(self).__name__
        before = shared.node
        shared.node, shared.read[name], shared.wrote[name] = name, set(), set()
        try:
            action = original(self, shared)
        finally:
            shared.node = before
        seen.append((name, action or "default", shared.read[name], shared.wrote[name]))
        return action

    monkeypatch.setattr(PocketNode, "_run", recording_run)
    yield seen


def test_every_builtin_node_declares_its_keys() -> None:
    registry = builtin_registry()
    for name in BUILTIN_TYPES:
        cls = registry.get(name)
        assert cls is not None
        decl = declaration(cls)
        assert decl.declared, f"{name} declares no reads or writes"
        assert set(decl.writes_on) <= set(decl.actions), name


def test_param_settings_name_real_settings() -> None:
    registry = builtin_registry()
    for name in BUILTIN_TYPES:
        cls = registry.get(name)
        assert cls is not None
        for p in params(cls):
            if p.setting is None:
                continue
            value: Any = Settings()
            for part in p.setting.split("."):
                assert dataclasses.is_dataclass(value), (name, p.setting)
                value = getattr(value, part)  # AttributeError: a setting that does not exist
            assert p.default is None, f"{name}.{p.name} names a setting but has a default"


def check(runs: list[tuple[str, str, set[str], set[str]]]) -> set[str]:
    registry = builtin_registry()
    checked = set()
    for name, action, read, wrote in runs:
        cls = registry.get(name)
        assert cls is not None
        decl = declaration(cls)
        may_write = {
            *decl.writes,
            *decl.may_write,
            *(k for v in decl.writes_on.values() for k in v),
        }
        known = {*decl.inputs, *decl.reads, *decl.may_read, *may_write}
        assert read <= known, f"{name} read undeclared keys {read - known}"
        assert wrote <= may_write, f"{name} wrote undeclared keys {wrote - may_write}"
        surely = set(decl.written(action))
        assert surely <= wrote, f"{name} on {action} did not write {surely - wrote}"
        checked.add(name)
    return checked


def test_chat_turns_touch_only_declared_keys(
    standin: StandIn, tmp_path: Path, runs: list[tuple[str, str, set[str], set[str]]]
) -> None:
    rig = ChatRig(tmp_path, standin, {"chat.window": 2, "context.summary_batch": 2})
    try:
        session = None
        for text in ("hello", "my name is Ada", "what is my name?", "", "hello"):
            if not text:  # a new session: its "hello" is the first one's prompt, from the cache
                session = None
                continue
            shared = Recording(user_message=text, origin="chat", options={"temperature": 0})
            if session:
                shared["session_id"] = session
            run_turn(rig.flow, shared)
            session = shared["session_id"]
    finally:
        rig.close()
    assert any(action == "hit" for name, action, _, _ in runs if name == "CheckCache")
    checked = check(runs)
    assert {"LoadSession", "TrimContext", "CallOllama", "StreamReply", "PersistTurn",
            "SummarizeHistory", "CacheReply", "CalibrateTokens"} <= checked  # fmt: skip


def test_ingest_and_rag_turns_touch_only_declared_keys(
    standin: StandIn, tmp_path: Path, runs: list[tuple[str, str, set[str], set[str]]]
) -> None:
    from flows.build import build_flow
    from flows.loader import load_flow
    from tests.rag_support import write_docs

    rig = ChatRig(tmp_path, standin)
    try:
        registry = builtin_registry()
        for name, shared in (
            ("ingest", Recording(path=str(write_docs(tmp_path / "docs")), collection="n")),
            ("rag", Recording(user_message="Why do zebras have stripes?", collection="n")),
            ("rag", Recording(user_message="Anything?", collection="missing")),  # failed
        ):
            flow = build_flow(load_flow(name, registry), rig.deps, rig.settings.retry)
            run_turn(flow, shared) if name == "rag" else flow.run(shared)
    finally:
        rig.close()
    assert ("EmbedQuery", "failed") in {(name, action) for name, action, _, _ in runs}
    assert {"LoadDocuments", "ChunkText", "EmbedChunks", "StoreVectors", "EmbedQuery",
            "Retrieve", "BuildRagPrompt"} <= check(runs)  # fmt: skip
