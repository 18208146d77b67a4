"""`imports:` runs a module's code: `--help` says so, and `flow validate --no-imports` checks an
untrusted file without running anything (a real python main.py, a real module on disk)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODULE = """\
import pathlib
pathlib.Path(__file__).with_name("RAN").write_text("imported")
from nodes.base import PocketNode

class Shout(PocketNode):
    def exec(self, prep_res):
        return None
"""

FLOW = """\
name: shout
imports: [evil_nodes]
start: load
nodes:
  load: {type: LoadSession}
  shout: {type: Shout, params: {loud: 3}}
  persist: {type: PersistTurn}
edges:
  - load >> shout >> persist
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        cwd=ROOT,
    )


def write(tmp_path: Path, flow: str = FLOW) -> Path:
    (tmp_path / "evil_nodes.py").write_text(MODULE, encoding="utf-8")
    path = tmp_path / "shout.yaml"
    path.write_text(flow, encoding="utf-8")
    return path


def test_no_imports_checks_structure_and_runs_nothing(tmp_path: Path) -> None:
    path = write(tmp_path)
    data = str(tmp_path / "d")
    result = run("--data-dir", data, "flow", "validate", "--no-imports", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / "RAN").exists()
    assert result.stdout.splitlines() == [
        f"{path}:6: node 'shout': type 'Shout' unknown unless imports run "
        "(its params, retry and actions not checked)",
        f"ok: {path} (3 nodes; 1 not checked: imports not run)",
    ]
    checked = run("--data-dir", data, "flow", "validate", str(path))  # imports run: caught
    assert (tmp_path / "RAN").read_text() == "imported"
    assert checked.returncode == 1
    assert checked.stdout.strip() == f"{path}:6: node 'shout': Shout: unknown param 'loud'"


def test_no_imports_still_reports_structural_mistakes(tmp_path: Path) -> None:
    broken = FLOW.replace("start: load", "start: lod").replace(
        "  - load >> shout", "  - load >> shot"
    )
    path = write(tmp_path, broken)
    result = run("--data-dir", str(tmp_path / "d"), "flow", "validate", "--no-imports", str(path))
    assert result.returncode == 1 and not (tmp_path / "RAN").exists()
    assert f"{path}:3: start node 'lod' is not defined (did you mean 'load'?)" in result.stdout
    assert "edge names an unknown node" in result.stdout


def test_without_imports_an_unknown_type_is_still_an_error(tmp_path: Path) -> None:
    plain = FLOW.replace("imports: [evil_nodes]\n", "")
    path = write(tmp_path, plain)
    result = run("--data-dir", str(tmp_path / "d"), "flow", "validate", "--no-imports", str(path))
    assert result.returncode == 1
    assert "unknown node type 'Shout'" in result.stdout


def test_help_says_imports_run_code() -> None:
    for command in ("validate", "show", "run"):
        text = " ".join(run("flow", command, "--help").stdout.split())
        assert "imported, which runs their code" in text, command
        assert "--no-imports" in text, command
