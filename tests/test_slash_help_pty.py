"""/help and /set at a real terminal: what a command takes stands apart from what it does, in
aligned columns, and /set cache says on or off (not Python's True/False)."""

from __future__ import annotations

import re
from pathlib import Path

import pexpect

from tests.standin import StandIn
from tests.test_repl_pty import PROMPT, say, spawn


def _lines(text: str) -> list[str]:
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
    return [line for line in plain.split("\n") if line.strip()]


def test_help_shows_placeholders_and_descriptions_in_columns(
    standin: StandIn, tmp_path: Path
) -> None:
    child = spawn(standin, tmp_path / "data")
    say(child, "/help")
    child.expect_exact("Ctrl+D leaves.")
    shown = [line for line in _lines(child.before or "") if line.startswith("  /")
             or line.startswith('  """')]  # fmt: skip
    rows = {line.split()[0]: line for line in shown}
    assert rows["/set"].startswith("  /set KEY VALUE  ")
    assert rows["/model"].startswith("  /model [NAME]  ")
    assert rows["/load"].startswith("  /load ID  ")
    # every description starts in the same column, after at least two spaces
    starts = {re.search(r"\S  +(?=\S)", line).end() for line in shown}  # type: ignore[union-attr]
    assert len(starts) == 1, shown
    column = starts.pop()
    assert rows["/set"][column:].startswith("set a model option")
    assert rows["/model"][column:].startswith("list the models")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)


def test_set_cache_says_on_or_off(standin: StandIn, tmp_path: Path) -> None:
    child = spawn(standin, tmp_path / "data")
    say(child, "/set cache off")
    child.expect_exact("cache: off")
    child.expect_exact(PROMPT)
    say(child, "/set")
    child.expect_exact("cache = off")
    child.expect_exact(PROMPT)
    say(child, "/set cache on")
    child.expect_exact("cache: on")
    child.expect_exact(PROMPT)
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    seen = child.before or ""
    assert "False" not in seen and "True" not in seen
