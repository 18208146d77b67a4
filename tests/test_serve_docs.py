"""docs/serve.md is true: its shell examples (after the `serve` lines themselves), run in one
bash script as written against a real `pocketchat serve` with a key, succeed in order; its two
Python clients run as written. The only changes: the doc's address becomes the test server's,
`pocketchat` is this checkout's main.py on the test's data dir, and curl fails on an HTTP error
(`--fail-with-body`) so a wrong example cannot pass quietly. README points to the doc."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serve_proc import Server, isolated, serving
from tests.standin import StandIn, replies

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "serve.md"
ADDRESS = "http://127.0.0.1:8080"

pytestmark = pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
    reason="the doc's shell examples need curl, jq and bash",
)


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def answer(messages: replies.Messages) -> str:
    text = replies.last_user_text(messages)
    return replies.essay_text(400) if "essay" in text else f"About {text}: it is fine."


@pytest.fixture
def server(standin: StandIn, tmp_path: Path) -> Iterator[Server]:
    standin.reply = answer
    standin.tokens_per_second = 200.0  # the essay takes seconds: the cancel lands mid-reply
    with serving(tmp_path / "d", standin.url) as up:
        yield up


def test_the_shell_examples_run_as_written(server: Server) -> None:
    shell = [b for b in blocks("sh") if not b.lstrip().startswith("pocketchat serve")]
    assert len(shell) >= 4
    prelude = (
        "set -euo pipefail\n"
        f'pocketchat() {{ "{sys.executable}" "{ROOT / "main.py"}" --data-dir "{server.data}" '
        '"$@"; }\n'
        'curl() { command curl --fail-with-body "$@"; }\n'
    )
    script = prelude + "\n".join(shell).replace(ADDRESS, server.url)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120,
                          env=isolated(server.data), cwd=server.data)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "event: queued" in out and "event: done" in out
    assert "event: delta" in out and "event: started" in out
    assert "About What is WAL mode?: it is fine." in out  # the chat completion's jq line
    assert '["user","complete"]' in out and '["assistant","complete"]' in out
    assert "llama3.2:1b" in out  # /v1/models
    assert "data: [DONE]" in out
    keys = server.pocketchat("keys", "list").stdout
    assert keys.splitlines()[1].split()[:1] == ["laptop"]


@pytest.mark.parametrize("which", [0, 1], ids=["httpx", "openai"])
def test_the_python_clients_run_as_written(server: Server, which: int) -> None:
    code = blocks("python")[which]
    made = server.pocketchat("keys", "create", "script")
    env = {**isolated(server.data), "POCKETCHAT_URL": server.url,
           "POCKETCHAT_KEY": made.stdout.strip()}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env, cwd=server.data)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    if which == 0:
        assert done.stdout.startswith("About What is WAL mode?: it is fine.")
        assert "[complete," in done.stdout
        assert "in line]" in done.stderr
    else:
        lines = done.stdout.splitlines()
        assert lines[0] == "About What is WAL mode?: it is fine."
        assert lines[1].startswith("About And in one line?: it is fine. ")


def test_the_readme_points_to_the_doc() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Serve mode" in readme and "docs/serve.md" in readme
    assert os.path.exists(DOC)
