"""docs/flows.md's "A node that says what it reads and writes" is true as written: its files,
`nodes show` output, the wiring error `flow validate` reports, and the fixed flow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "flows.md"
SECTION = DOC.read_text(encoding="utf-8").split("### A node that says what it reads and writes")[1]


def block_after(marker: str) -> str:
    found = re.search(re.escape(marker) + r".*?\n\n```\w+\n(.*?)```", SECTION, re.S)
    assert found, f"no block after {marker!r} in docs/flows.md"
    return found.group(1)


def test_the_node_section_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "rerank_nodes.py").write_text(block_after("`rerank_nodes.py`:"))
    flow = folder / "reranked.yaml"
    flow.write_text(block_after("`reranked.yaml`:"))
    monkeypatch.chdir(folder)
    base = ["--data-dir", str(tmp_path / "data")]

    shown = CliRunner().invoke(cli, [*base, "nodes", "show", "Rerank", "--imports", "rerank_nodes"])
    assert shown.exit_code == 0, shown.output
    assert shown.output == block_after("`pocketchat nodes show Rerank --imports rerank_nodes`")

    broken = CliRunner().invoke(cli, [*base, "flow", "validate", "reranked.yaml"])
    assert broken.exit_code == 1
    expected = block_after("`pocketchat flow validate reranked.yaml` refuses it")
    assert broken.output == expected.replace("reranked.yaml", str(flow.resolve()))

    fixed = re.search(r"With the chain fixed to `([^`]+)`", SECTION)
    assert fixed is not None
    chain = " ".join(fixed.group(1).split())
    flow.write_text(re.sub(r"  - load >> .*\n", f"  - {chain}\n", flow.read_text(), count=1))
    ok = CliRunner().invoke(cli, [*base, "flow", "validate", "reranked.yaml"])
    assert ok.output == f"ok: {flow.resolve()} (9 nodes)\n"
    assert "`ok: reranked.yaml (9 nodes)`" in SECTION
    drawn = CliRunner().invoke(cli, [*base, "flow", "show", "reranked.yaml"])
    assert "  retrieve >> rerank   [retrieved]\n" in drawn.output
