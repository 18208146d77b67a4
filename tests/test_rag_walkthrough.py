"""docs/rag-walkthrough.md is true: its files and commands, run as written, print what it says."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from main import cli
from tests.rag_support import DOCS, write_docs
from tests.standin import StandIn

Invoke = Callable[[list[str]], Result]
WALKTHROUGH = Path(__file__).resolve().parent.parent / "docs" / "rag-walkthrough.md"


def _text() -> str:
    return WALKTHROUGH.read_text(encoding="utf-8")


def _block(name: str) -> str:
    """The fenced block that follows the line naming `name`."""
    found = re.search(rf"`{re.escape(name)}`:\n\n```\w+\n(.*?)```", _text(), re.S)
    assert found, f"no block for {name} in docs/rag-walkthrough.md"
    return found.group(1)


def _commands() -> list[tuple[list[str], list[str]]]:
    """Every `pocketchat` command in document order (shell blocks and inline spans), with
    the `# ` lines under it in its block: what it prints."""
    found: list[tuple[int, list[str], list[str]]] = []
    text = _text()
    for block in re.finditer(r"```sh\n(.*?)```", text, re.S):
        lines = block.group(1).replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("pocketchat "):
                printed = []
                for after in lines[i + 1 :]:
                    if not after.startswith("# "):
                        break
                    printed.append(after[2:])
                found.append((block.start() + i, shlex.split(line)[1:], printed))
    prose = re.sub(r"```.*?```", lambda m: " " * len(m.group(0)), text, flags=re.S)
    for span in re.finditer(r"`(pocketchat [^`]+)`", prose):
        found.append((span.start(), shlex.split(span.group(1))[1:], []))
    return [(args, printed) for _, args, printed in sorted(found, key=lambda f: f[0])]


@pytest.fixture
def run(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> Invoke:
    """The walkthrough's files in place (HOME is tmp_path/home), and a CLI runner for it."""
    write_docs(isolated_env / "notes", {k: DOCS[k] for k in sorted(DOCS)})
    mine = isolated_env / "experiments"
    mine.mkdir()
    (mine / "my_rag_nodes.py").write_text(_block("~/experiments/my_rag_nodes.py"))
    (mine / "top1.yaml").write_text(_block("~/experiments/top1.yaml"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "questions.jsonl").write_text(_block("questions.jsonl"))
    monkeypatch.chdir(work)
    base = ["--host", standin.url, "--data-dir", str(tmp_path / "data")]

    def invoke(args: list[str]) -> Result:
        expanded = [str(Path(a).expanduser()) if a.startswith("~") else a for a in args]
        return CliRunner().invoke(cli, [*base, *expanded])

    return invoke


def test_the_walkthrough_runs_as_documented(run: Invoke, isolated_env: Path) -> None:
    commands = _commands()
    names = [" ".join(args[:2]) for args, _ in commands]
    assert names == ["rag ingest", "rag ingest", "rag list", "flow validate", "ask --flow",
                     "flow run", "flow run", "flow compare"]  # fmt: skip
    results = []
    for args, printed in commands:
        result = run(args)
        assert result.exit_code == 0, (args, result.output)
        for line in printed:
            assert line in result.stdout.splitlines(), (args, line, result.output)
        results.append(result)
    assert "(9 nodes)" in results[3].output
    runs = {name: [json.loads(x) for x in Path(name).read_text().splitlines()]
            for name in ("top4.jsonl", "top1.jsonl")}  # fmt: skip
    assert [r["outputs"]["kept_by_custom_node"] for r in runs["top1.jsonl"]] == [1, 1]
    lens = [r for r in runs["top1.jsonl"] if "lens" in r["input"]["user_message"]]
    assert Path(lens[0]["outputs"]["sources"][0]["path"]).name == "volcano.md"
    assert set(runs["top4.jsonl"][0]["outputs"]["sources"][0]) >= {"chunk_id", "score", "model"}

    table = re.search(r"`flow compare` prints.*?```text\n(.*?)```", _text(), re.S)
    assert table is not None
    printed = results[-1].stdout.splitlines()
    for line in table.group(1).splitlines():
        if line != "...":
            assert line in printed, (line, results[-1].output)

    sid = runs["top1.jsonl"][0]["outputs"]["session_id"]
    shown = run(["sessions", "show", sid])
    assert shown.exit_code == 0 and "volcano.md" in shown.output, shown.output

    zebra = isolated_env / "notes" / "zebra.txt"
    zebra.write_text(zebra.read_text() + "\n\nFoals stand within an hour of birth.")
    again = run(["rag", "ingest", "~/notes", "--collection", "notes"])
    assert "1 files read, 2 unchanged, 0 removed, 1 chunks, 1 embedded" in again.stdout


def test_the_documented_validate_errors(run: Invoke, isolated_env: Path) -> None:
    flow = isolated_env / "experiments" / "top1.yaml"
    good = flow.read_text()
    flow.write_text(good.replace("{keep: 1}", "{keeep: 1}"))
    typo = run(["flow", "validate", str(flow)])
    assert typo.exit_code == 1
    documented = re.search(r"`(top1\.yaml:\d+: node [^`]+)`", _text())
    assert documented is not None
    assert documented.group(1).replace("top1.yaml", str(flow)) in typo.output, typo.output

    flow.write_text(good.replace("  - retrieve - failed >> persist\n", ""))
    missing = run(["flow", "validate", str(flow)])
    assert missing.exit_code == 1
    assert re.search(
        rf"{re.escape(str(flow))}:\d+: node 'retrieve': action 'failed'", missing.output
    )


def test_a_capped_ingest_says_so_and_the_same_command_continues(run: Invoke) -> None:
    first = run(["rag", "ingest", "~/notes", "--collection", "capped", "--max-files", "2"])
    assert first.exit_code == 0 and "1 files left" in first.output, first.output
    assert "run the same command again to continue" in first.output
    second = run(["rag", "ingest", "~/notes", "--collection", "capped", "--max-files", "2"])
    assert "now 3 documents" in second.stdout, second.output
