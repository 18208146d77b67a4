"""`nodes list` and `nodes show TYPE` through the real CLI (CliRunner): built-in types and a
person's own, from --imports or a flow file's imports:, and one line for a type that is not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from main import cli
from nodes.registry import BUILTIN_TYPES

MODULE = '''
"""My nodes."""
from pocketflow import Node


class Rerank(Node):
    """Rerank: put the retrieved hits in a new order.

    Longest text first; a toy, for the tests.
    """

    actions = ("default", "empty")
    reads = {"retrieved": "list[dict]"}
    writes_on = {"default": {"retrieved": "list[dict]"}}

    def __init__(self, keep: int = 3) -> None:
        super().__init__()
        self.keep = keep


class Plain(Node):
    pass
'''


def nodes(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "nodes", *args])


@pytest.fixture
def mine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "my_nodes.py").write_text(MODULE, encoding="utf-8")
    (folder / "f.yaml").write_text("imports: [my_nodes]\nstart: r\nnodes:\n  r: {type: Rerank}\n")
    monkeypatch.chdir(folder)
    return folder


def test_list_has_every_builtin_with_actions_module_and_summary(tmp_path: Path) -> None:
    result = nodes(tmp_path, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["TYPE", "ACTIONS", "MODULE", "WHAT", "IT", "DOES"]
    call = next(line for line in lines if line.startswith("CallOllama "))
    assert "default, unavailable, failed" in call and "nodes.call_ollama" in call
    assert "send the prompt and wait for the first piece" in call
    assert len(lines) == 1 + len(BUILTIN_TYPES)  # the head, then one line per built-in


def test_show_builtin_prints_params_settings_actions_and_keys(tmp_path: Path) -> None:
    result = nodes(tmp_path, "show", "Retrieve")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Retrieve  (nodes.retrieve)\n  Retrieve: the `top_k` chunks")
    assert "  top_k: int | None, default None (from setting rag.top_k)\n" in out
    assert "  candidates: int, default 20\n" in out
    assert "actions: default, failed\n" in out
    assert "reads:\n  query_vector: list[float]\n" in out
    assert "writes on default:\n  retrieved: list[dict[str, Any]]\n" in out
    assert "writes on failed:\n  error: dict[str, str]\n" in out
    load = nodes(tmp_path, "show", "LoadSession").output
    assert "inputs (from the caller):\n  session_id: str | None\n  user_message: str\n" in load


def test_show_a_persons_node_from_imports_or_a_flow_file(tmp_path: Path, mine: Path) -> None:
    for args in (("--imports", "my_nodes"), ("--flow", str(mine / "f.yaml"))):
        result = nodes(tmp_path, "show", "Rerank", *args)
        assert result.exit_code == 0, result.output
        assert result.output == textwrap.dedent("""\
            Rerank  (my_nodes)
              Rerank: put the retrieved hits in a new order.
            params:
              keep: int, default 3
            actions: default, empty
            reads:
              retrieved: list[dict]
            writes on default:
              retrieved: list[dict]
            """)  # fmt: skip
    listed = nodes(tmp_path, "list", "--imports", "my_nodes").output
    assert any(line.startswith("Rerank ") and "my_nodes" in line for line in listed.splitlines())
    plain = nodes(tmp_path, "show", "Plain", "--imports", "my_nodes").output
    assert "reads, writes: not declared (`flow validate` checks no keys around it)" in plain


def test_unknown_type_or_module_is_one_line(tmp_path: Path, mine: Path) -> None:
    result = nodes(tmp_path, "show", "Retreive")
    assert result.exit_code == 1
    assert result.output == (
        "Error: no node type 'Retreive' (did you mean 'Retrieve'?); `nodes list` shows them "
        "(your own need --imports MODULE or --flow FILE)\n"
    )
    missing = nodes(tmp_path, "list", "--imports", "no_such_nodes")
    assert missing.exit_code == 1 and len(missing.output.splitlines()) == 1
    assert "no_such_nodes" in missing.output and "Traceback" not in missing.output
