"""`flow list | show | validate`, run through click's CliRunner with a test registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner

from cli.flow import flow
from nodes.registry import Registry
from tests.flow_nodes import make_registry

FIXTURES = Path(__file__).parent / "flows_fixtures"


class Obj:
    def registry(self) -> Registry:
        return make_registry()

    def flow_search_path(self) -> Sequence[Path]:
        return (FIXTURES,)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(flow, list(args), obj=Obj())
    return result.exit_code, result.output


def test_list() -> None:
    code, out = invoke("list")
    assert code == 0
    lines = out.splitlines()
    chat = next(line for line in lines if line.startswith("chat "))
    assert "A turn that branches on a cache verdict." in chat and "chat.yaml" in chat
    assert any(line.startswith("bad_yaml ") and "unreadable" in line for line in lines)


def test_show_by_name() -> None:
    code, out = invoke("show", "chat")
    assert code == 0, out
    assert "flowchart TD" in out
    assert 'n_greet["greet<br/>Greet"]' in out
    assert "n_route -->|hit| n_done" in out
    assert "n_call -.->|failed| stop" in out
    assert "  greet  Greet  greeting='hello'" in out
    assert "retry(max_retries=3 backoff=0.5 jitter=0.0)" in out
    assert "  route - miss >> call" in out
    assert "  call - failed" in out


def test_show_subflow_node() -> None:
    code, out = invoke("show", "outer")
    assert code == 0, out
    assert 'n_check[["check<br/>flow: check"]]' in out


def test_validate_ok() -> None:
    code, out = invoke("validate", str(FIXTURES / "chat.yaml"))
    lines = out.splitlines()
    assert (code, lines[-1]) == (0, f"ok: {(FIXTURES / 'chat.yaml').resolve()} (5 nodes)")
    # the test nodes declare no reads or writes: one warning each, not an error
    assert len(lines) == 6 and all("declares no reads or writes" in line for line in lines[:-1])
    assert lines[0].endswith(
        "chat.yaml:5: node 'greet': warning: Greet declares no reads or "
        "writes; keys read after it are not checked"
    )


def test_validate_prints_every_problem_without_traceback() -> None:
    code, out = invoke("validate", str(FIXTURES / "broken_many.yaml"))
    file = (FIXTURES / "broken_many.yaml").resolve()
    assert code == 1
    assert "Traceback" not in out
    lines = out.splitlines()
    assert len(lines) == 8
    assert f"{file}:7: node 'needs': unreachable from start node 'greet'" in lines
    assert lines[0] == f"{file}:3: unknown top-level key 'colour'"
    assert lines[1] == f"{file}:5: node 'greet': unknown node type 'Gret' (did you mean 'Greet'?)"


def test_validate_invalid_yaml() -> None:
    code, out = invoke("validate", str(FIXTURES / "bad_yaml.yaml"))
    assert code == 1 and out.startswith(f"{(FIXTURES / 'bad_yaml.yaml').resolve()}:5: invalid YAML")


def test_validate_import_error(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(
        "imports: [no_such_module_xyz]\nstart: a\nnodes: {a: {type: Greet}}\n"
    )
    code, out = invoke("validate", str(tmp_path / "f.yaml"))
    assert code == 1
    assert out.strip().endswith(
        ":1: cannot import module 'no_such_module_xyz': "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"
    )


def test_unknown_flow_name() -> None:
    code, out = invoke("show", "nope")
    assert code == 1 and out.startswith("nope: no flow named 'nope' (available: bad_yaml,")


def test_every_command_has_help() -> None:
    for name, command in flow.commands.items():
        assert command.help, name
