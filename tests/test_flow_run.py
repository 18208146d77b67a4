"""Built flows: construction, retry, strict routing, sub-flows and a person's own node module."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from config.settings import RetrySettings
from flows.errors import FlowRoutingError
from flows.loader import build_flow, load_flow
from flows.strict import StrictFlow
from nodes.base import PocketNode
from tests.flow_nodes import FakeClock, Greet, PlainStep, make_deps, make_registry

FIXTURES = Path(__file__).parent / "flows_fixtures"


def run(name: str, shared: dict[str, Any], clock: FakeClock | None = None) -> Any:
    spec = load_flow(name, make_registry(), search_path=(FIXTURES,))
    flow = build_flow(spec, make_deps(clock))
    return flow.run(shared)


def test_branch_hit() -> None:
    shared: dict[str, Any] = {"route": "hit"}
    run("chat", shared)
    assert shared["trail"] == ["greet:hello", "route", "done"]


def test_branch_miss_goes_through_retrying_node_and_plain_node() -> None:
    clock = FakeClock()
    shared: dict[str, Any] = {"route": "miss", "failures": 2}
    run("chat", shared, clock)
    assert shared["attempts"] == 3
    assert clock.sleeps == [0.5, 1.0]  # backoff * 2**(n-1), no jitter
    assert shared["trail"] == ["greet:hello", "route", "plain", "done"]


def test_failure_ends_on_purpose_quietly() -> None:
    shared: dict[str, Any] = {"route": "miss", "failures": 9}
    assert run("chat", shared) == "failed"
    assert shared["trail"] == ["greet:hello", "route"]


def test_nodes_are_built_with_deps_and_params() -> None:
    spec = load_flow("chat", make_registry(), search_path=(FIXTURES,))
    flow = build_flow(spec, make_deps())
    assert isinstance(flow, StrictFlow)
    greet = flow.start_node
    assert isinstance(greet, Greet) and greet.greeting == "hello"
    plain = greet.successors["default"].successors["miss"].successors["ok"]
    assert isinstance(plain, PlainStep) and plain.note == "plain"


def test_retry_defaults_fill_missing_keys(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(
        "start: a\nnodes:\n  a: {type: Flaky, retry: {backoff: 2}}\n"
        "  b: {type: PlainStep, retry: true}\n"
        "edges: ['a - ok >> b']\nends: ['a - failed']\n"
    )
    spec = load_flow(tmp_path / "f.yaml", make_registry())
    flow = build_flow(spec, make_deps(), RetrySettings(max_retries=7, backoff=0.25, jitter=0.5))
    a = flow.start_node
    assert isinstance(a, PocketNode)
    assert (a.max_retries, a.backoff, a.jitter) == (7, 2.0, 0.5)
    b = a.successors["ok"]
    assert isinstance(b, PlainStep)
    assert (b.max_retries, b.wait) == (7, 0.25)


def test_action_with_no_edge_raises_at_run_time(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(
        "start: a\nnodes:\n  a: {type: Rogue}\n  b: {type: Finish}\nedges: ['a >> b']\n"
    )
    flow = build_flow(load_flow(tmp_path / "f.yaml", make_registry()), make_deps())
    with pytest.raises(FlowRoutingError) as info:
        flow.run({"rogue": "surprise"})
    assert str(info.value) == (
        "flow 'f': node 'a' returned action 'surprise', which has no edge and is not under ends "
        "(its edges: default -> b)"
    )


def test_branches_follow_a_subflow() -> None:
    for route, last in (("hit", "yes"), ("miss", "no")):
        shared: dict[str, Any] = {"route": route}
        run("outer", shared)
        assert shared["trail"] == ["greet:hi", "route", last]


def test_subflow_actions_are_its_end_actions() -> None:
    spec = load_flow("outer", make_registry(), search_path=(FIXTURES,))
    sub = spec.nodes["check"].subflow
    assert sub is not None and sub.end_actions() == ("hit", "miss")


PERSON_MODULE = """
from pocketflow import Node


class Shout(Node):
    actions = ("default",)

    def __init__(self, times: int = 1) -> None:
        super().__init__()
        self.times = times

    def post(self, shared, prep_res, exec_res):
        shared["shout"] = shared["text"].upper() * self.times
"""


def test_a_persons_node_module_next_to_the_flow(tmp_path: Path) -> None:
    (tmp_path / "my_nodes_for_test.py").write_text(PERSON_MODULE)
    (tmp_path / "mine.yaml").write_text(
        textwrap.dedent(
            """\
            name: mine
            imports: [my_nodes_for_test]
            start: greet
            nodes:
              greet: {type: Greet}
              shout: {type: Shout, params: {times: 2}}
            edges:
              - greet >> shout
            """
        )
    )
    registry = make_registry()
    spec = load_flow(tmp_path / "mine.yaml", registry)
    assert "Shout" in registry.names()
    shared: dict[str, Any] = {"text": "hey"}
    build_flow(spec, make_deps()).run(shared)
    assert shared["shout"] == "HEYHEY"


def test_import_error_is_an_issue(tmp_path: Path) -> None:
    (tmp_path / "broken_mod_for_test.py").write_text("raise ValueError('boom')\n")
    (tmp_path / "f.yaml").write_text(
        "imports:\n  - broken_mod_for_test\nstart: a\nnodes:\n  a: {type: Greet}\n"
    )
    from flows.errors import FlowError

    with pytest.raises(FlowError) as info:
        load_flow(tmp_path / "f.yaml", make_registry())
    assert [(i.line, i.message) for i in info.value.issues] == [
        (2, "cannot import module 'broken_mod_for_test': ValueError: boom")
    ]
