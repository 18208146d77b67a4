"""A person's flows have a home: the flows path (setting `flows_path`, env POCKETCHAT_FLOWS,
default <config dir>/flows), searched by `flow list/show/validate/run` after the built-in
flows, with one line on stderr when a name shadows another. Real files, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flows.loader import FLOWS_DIR
from main import cli
from tests.standin import StandIn

MINE = """\
name: mine
description: My own turn.
start: load
nodes:
  load:    {type: LoadSession}
  trim:    {type: TrimContext}
  call:    {type: CallOllama}
  stream:  {type: StreamReply}
  persist: {type: PersistTurn}
edges:
  - load >> trim >> call >> stream >> persist
  - call - unavailable >> persist
  - call - failed >> persist
"""


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    base = ["--data-dir", str(tmp_path / "d")]
    return CliRunner().invoke(cli, [*base, *args], env=env)


def write(folder: Path, name: str, text: str = MINE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_config_dir_flows_folder_is_searched_after_the_builtins(
    tmp_path: Path, isolated_env: Path
) -> None:
    mine = write(isolated_env / ".config" / "pocketchat" / "flows", "mine.yaml")
    listed = run(tmp_path, "flow", "list")
    assert listed.exit_code == 0, listed.output
    assert any(
        line.startswith("mine ") and str(mine) in line for line in listed.stdout.splitlines()
    )
    assert listed.stderr == ""
    shown = run(tmp_path, "flow", "validate", "mine")
    assert (shown.exit_code, shown.stdout) == (0, f"ok: {mine.resolve()} (5 nodes)\n")
    assert "My own turn." in run(tmp_path, "flow", "show", "mine").stdout


def test_a_shadowed_name_gets_one_line(tmp_path: Path, isolated_env: Path) -> None:
    folder = isolated_env / ".config" / "pocketchat" / "flows"
    hidden = write(folder, "chat.yaml")
    note = (f"note: flow 'chat' is {FLOWS_DIR / 'chat.yaml'}; it shadows {hidden} (run that one "
            "by its path, or rename it)\n")  # fmt: skip
    listed = run(tmp_path, "flow", "list")
    assert listed.stderr == note
    valid = run(tmp_path, "flow", "validate", "chat")
    assert valid.stdout == f"ok: {(FLOWS_DIR / 'chat.yaml').resolve()} (12 nodes)\n"
    assert valid.stderr == note
    by_path = run(tmp_path, "flow", "validate", str(hidden))
    assert by_path.stdout == f"ok: {hidden.resolve()} (5 nodes)\n" and by_path.stderr == ""


def test_setting_and_environment_name_the_folders(tmp_path: Path, isolated_env: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write(first, "mine.yaml")
    write(second, "mine.yaml", MINE.replace("My own turn.", "The second."))
    write(second, "other.yaml", MINE.replace("My own turn.", "Another."))
    env = {"POCKETCHAT_FLOWS": f"{first}:{second}"}
    out = run(tmp_path, "flow", "list", env=env)
    assert "My own turn." in out.stdout and "Another." in out.stdout
    assert out.stderr.startswith(f"note: flow 'mine' is {first / 'mine.yaml'}; it shadows ")
    config = tmp_path / "c.yaml"
    config.write_text(f"flows_path: [{second}]\n")
    out = run(tmp_path, "--config", str(config), "flow", "list")
    assert "The second." in out.stdout and out.stderr == ""
    assert run(tmp_path, "flow", "validate", "other").exit_code == 1  # not on the default path
    bad = tmp_path / "bad.yaml"
    bad.write_text("flows_path: one\n")
    wrong = run(tmp_path, "--config", str(bad), "flow", "list")
    assert wrong.exit_code == 2 and "'flows_path' must be a list of text" in wrong.output


@pytest.mark.usefixtures("isolated_env")
def test_flow_run_finds_a_flow_by_name_on_the_path(standin: StandIn, tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    write(folder, "mine.yaml")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"user_message": "hello"}) + "\n")
    result = run(tmp_path, "--host", standin.url, "flow", "run", "mine", "--input",
                 str(questions), env={"POCKETCHAT_FLOWS": str(folder)})  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(next(x for x in result.stdout.splitlines() if x.startswith("{")))
    assert row["outputs"]["reply"].startswith("Hello!")
