"""A real chat flow for tests: flows/chat.yaml with a tmp_path store and the stand-in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.settings import Settings, with_changes
from flows.build import build_flow
from flows.loader import load_flow
from flows.turn import run_turn
from nodes.deps import Deps
from nodes.registry import builtin_registry
from tests.clocks import FixedClock
from tests.standin import StandIn
from utils.ollama import OllamaService
from utils.queue import Gate
from utils.sink import RecordingSink
from utils.store import SqliteStore


class ChatRig:
    """Runs turns of the real chat flow; `sink` records what the person would see."""

    def __init__(
        self,
        tmp_path: Path,
        standin: StandIn,
        changes: dict[str, object] | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.clock = FixedClock()
        base = {"ollama.connect_timeout": 0.5, "ollama.chunk_timeout": 2.0,
                "ollama.first_byte_timeout": 5.0, "chat.stream_max_delay_ms": 5,
                "rate_limit.turns_per_minute": 0}  # fmt: skip
        self.settings = with_changes(Settings(), **{**base, **(changes or {})})
        self.store = SqliteStore.open(tmp_path / "pocketchat.db", self.clock)
        self.llm = OllamaService(standin.url, self.settings.ollama, self.clock)
        self.sink = RecordingSink()
        self.deps = Deps(self.settings, self.store, self.llm, self.sink, self.clock, gate)
        self.flow = build_flow(load_flow("chat", builtin_registry()), self.deps,
                               self.settings.retry)  # fmt: skip
        self.session_id: str | None = None

    def turn(self, text: str, **inputs: Any) -> dict[str, Any]:
        shared: dict[str, Any] = {"user_message": text, **inputs}
        if self.session_id:
            shared["session_id"] = self.session_id
        run_turn(self.flow, shared)
        self.session_id = shared["session_id"]
        return shared

    def close(self) -> None:
        self.llm.close()
        self.store.close()


def memory_rule(reply: Callable[[str], str]) -> Callable[[Any], str]:
    """A stand-in reply rule that also summarises: it keeps the lines that mention a name."""

    def rule(messages: Any) -> str:
        first = str(messages[0].get("content", "")) if messages else ""
        if "keep the memory of a conversation" in first:
            lines = str(messages[-1].get("content", "")).splitlines()
            return "\n".join(line for line in lines if "name" in line.lower())
        return reply(str(messages[-1].get("content", "")))

    return rule
