"""docs/workbench.md is true: its files and commands, run as written against the stand-in, print
what it says; the report it writes opens in a real headless Chromium with its charts and tables
drawn."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from selenium.webdriver.common.by import By

from main import cli
from tests.browser import chromium
from tests.standin import StandIn

Invoke = Callable[[list[str]], Result]
ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "workbench.md"
FIXTURES = ROOT / "tests" / "fixtures" / "workbench"
FIRST_SOURCE = re.compile(r"^\[1\] \S+ \(chunk \d+\)\n(.*?)(?:\n\n\[2\] |\Z)", re.S | re.M)


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _block(name: str) -> str:
    found = re.search(rf"`{re.escape(name)}`:\n\n```\w+\n(.*?)```", _text(), re.S)
    assert found, f"no block for {name} in docs/workbench.md"
    return found.group(1)


def _commands() -> list[tuple[list[str], list[str], int]]:
    """Every `pocketchat` command of the shell blocks, in order, with its `# ` lines and the
    exit status its comment says (`# exits 1`; else 0)."""
    found = []
    for block in re.finditer(r"```sh\n(.*?)```", _text(), re.S):
        lines = block.group(1).replace("\\\n", " ").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("pocketchat "):
                printed = [a[2:] for a in _takewhile(lines[i + 1 :])]
                status = re.search(r"# exits (\d+)$", line)
                args = shlex.split(line, comments=True)[1:]
                found.append((args, printed, int(status.group(1)) if status else 0))
    return found


def _fixed_edge() -> str:
    """The first edge as the walkthrough fixes it."""
    found = re.search(r"the first edge reads\n\n```yaml\n(.*?)\n```", _text(), re.S)
    assert found, "no fixed edge in docs/workbench.md"
    return found.group(1)


def _takewhile(lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        if not line.startswith("# "):
            break
        out.append(line)
    return out


def answer_from_first_source(messages: Sequence[Mapping[str, Any]]) -> str:
    """The stand-in's rule: the text of source [1], cited (or a plain line without sources)."""
    for message in messages:
        found = FIRST_SOURCE.search(str(message.get("content") or ""))
        if found:
            return " ".join(found.group(1).split()) + " [1]"
    return "The sources do not say."


@pytest.fixture
def run(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        isolated_env: Path) -> Invoke:  # fmt: skip
    """The walkthrough's files in place (HOME is tmp_path/home), and a CLI runner for it."""
    shutil.copytree(FIXTURES / "notes", isolated_env / "notes")
    mine = isolated_env / "experiments"
    mine.mkdir()
    (mine / "my_rerank.py").write_text(_block("~/experiments/my_rerank.py"))
    (mine / "rerank.yaml").write_text(_block("~/experiments/rerank.yaml"))
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(FIXTURES / "questions.jsonl", work / "questions.jsonl")
    monkeypatch.chdir(work)
    standin.reply = answer_from_first_source
    base = ["--host", standin.url, "--data-dir", str(tmp_path / "data")]

    def invoke(args: list[str]) -> Result:
        expanded = [str(Path(a).expanduser()) if a.startswith("~") else a for a in args]
        return CliRunner().invoke(cli, [*base, *expanded])

    return invoke


def test_the_questions_shown_are_the_fixture_file() -> None:
    shown = _block("questions.jsonl").splitlines()
    lines = (FIXTURES / "questions.jsonl").read_text().splitlines()
    assert len(lines) == 20 and shown == lines[: len(shown)]
    assert all(json.loads(x)["expected_sources"] for x in lines)


def test_the_walkthrough_runs_as_documented(run: Invoke, tmp_path: Path) -> None:
    commands = _commands()
    assert [" ".join(a[:2]) for a, _, _ in commands] == [
        "rag ingest", "nodes show", "flow validate", "flow validate", "flow run", "flow compare"]
    results = []
    flow = Path("~/experiments/rerank.yaml").expanduser()
    for args, printed, status in commands:
        result = run(args)
        assert result.exit_code == status, (args, result.output)
        shown = result.output.replace(str(Path.home()), "~").splitlines()
        for line in printed:
            assert line in shown, (args, line, result.output)
        results.append(result)
        if status:  # the deliberate wiring error was caught: fix it as the walkthrough does
            edges = [x for x in flow.read_text().splitlines() if x.startswith("  - load >>")]
            assert len(edges) == 1
            flow.write_text(flow.read_text().replace(edges[0], _fixed_edge()))
    results = results[:1] + results[4:]  # ingest, run, compare
    assert re.search(r"^experiment \w+: 4 variants, 80 runs$", results[1].output, re.M)
    rows = [json.loads(x) for x in Path("grid.jsonl").read_text().splitlines()]
    assert len(rows) == 80 and {r["variant"] for r in rows} == {
        "rerank keep=1 weight=0", "rerank keep=1 weight=1",
        "rerank keep=3 weight=0", "rerank keep=3 weight=1"}  # fmt: skip
    assert all(r["status"] == "ok" for r in rows)
    assert all(len(r["outputs"]["sources"]) == (1 if "keep=1" in r["variant"] else 3)
               for r in rows)  # fmt: skip

    table = re.search(r"and the questions whose outcome changed:\n\n```text\n(.*?)```",
                      _text(), re.S)  # fmt: skip
    assert table is not None
    printed = results[2].stdout.splitlines()
    for line in table.group(1).splitlines():
        if line != "...":
            assert line in printed, (line, results[2].output)

    # the experiment is in the store: compare by its id prints the same figures
    experiment = rows[0]["experiment_id"]
    by_id = run(["flow", "compare", experiment])
    assert by_id.exit_code == 0, by_id.output
    same = [x for x in printed if x.startswith(("hit_rate", "mrr", "assert_pass_rate"))]
    assert same and all(x in by_id.stdout.splitlines() for x in same), by_id.output

    _check_report(Path("report.html").resolve())


def _check_report(path: Path) -> None:
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|<iframe|(src|href)=\"(https?:)?//|url\((?!#)", page)
    driver = chromium()
    try:
        driver.get(path.as_uri())
        for chart in ("metrics-chart", "latency-chart"):
            svg = driver.find_element(By.CSS_SELECTOR, f"#{chart} svg")
            size = svg.size
            assert size["width"] > 200 and size["height"] > 100, (chart, size)
            drawn = driver.find_elements(By.CSS_SELECTOR, f"#{chart} svg path")
            assert len(drawn) > 10, chart
        # 4 variants x 4 measures (hit rate, recall, MRR, assertion pass rate), drawn as paths
        bars = driver.find_elements(By.CSS_SELECTOR, "#metrics-chart svg g[id^='bar-'] path")
        assert len(bars) == 16
        heights = [b.size["height"] for b in bars]
        assert all(h > 0 for h in heights) and len(set(heights)) > 1, heights
        heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#metrics tr th")]
        assert heads[0] == "measure" and len(heads) == 5
        answers = driver.find_elements(By.CSS_SELECTOR, "#answers tr")
        assert len(answers) == 21  # the head and the twenty questions
        cells = answers[1].find_elements(By.TAG_NAME, "td")
        assert len(cells) == 5 and "keeper" in cells[0].text
        assert all(c.is_displayed() and c.size["height"] > 0 for c in cells)
        assert "lighthouse.md" in answers[1].text
        logs: Any = driver.get_log("browser")  # type: ignore[attr-defined]  # Chrome's own
        assert [e for e in logs if e.get("level") == "SEVERE"] == []
    finally:
        driver.quit()
