"""Small node classes for the flow loader's tests (the built-in nodes live elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, cast

from pocketflow import Node

from config.settings import Settings
from nodes.base import PocketNode, Shared
from nodes.deps import Deps
from nodes.registry import Registry
from utils.sink import RecordingSink


@dataclass
class FakeClock:
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return 0.0

    def monotonic(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_deps(clock: FakeClock | None = None) -> Deps:
    none = cast(Any, None)
    return Deps(
        settings=Settings(), store=none, llm=none, sink=RecordingSink(), clock=clock or FakeClock()
    )


def _trail(shared: Shared, item: str) -> None:
    shared.setdefault("trail", []).append(item)


class Greet(PocketNode):
    actions: ClassVar[tuple[str, ...]] = ("default",)

    def __init__(self, deps: Deps, greeting: str = "hi") -> None:
        super().__init__(deps)
        self.greeting = greeting

    def post(self, shared: Shared, prep_res: Any, exec_res: Any) -> str | None:
        _trail(shared, f"greet:{self.greeting}")
        return None


class Route(PocketNode):
    """Returns shared["route"] ("hit" or "miss")."""

    actions: ClassVar[tuple[str, ...]] = ("hit", "miss")

    def post(self, shared: Shared, prep_res: Any, exec_res: Any) -> str:
        _trail(shared, "route")
        return str(shared.get("route", "hit"))


class Finish(PocketNode):
    def __init__(self, deps: Deps, label: str = "done") -> None:
        super().__init__(deps)
        self.label = label

    def post(self, shared: Shared, prep_res: Any, exec_res: Any) -> str | None:
        _trail(shared, self.label)
        return None


class Needs(PocketNode):
    """Typed params, for the param checks."""

    def __init__(
        self,
        deps: Deps,
        window: int,
        ratio: float = 0.5,
        tags: list[str] | None = None,
        mode: Literal["fast", "slow"] = "fast",
        options: dict[str, int] | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(deps)
        self.window = window


class Flaky(PocketNode):
    """Fails shared["failures"] times, then succeeds; "failed" once out of attempts."""

    actions: ClassVar[tuple[str, ...]] = ("ok", "failed")

    def prep(self, shared: Shared) -> Shared:
        return shared

    def exec(self, prep_res: Shared) -> str:
        self.wait_before_retry()
        prep_res["attempts"] = prep_res.get("attempts", 0) + 1
        if prep_res["attempts"] <= prep_res.get("failures", 0):
            raise RuntimeError("flaky")
        return "ok"

    def exec_fallback(self, prep_res: Shared, exc: Exception) -> str:
        return "failed"

    def post(self, shared: Shared, prep_res: Any, exec_res: str) -> str:
        return exec_res


class Rogue(PocketNode):
    """Declares only "default" but returns shared["rogue"]: for the run-time routing check."""

    def post(self, shared: Shared, prep_res: Any, exec_res: Any) -> str | None:
        return cast(str | None, shared.get("rogue"))


class PlainStep(Node):  # type: ignore[type-arg]
    """A plain pocketflow node: no deps, no `actions` (so it returns "default")."""

    def __init__(self, note: str = "plain") -> None:
        super().__init__()
        self.note = note

    def post(self, shared: Shared, prep_res: Any, exec_res: Any) -> None:
        _trail(shared, self.note)


def make_registry() -> Registry:
    import sys

    registry = Registry()
    registry.add_module(sys.modules[__name__])
    return registry
