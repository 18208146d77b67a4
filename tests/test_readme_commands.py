"""README.md's commands are real: every `python main.py ...` line in its code blocks names a
command that exists and uses only that command's options (checked on click's command objects,
nothing is run); the Quick start is the two `make` lines."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from main import cli

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
        if line.startswith("python main.py")
    ]


def _problems(line: str) -> list[str]:
    """What is wrong with one `python main.py ...` line: unknown commands, unknown options,
    options missing their values, more arguments than the command takes."""
    tokens = shlex.split(line)[2:]
    ctx = click.Context(cli)
    command: click.Command = cli
    path = ["main.py"]
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
    assert any(line.startswith("python main.py flow run") for line in lines)


@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_is_real(line: str) -> None:
    assert _problems(line) == []


def test_the_checker_catches_mistakes() -> None:
    assert "main.py chat: no option --colection" in _problems("python main.py chat --colection x")
    assert _problems("python main.py sesions list") == ["main.py: no command sesions"]
    assert _problems("python main.py models list | show NAME")
    assert _problems("python main.py chat -o temperature") == ["main.py chat: -o needs 2 value(s)"]
    assert _problems("python main.py --host http://x:1 chat -c") == []


def test_quick_start_is_two_make_lines() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Quick start") :]
    block = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert block is not None
    assert [_strip_comment(x) for x in block.group(1).splitlines()] == ["make chat", "make test"]
