"""A person's own modules beside their flow are theirs, even when named like pocketchat's
packages (`utils`, `nodes`, …): a node module doing `from utils import normalise` finds their
`utils.py`; ours stay ours; where a name still collides, one line says which and what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.loader import load_flow
from nodes.registry import builtin_registry

ROOT = Path(__file__).resolve().parent.parent

UTILS = '''def normalise(text):
    return " ".join(text.split()).lower()
'''
NODES = '''from pocketflow import Node

from utils import normalise


class Tidy(Node):
    actions = ("default",)

    def prep(self, shared):
        return shared["user_message"]

    def exec(self, text):
        return normalise(text)

    def post(self, shared, prep_res, exec_res):
        shared["tidy"] = exec_res
'''
FLOW = """name: tidy
description: Tidy the text with my own utils.normalise.
imports: [my_nodes]
start: tidy
nodes:
  tidy: {type: Tidy}
"""


def _experiment(folder: Path, *, utils_beside: bool = True) -> Path:
    folder.mkdir(parents=True)
    (folder / "my_nodes.py").write_text(NODES)
    (folder / "tidy.yaml").write_text(FLOW)
    if utils_beside:
        (folder / "utils.py").write_text(UTILS)
    return folder / "tidy.yaml"


def _cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(tmp_path / "d"),
                           *args], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_their_utils_beside_the_flow_is_the_one_their_module_gets(tmp_path: Path) -> None:
    flow = _experiment(tmp_path / "experiments")
    result = _cli(tmp_path, "flow", "validate", str(flow))
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout
    (tmp_path / "in.jsonl").write_text('{"user_message": "  Hello   WORLD "}\n')
    ran = _cli(tmp_path, "flow", "run", str(flow), "--input", "in.jsonl", "--out", "out.jsonl")
    assert ran.returncode == 0, ran.stderr
    assert '"status": "ok"' in (tmp_path / "out.jsonl").read_text()


def test_in_process_theirs_runs_and_ours_stay_ours(tmp_path: Path) -> None:
    import utils

    ours = sys.modules["utils"]
    spec = load_flow(_experiment(tmp_path / "experiments"), builtin_registry())
    cls = spec.nodes["tidy"].cls
    assert cls is not None and cls.__module__ == "my_nodes"
    tidy = cls()
    shared = {"user_message": "  Hello   WORLD "}
    tidy.run(shared)
    assert shared["tidy"] == "hello world"
    assert sys.modules["utils"] is ours is utils and not hasattr(utils, "normalise")
    assert str(tmp_path) not in " ".join(sys.path)
    import utils.store  # ours, whole: a package with its submodules

    assert utils.store.__name__ == "utils.store"


def test_a_collision_it_cannot_undo_is_one_line_naming_it(tmp_path: Path) -> None:
    """Their utils.py is elsewhere on the path, so `utils` is ours when their module asks."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "utils.py").write_text(UTILS)
    flow = _experiment(tmp_path / "experiments", utils_beside=False)
    result = _cli(tmp_path, "flow", "validate", str(flow), env={"PYTHONPATH": str(lib)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    line = next(x for x in (result.stdout + result.stderr).splitlines() if "my_nodes" in x)
    assert "'utils' is also the name of pocketchat's own package" in line
    assert "rename your utils.py (e.g. my_utils.py)" in line


def test_a_module_name_used_in_two_folders_is_each_folders_own(tmp_path: Path) -> None:
    first = load_flow(_experiment(tmp_path / "one"), builtin_registry())
    other = tmp_path / "two"
    other.mkdir()
    (other / "my_nodes.py").write_text(NODES.replace("class Tidy", "class Neat"))
    (other / "utils.py").write_text(UTILS)
    (other / "neat.yaml").write_text(FLOW.replace("Tidy", "Neat"))
    second = load_flow(other / "neat.yaml", builtin_registry())
    one, two = first.nodes["tidy"].cls, second.nodes["tidy"].cls
    assert one is not None and two is not None
    assert (one.__name__, two.__name__) == ("Tidy", "Neat")
    assert Path(sys.modules[two.__module__].__file__ or "").parent == other
