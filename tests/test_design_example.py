"""The worked example in docs/design.md is true: its files, run as written, work."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from main import cli
from tests.standin import StandIn

DESIGN = Path(__file__).resolve().parent.parent / "docs" / "design.md"


def _block(name: str) -> str:
    """The fenced block that follows the line naming `name` in the worked example."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text[text.index("### Worked example") :]
    found = re.search(rf"`{re.escape(name)}`:\n\n```\w+\n(.*?)```", section, re.S)
    assert found, f"no block for {name} in docs/design.md"
    return found.group(1)


def test_the_worked_example_runs_as_documented(standin: StandIn, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_nodes.py").write_text(_block("my_nodes.py"))
    flow = folder / "dated.yaml"
    flow.write_text(_block("dated.yaml"))
    base = ["--host", standin.url, "--data-dir", str(tmp_path / "data")]

    ok = CliRunner().invoke(cli, [*base, "flow", "validate", str(flow)])
    assert ok.exit_code == 0, ok.output

    answered = CliRunner().invoke(cli, [*base, "ask", "--flow", str(flow), "What day is it?"])
    assert answered.exit_code == 0, answered.output
    sent = [r.body for r in standin.requests.to("/api/chat") if r.body.get("messages")]
    first = sent[-1]["messages"][0]
    assert first["role"] == "system" and first["content"].startswith("Today is ")

    flow.write_text(_block("dated.yaml").replace("{fmt:", "{fmat:"))
    typo = CliRunner().invoke(cli, [*base, "flow", "validate", str(flow)])
    assert typo.exit_code == 1
    documented = re.search(r"reported as `(dated\.yaml:\d+: [^`]+)`", DESIGN.read_text())
    assert documented is not None
    assert documented.group(1).replace("dated.yaml", str(flow)) in typo.output, typo.output
