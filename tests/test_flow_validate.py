"""The flow loader's validation: every problem names the file, the line and the node."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flows.errors import FlowError
from flows.loader import load_flow, resolve_flow
from tests.flow_nodes import make_registry

FIXTURES = Path(__file__).parent / "flows_fixtures"


def problems(tmp_path: Path, text: str, name: str = "f.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(FlowError) as info:
        load_flow(path, make_registry(), search_path=(FIXTURES,))
    return [str(i).replace(f"{path.resolve()}", name) for i in info.value.issues]


GOOD = textwrap.dedent(
    """\
    name: t
    start: a
    nodes:
      a: {type: Greet}
      b: {type: Finish}
    edges:
      - a >> b
    """
)


def test_valid_fixture_loads() -> None:
    spec = load_flow(FIXTURES / "chat.yaml", make_registry())
    assert spec.name == "chat"
    assert list(spec.nodes) == ["greet", "route", "call", "plain", "done"]
    assert ("call", "failed") in spec.ends and ("done", "default") in spec.ends


def test_minimal_flow_loads(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(textwrap.dedent(GOOD))
    spec = load_flow(tmp_path / "f.yaml", make_registry())
    assert spec.start == "a" and spec.successors("a") == {"default": "b"}


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    out = problems(tmp_path, "name: x\nstart: a\nnodes:\n  a: {type: Greet\nedges: []\n")
    assert len(out) == 1 and out[0].startswith("f.yaml:5: invalid YAML:")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- a\n") == [
        "f.yaml:1: a flow file must be a mapping with 'start' and 'nodes'"
    ]


def test_missing_and_unknown_top_level_keys(tmp_path: Path) -> None:
    out = problems(tmp_path, "name: t\nedgs: []\n")
    assert "f.yaml:2: unknown top-level key 'edgs' (did you mean 'edges'?)" in out
    assert "f.yaml:1: missing top-level key 'start'" in out
    assert "f.yaml:1: missing top-level key 'nodes'" in out


def test_unknown_type_suggests(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("Greet", "Gret"))
    assert out == ["f.yaml:4: node 'a': unknown node type 'Gret' (did you mean 'Greet'?)"]


def test_edge_to_unknown_node(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("a >> b", "a >> bb"))
    assert out == ["f.yaml:7: node 'bb': edge names an unknown node (did you mean 'b'?)"]


def test_malformed_edge(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("a >> b", "a > b"))
    assert out == ["f.yaml:7: cannot read edge 'a > b'; write 'a >> b' or 'a - action >> b'"]


def test_edge_on_action_never_returned(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("a >> b", "a - hit >> b"))
    assert (
        "f.yaml:7: node 'a': edge on action 'hit', which it never returns (it returns: default)"
        in out
    )


def test_plain_pocketflow_node_returns_default(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("Greet", "PlainStep").replace("a >> b", "a - x >> b"))
    assert (
        out[0]
        == "f.yaml:7: node 'a': edge on action 'x', which it never returns (it returns: default)"
    )


def test_duplicate_edge(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD + "  - a >> a\n")
    assert out == ["f.yaml:8: node 'a': action 'default' already goes to 'b' (line 7)"]


ROUTED = textwrap.dedent(
    """\
    name: t
    start: r
    nodes:
      r: {type: Route}
      b: {type: Finish}
    edges:
      - r - hit >> b
    """
)


def test_unrouted_action_is_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, ROUTED) == [
        "f.yaml:4: node 'r': action 'miss' has no edge; "
        "add 'r - miss >> ...' or list 'r - miss' under ends"
    ]


@pytest.mark.parametrize("end", ["r - miss", "r"])
def test_ends_covers_an_unrouted_action(tmp_path: Path, end: str) -> None:
    (tmp_path / "f.yaml").write_text(textwrap.dedent(ROUTED) + f"ends: ['{end}']\n")
    spec = load_flow(tmp_path / "f.yaml", make_registry())
    assert ("r", "miss") in spec.ends and ("r", "hit") not in spec.ends


def test_node_without_edges_is_an_end(tmp_path: Path) -> None:
    text = ROUTED.replace("r - hit >> b", "r - hit >> b\n  - r - miss >> c") + ""
    text = text.replace("b: {type: Finish}", "b: {type: Finish}\n  c: {type: Route}")
    (tmp_path / "f.yaml").write_text(textwrap.dedent(text))
    spec = load_flow(tmp_path / "f.yaml", make_registry())
    assert {("b", "default"), ("c", "hit"), ("c", "miss")} == set(spec.ends)


def test_bad_ends_entries(tmp_path: Path) -> None:
    out = problems(tmp_path, ROUTED + "ends: ['r - hit', 'r - nope', 'zz', 'r - miss']\n")
    assert out == [
        "f.yaml:8: node 'r': 'ends' lists action 'hit', which has an edge",
        "f.yaml:8: node 'r': 'ends' lists action 'nope', which it never returns",
        "f.yaml:8: node 'zz': 'ends' names an unknown node",
    ]


def test_unreachable_node(tmp_path: Path) -> None:
    out = problems(
        tmp_path, GOOD.replace("b: {type: Finish}", "b: {type: Finish}\n  c: {type: Finish}")
    )
    assert out == ["f.yaml:6: node 'c': unreachable from start node 'a'"]


def test_unreachable_node_and_bad_edge_in_one_run(tmp_path: Path) -> None:
    text = GOOD.replace("b: {type: Finish}", "b: {type: Finish}\n  c: {type: Finish}")
    out = problems(tmp_path, text + "  - b >> bb\n")
    assert out == [
        "f.yaml:6: node 'c': unreachable from start node 'a'",
        "f.yaml:9: node 'bb': edge names an unknown node (did you mean 'b'?)",
    ]


def test_no_knock_on_unreachable_past_a_broken_node(tmp_path: Path) -> None:
    text = GOOD.replace("b: {type: Finish}", "b: {type: Finsh}\n  c: {type: Finish}")
    out = problems(tmp_path, text + "  - b >> c\n")
    assert out == ["f.yaml:5: node 'b': unknown node type 'Finsh' (did you mean 'Finish'?)"]


def test_unknown_start(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("start: a", "start: aa"))
    assert out == ["f.yaml:2: start node 'aa' is not defined (did you mean 'a'?)"]


def test_duplicate_node_id(tmp_path: Path) -> None:
    out = problems(
        tmp_path, GOOD.replace("b: {type: Finish}", "b: {type: Finish}\n  a: {type: Finish}")
    )
    assert out == ["f.yaml:6: node 'a': duplicate node id; first defined on line 4"]


def test_node_entry_shape(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("{type: Greet}", "{type: Greet, flow: x, parms: {}}"))
    assert out == [
        "f.yaml:4: node 'a': unknown key 'parms' (did you mean 'params'?)",
        "f.yaml:4: node 'a': needs exactly one of 'type' (a node class) or 'flow' (a sub-flow)",
    ]


def test_params_checked_against_signature(tmp_path: Path) -> None:
    bad = "{type: Needs, params: {ratio: fast, tags: [1], mode: medium, verbose: 1, windw: 2}}"
    out = problems(tmp_path, GOOD.replace("{type: Greet}", bad))
    assert sorted(out) == sorted(
        f"f.yaml:4: node 'a': Needs: {m}"
        for m in [
            "param 'ratio' must be a number, got 'fast'",
            "param 'tags' must be a list of text or null, got [1]",
            "param 'mode' must be one of 'fast', 'slow', got 'medium'",
            "param 'verbose' must be true or false, got 1",
            "unknown param 'windw' (did you mean 'window'?)",
            "missing required param 'window' (a whole number)",
        ]
    )


def test_good_params_pass(tmp_path: Path) -> None:
    good = "{type: Needs, params: {window: 3, ratio: 1, tags: [x], options: {a: 1}, mode: slow}}"
    (tmp_path / "f.yaml").write_text(textwrap.dedent(GOOD.replace("{type: Greet}", good)))
    assert load_flow(tmp_path / "f.yaml", make_registry()).nodes["a"].params["window"] == 3


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{max_retries: 0}", "retry max_retries must be a whole number >= 1, got 0"),
        ("{backoff: -1}", "retry backoff must be a number >= 0, got -1"),
        ("{jitter: 2}", "retry jitter must be a number between 0 and 1, got 2"),
        ("{tries: 2}", "unknown retry key 'tries' (did you mean 'max_retries'?)"),
        ("5", "'retry' must be a mapping of max_retries, backoff, jitter (or true)"),
    ],
)
def test_bad_retry_block(tmp_path: Path, block: str, message: str) -> None:
    out = problems(tmp_path, GOOD.replace("{type: Greet}", f"{{type: Greet, retry: {block}}}"))
    assert out == [f"f.yaml:4: node 'a': {message}"]


def test_subflow_cycle() -> None:
    with pytest.raises(FlowError) as info:
        load_flow(FIXTURES / "cycle_a.yaml", make_registry(), search_path=(FIXTURES,))
    text = [f"{Path(i.file).name}:{i.line}: {i.node}: {i.message}" for i in info.value.issues]
    assert "cycle_a.yaml:4: b: sub-flow 'cycle_b' is invalid" in text
    assert "cycle_b.yaml:4: a: sub-flow cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml" in text


def test_unknown_subflow(tmp_path: Path) -> None:
    out = problems(tmp_path, GOOD.replace("{type: Finish}", "{flow: nope}"))
    assert len(out) == 1 and out[0].startswith(
        "f.yaml:5: node 'b': no flow named 'nope' (available:"
    )


def test_every_problem_is_reported() -> None:
    with pytest.raises(FlowError) as info:
        load_flow(FIXTURES / "broken_many.yaml", make_registry())
    lines = [(i.line, i.node) for i in info.value.issues]
    assert lines == [
        (3, None),
        (5, "greet"),
        (6, "route"),
        (7, "needs"),
        (7, "needs"),
        (7, "needs"),
        (7, "needs"),  # unreachable too: found although the file has other errors
        (12, "dne"),
    ]
    assert "(and 7 more problems)" in str(info.value)


def test_resolve_flow_by_name_and_path(tmp_path: Path) -> None:
    assert resolve_flow("chat", search_path=(FIXTURES,)) == (FIXTURES / "chat.yaml").resolve()
    assert resolve_flow(FIXTURES / "chat.yaml") == (FIXTURES / "chat.yaml").resolve()
    with pytest.raises(FlowError, match=r"no flow named 'nope' \(available: bad_yaml, broken_many"):
        resolve_flow("nope", search_path=(FIXTURES,))
    with pytest.raises(FlowError, match="flow file not found"):
        resolve_flow(tmp_path / "missing.yaml")
