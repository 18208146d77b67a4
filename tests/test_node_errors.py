"""A person's own node that raises is named: flow, node id, class and file:line in their module,
in one line, for `flow run`, `ask --flow` and `chat --flow`; the traceback goes to the log file
(and to stderr with --debug). A bad `flow run` input line names its line and key, and the batch
goes on. Real processes against the stand-in, a real flow folder with the person's module."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pexpect

from flows.loader import build_flow, load_flow
from flows.node_errors import node_line
from tests.real_runs import pocketchat, write_config
from tests.sigint import default_sigint
from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent

MY_NODES = '''from pocketflow import Node


def tidy(text):
    return " ".join(text.split())


class Normalise(Node):
    actions = ("default",)

    def prep(self, shared):
        return shared["user_message"], shared.get("pathh_wanted")

    def exec(self, prep_res):
        text, wanted = prep_res
        if wanted:
            return {}["pathh"]
        return tidy(text)

    def post(self, shared, prep_res, exec_res):
        shared["user_message"] = exec_res
'''
RAISES_AT = MY_NODES.splitlines().index('            return {}["pathh"]') + 1
FLOW = """name: my_rag
description: A chat turn that tidies the message first.
imports: [my_nodes]
start: load
nodes:
  clean:   {type: Normalise}
  load:    {type: LoadSession}
  trim:    {type: TrimContext}
  call:    {type: CallOllama}
  stream:  {type: StreamReply}
  persist: {type: PersistTurn}
edges:
  - clean >> load >> trim >> call >> stream >> persist
  - call - unavailable >> persist
  - call - failed >> persist
"""
WANTED = f"flow my_rag, node 'clean' (Normalise, my_nodes.py:{RAISES_AT}): KeyError: 'pathh'"


def experiment(where: Path) -> Path:
    folder = where / "experiment"
    folder.mkdir()
    (folder / "my_nodes.py").write_text(MY_NODES)
    (folder / "my_rag.yaml").write_text(FLOW.replace("start: load", "start: clean"))
    return folder / "my_rag.yaml"


def test_flow_run_names_the_node_and_the_bad_line_and_goes_on(
    standin: StandIn, tmp_path: Path
) -> None:
    flow, data = experiment(tmp_path), tmp_path / "data"
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"user_message": 42}\n{"user_message": "hi", "pathh_wanted": true}\n'
                     '{"user_message": "  fine   words "}\n{"user_mesage": "typo"}\n')  # fmt: skip
    out = tmp_path / "out.jsonl"
    config = write_config(tmp_path)
    ran = pocketchat(data, "flow", "run", str(flow), "--input", str(lines), "--out", str(out),
                     host=standin.url, config=config)  # fmt: skip
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr and "internal error" not in ran.stderr
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["status"] for r in records] == ["failed", "failed", "ok", "failed"]
    assert records[0]["error"] == (
        "line 1: 'user_message' must be text, not 42 (node 'load' reads it)"
    )
    assert records[1]["error"] == WANTED
    typo = "line 4: no node reads 'user_mesage' (did you mean 'user_message'?)"
    assert records[3]["error"] == typo
    assert f"line 2 failed: {WANTED}" in ran.stderr
    log = (data / "pocketchat.log").read_text()
    assert "turn_crashed" in log and '"exc_type": "KeyError"' in log  # the traceback: file only
    assert f"tracebacks of the lines that failed in a node: {data / 'pocketchat.log'}" in (
        ran.stderr
    )

    debug = pocketchat(data, "--debug", "flow", "run", str(flow), "--input", str(lines),
                       "--out", str(out), host=standin.url, config=config)  # fmt: skip
    assert "Traceback" in debug.stderr and 'return {}["pathh"]' in debug.stderr


def test_ask_and_chat_with_the_flow_say_the_same_line(standin: StandIn, tmp_path: Path) -> None:
    flow, data = experiment(tmp_path), tmp_path / "data"
    (flow.parent / "my_nodes.py").write_text(
        MY_NODES.replace('shared.get("pathh_wanted")', "True")
    )
    config = write_config(tmp_path)
    asked = pocketchat(data, "ask", "--flow", str(flow), "hello", host=standin.url,
                       config=config)  # fmt: skip
    assert asked.returncode == 1
    [line] = asked.stderr.strip().splitlines()
    assert line.startswith(f"Error: {WANTED} (traceback in ")

    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data),
           "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}  # fmt: skip
    child = pexpect.spawn(sys.executable, [str(ROOT / "main.py"), "chat", "--flow", str(flow)],
                          env=env, cwd=str(tmp_path), encoding="utf-8", timeout=15,
                          dimensions=(40, 240), preexec_fn=default_sigint)  # fmt: skip
    try:
        child.expect_exact(">>>")
        child.sendline("hello")
        child.expect_exact(WANTED)
        child.expect_exact(">>>")  # the chat goes on
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


def test_a_sub_flows_node_is_named_and_builtin_nodes_point_at_their_module(
    tmp_path: Path,
) -> None:
    from tests.flow_nodes import make_deps, make_registry

    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "my_nodes.py").write_text(MY_NODES)
    (folder / "inner.yaml").write_text(
        "name: inner\nimports: [my_nodes]\nstart: clean\nnodes:\n  clean: {type: Normalise}\n"
    )
    (folder / "outer.yaml").write_text(
        "name: outer\nstart: sub\nnodes:\n  sub: {flow: inner}\n"
    )
    flow = build_flow(load_flow(folder / "outer.yaml", make_registry()), make_deps())
    try:
        flow.run({"user_message": "x", "pathh_wanted": True})
    except KeyError as exc:
        assert node_line(exc) == WANTED.replace("my_rag", "inner")
    else:
        raise AssertionError("the node did not raise")
