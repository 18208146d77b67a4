"""README.md's commands are real: every `pocketchat ...` line in its code blocks names a
command that exists and uses only that command's options (checked on click's command objects,
nothing is run); the Quick start is the two `make` lines; `pocketchat` is the console script
`make chat` installs, and a Python without the dependencies says what to run in one line."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from main import cli

Kept = list[str]
README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```\w*\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _strip_comment(line: str) -> str:
    return re.sub(r"\s+#.*$", "", line).strip()


def _command_lines() -> list[str]:
    return [
        _strip_comment(line)
        for block in _blocks()
        for line in block.splitlines()
        if line.startswith("pocketchat ")
    ]


def _problems(line: str) -> list[str]:
    """What is wrong with one `pocketchat ...` line: unknown commands, unknown options,
    options missing their values, more arguments than the command takes."""
    tokens = shlex.split(line)[1:]
    ctx = click.Context(cli)
    command: click.Command = cli
    path = ["pocketchat"]
    problems: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token.startswith("-") and token != "-":
            name = token.split("=", 1)[0]
            found = [p for p in command.params if name in (*p.opts, *p.secondary_opts)]
            if not found:
                problems.append(f"{' '.join(path)}: no option {name}")
                continue
            option = found[0]
            takes = 0 if getattr(option, "is_flag", False) or "=" in token else option.nargs
            if len(tokens) - i < takes:
                problems.append(f"{' '.join(path)}: {name} needs {takes} value(s)")
            i += takes
        elif isinstance(command, click.Group) and not positional:
            sub = command.get_command(ctx, token)
            if sub is None:
                return [*problems, f"{' '.join(path)}: no command {token}"]
            command, path = sub, [*path, token]
        else:
            positional.append(token)
    if isinstance(command, click.Group):
        problems.append(f"{' '.join(path)}: a group, not a command")
    else:
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        room = sum(1 if a.nargs == 1 else (10**6 if a.nargs < 0 else a.nargs) for a in arguments)
        if len(positional) > room:
            problems.append(f"{' '.join(path)}: too many arguments {positional}")
    return problems


def test_readme_has_commands() -> None:
    lines = _command_lines()
    assert len(lines) >= 20
    assert any(line.startswith("pocketchat flow run") for line in lines)


@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_is_real(line: str) -> None:
    assert _problems(line) == []


def test_the_checker_catches_mistakes() -> None:
    assert "pocketchat chat: no option --colection" in _problems("pocketchat chat --colection x")
    assert _problems("pocketchat sesions list") == ["pocketchat: no command sesions"]
    assert _problems("pocketchat models list | show NAME")
    assert _problems("pocketchat chat -o temperature") == ["pocketchat chat: -o needs 2 value(s)"]
    assert _problems("pocketchat --host http://x:1 chat -c") == []


def test_quick_start_is_two_make_lines() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start") :]
    block = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert block is not None
    assert [_strip_comment(x) for x in block.group(1).splitlines()] == ["make chat", "make test"]


def test_the_readme_says_how_to_reach_the_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text and ".venv/bin/pocketchat" in text


def test_the_console_script_is_installed_next_to_this_python(tmp_path: Path) -> None:
    """`make chat`/`make test` install the project: `pocketchat` sits beside the venv's python
    and runs main's click group (an activated shell finds it on PATH)."""
    script = Path(sys.executable).parent / "pocketchat"
    assert script.exists(), f"no console script at {script}: pyproject [project.scripts]"
    result = subprocess.run([str(script), "--data-dir", str(tmp_path), "db", "status"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "schema" in (result.stdout + result.stderr).lower()


@pytest.mark.parametrize("keep", [[], ["click"]])
def test_a_python_without_the_dependencies_says_what_to_run(tmp_path: Path, keep: Kept) -> None:
    """`python main.py` with a Python that lacks the dependencies (none of them, or click
    alone, as a system Python may have): one line naming the module and `make chat`."""
    for name in keep:
        module = __import__(name)
        shutil.copytree(Path(str(module.__file__)).parent, tmp_path / name)
    main = README.parent / "main.py"
    result = subprocess.run([sys.executable, "-S", str(main), "sessions", "list"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)})  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    missing = "structlog" if keep else "click"
    assert f"the module '{missing}' is not installed" in lines[0]
    assert "make chat" in lines[0] and ".venv/bin/pocketchat" in lines[0]
