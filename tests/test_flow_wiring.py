"""`flow validate` checks the wiring from the nodes' declarations: a key read that no upstream
node writes on every path from the start, and no input gives, is an error on the node's line;
`inputs:` in YAML gives keys; a turn flow has the turn's inputs; a node that declares nothing
is a warning. Real flow files in tmp_path, validated through the real CLI (CliRunner)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from main import cli

MODULE = '''
from pocketflow import Node


class Rerank(Node):
    """Rerank: put the retrieved hits in a new order (longest text first)."""

    actions = ("default",)
    reads = {"retrieved": "list[dict]"}
    writes = {"retrieved": "list[dict]"}

    def prep(self, shared):
        return shared["retrieved"]

    def exec(self, hits):
        return sorted(hits, key=lambda h: -len(h["text"]))

    def post(self, shared, prep_res, exec_res):
        shared["retrieved"] = exec_res


class Shout(Node):
    def post(self, shared, prep_res, exec_res):
        shared["prompt"] = [dict(m, content=m["content"].upper()) for m in shared["prompt"]]
'''

RAG = """\
name: reranked
imports: [my_nodes]
start: load
nodes:
  load:     {type: LoadSession}
  trim:     {type: TrimContext}
  embed:    {type: EmbedQuery}
  retrieve: {type: Retrieve}
  rerank:   {type: Rerank}
  prompt:   {type: BuildRagPrompt}
  call:     {type: CallOllama}
  stream:   {type: StreamReply}
  persist:  {type: PersistTurn}
edges:
  - load >> trim >> embed >> retrieve >> rerank >> prompt >> call >> stream >> persist
  - embed - failed >> persist
  - retrieve - failed >> persist
  - call - unavailable >> persist
  - call - failed >> persist
"""


def validate(tmp_path: Path, text: str, *extra: str) -> tuple[int, list[str]]:
    (tmp_path / "my_nodes.py").write_text(MODULE, encoding="utf-8")
    path = tmp_path / "flow.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    args = ["--data-dir", str(tmp_path / "d"), "flow", "validate", *extra, str(path)]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, [
        line.replace(str(path.resolve()), "flow.yaml") for line in result.output.splitlines()
    ]


def test_a_well_wired_flow_with_a_declared_node_of_ones_own(tmp_path: Path) -> None:
    assert validate(tmp_path, RAG) == (0, ["ok: flow.yaml (9 nodes)"])


def test_a_read_nothing_writes_is_an_error_on_the_nodes_line(tmp_path: Path) -> None:
    broken = RAG.replace(
        "  - load >> trim >> embed >> retrieve >> rerank", "  - load >> trim >> embed >> rerank"
    ).replace("  - retrieve - failed >> persist\n", "")
    broken = broken.replace("  retrieve: {type: Retrieve}\n", "")
    code, lines = validate(tmp_path, broken)
    assert code == 1
    assert lines == [  # BuildRagPrompt after it reads what Rerank declares it writes
        "flow.yaml:8: node 'rerank': Rerank reads 'retrieved', which no upstream node writes "
        "and no input provides (add it under `inputs:`)",
    ]


def test_a_key_written_on_one_path_only_is_an_error(tmp_path: Path) -> None:
    # `call - unavailable` skips CallOllama's `started`, which StreamReply reads
    text = RAG.replace("  - call - unavailable >> persist", "  - call - unavailable >> stream")
    code, lines = validate(tmp_path, text)
    assert (code, lines) == (1, [
        "flow.yaml:12: node 'stream': StreamReply reads 'started', which is not written on "
        "every path from 'load' to it (written by 'call')"
    ])  # fmt: skip


def test_inputs_in_yaml_provide_a_key(tmp_path: Path) -> None:
    text = """\
        imports: [my_nodes]
        start: rerank
        nodes:
          rerank: {type: Rerank}
        """
    code, lines = validate(tmp_path, text)
    assert code == 1 and "Rerank reads 'retrieved', which no upstream node writes" in lines[0]
    assert validate(tmp_path, text + "inputs: {retrieved: list}\n") == (
        0, ["ok: flow.yaml (1 nodes)"])  # fmt: skip
    assert validate(tmp_path, text + "inputs: [retrieved]\n")[0] == 0
    code, lines = validate(tmp_path, text + "inputs: {retrieved: vector}\n")
    assert code == 1 and "input 'retrieved': unknown type 'vector'" in lines[0]


def test_a_node_that_declares_nothing_is_a_warning_and_not_checked_after(tmp_path: Path) -> None:
    text = RAG.replace("  prompt:   {type: BuildRagPrompt}", "  prompt:   {type: Shout}")
    text = (
        text.replace("  retrieve: {type: Retrieve}\n", "")
        .replace("retrieve >> rerank", "rerank")
        .replace("  - retrieve - failed >> persist\n", "")
    )
    code, lines = validate(tmp_path, text)
    assert code == 1  # Rerank still reads what nothing wrote
    assert lines[-1].startswith("flow.yaml:8: node 'rerank': Rerank reads 'retrieved'")
    fine = RAG.replace("  prompt:   {type: BuildRagPrompt}", "  prompt:   {type: Shout}")
    assert validate(tmp_path, fine) == (0, [
        "flow.yaml:10: node 'prompt': warning: Shout declares no reads or writes; keys read "
        "after it are not checked",
        "ok: flow.yaml (9 nodes)",
    ])  # fmt: skip


def test_a_turn_flow_has_the_turns_inputs(tmp_path: Path) -> None:
    text = """\
        start: cache
        nodes:
          cache:   {type: CheckCache}
          persist: {type: PersistTurn}
        edges:
          - cache - hit >> persist
        ends: ['cache - miss']
        """
    code, lines = validate(tmp_path, text)
    # reading user_message makes it a turn flow, but nothing loads the session: the turn's
    # inputs hold no session, and session_id and model stay None until LoadSession runs
    assert code == 1
    assert [line.split(", which")[0] for line in lines] == [
        "flow.yaml:3: node 'cache': CheckCache reads 'session'",
        "flow.yaml:4: node 'persist': PersistTurn reads 'session_id'",
        "flow.yaml:4: node 'persist': PersistTurn reads 'model'",
    ]
    loaded = textwrap.dedent(text).replace("start: cache", "start: load").replace(
        "nodes:\n", "nodes:\n  load:    {type: LoadSession}\n").replace(
        "edges:\n", "edges:\n  - load >> cache\n")  # fmt: skip
    assert validate(tmp_path, loaded) == (0, ["ok: flow.yaml (3 nodes)"])


def test_sub_flows_read_their_inputs_and_write_what_they_write(tmp_path: Path) -> None:
    (tmp_path / "retrieve_part.yaml").write_text(textwrap.dedent("""\
        inputs: {query_vector: list}
        start: retrieve
        nodes:
          retrieve: {type: Retrieve}
        ends: ['retrieve - failed']
        """), encoding="utf-8")  # fmt: skip
    text = """\
        imports: [my_nodes]
        start: part
        nodes:
          part:   {flow: retrieve_part}
          rerank: {type: Rerank}
        edges:
          - part >> rerank
        ends: ['part - failed']
        """
    code, lines = validate(tmp_path, text)
    assert (code, lines) == (1, [
        "flow.yaml:4: node 'part': flow retrieve_part reads 'query_vector', which no upstream "
        "node writes and no input provides (add it under `inputs:`)"
    ])  # fmt: skip
    assert validate(tmp_path, text + "inputs: [query_vector]\n")[0] == 0


def test_flow_show_draws_the_keys_on_the_edges(tmp_path: Path) -> None:
    (tmp_path / "my_nodes.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "flow.yaml").write_text(RAG, encoding="utf-8")
    args = ["--data-dir", str(tmp_path / "d"), "flow", "show", str(tmp_path / "flow.yaml")]
    out = CliRunner().invoke(cli, args).output
    assert 'n_retrieve -->|"retrieved"| n_rerank' in out
    assert 'n_call -->|"failed: attempts, error, request"| n_persist' in out
    assert "  retrieve >> rerank   [retrieved]" in out
    assert "  call - failed >> persist   [attempts, error, request]" in out


def test_flow_run_checks_lines_against_the_flows_inputs(tmp_path: Path) -> None:
    from flows.inputs import flow_inputs, input_problem
    from flows.loader import load_flow
    from nodes.registry import builtin_registry

    (tmp_path / "my_nodes.py").write_text(MODULE, encoding="utf-8")
    path = tmp_path / "f.yaml"
    path.write_text("imports: [my_nodes]\ninputs: {retrieved: list}\nstart: r\n"
                    "nodes:\n  r: {type: Rerank}\n")  # fmt: skip
    declared = flow_inputs(load_flow(path, builtin_registry()))
    assert input_problem(declared, {"retrieved": []}) is None
    assert input_problem(declared, {"retrieved": "hits"}) == (
        "'retrieved' must be a list, not \"hits\" (the flow's inputs: say so)"
    )
