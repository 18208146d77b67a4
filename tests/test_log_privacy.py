"""The log keeps no conversation: a crash's traceback goes to pocketchat.log (0600) without the
frames' variables, which would carry what the person wrote. Driven as a person meets it: a real
`main.py ask` through a flow with a node of their own that has a bug."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.standin import StandIn

ROOT = Path(__file__).resolve().parent.parent
SECRET = "my bank pin is 4321 and the otters know"


def test_a_crash_logs_its_traceback_without_the_message_text(
    standin: StandIn, tmp_path: Path
) -> None:
    (tmp_path / "buggy_nodes.py").write_text(
        "from nodes.base import PocketNode\n\n"
        "class Shout(PocketNode):\n"
        "    def prep(self, shared):\n"
        "        return shared['user_message']\n\n"
        "    def exec(self, prep_res):\n"
        "        words = prep_res.upper().split()\n"
        "        return words[len(words)]  # the bug\n",
        encoding="utf-8",
    )
    flow = tmp_path / "shout.yaml"
    flow.write_text(
        "imports: [buggy_nodes]\nstart: load\nnodes:\n"
        "  load: {type: LoadSession}\n  shout: {type: Shout}\n  persist: {type: PersistTurn}\n"
        "edges:\n  - load >> shout >> persist\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--host", standin.url, "--data-dir", str(data),
         "ask", "--flow", str(flow), SECRET],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "node 'shout' (Shout, buggy_nodes.py:9): IndexError" in result.stderr
    log_file = data / "pocketchat.log"
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    entries = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    crashes = [e for e in entries if e.get("exception")]
    assert crashes, entries  # the traceback is kept…
    frames = [f for e in crashes for exc in e["exception"] for f in exc["frames"]]
    assert any(f["name"] == "exec" and f["filename"].endswith("buggy_nodes.py") for f in frames)
    assert all("locals" not in f for f in frames)  # …without the frames' variables
    text = log_file.read_text(encoding="utf-8")
    for word in ("4321", "otters", "OTTERS"):
        assert word not in text
