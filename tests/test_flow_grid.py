"""`flow run` with several flows or a grid (one experiment, recorded), its per-line checks and
LLM judge, and `flow compare` over N runs, experiment ids and the HTML report (escaped)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.rag_support import invoke, jsonl, open_store, write_docs
from tests.standin import StandIn


def _setup(standin: StandIn, tmp_path: Path, lines: list[dict[str, Any]]) -> tuple[Path, Path]:
    data = tmp_path / "data"
    invoke(standin, data, "rag", "ingest", str(write_docs(tmp_path / "docs")), "-C", "n")
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return data, questions


ZEBRA = {"user_message": "What do zebras eat?", "expected_sources": ["zebra.txt"],
         "assert": [{"type": "icontains", "value": "stand-in"}]}  # fmt: skip


def test_a_grid_is_one_experiment_with_its_variants(standin: StandIn, tmp_path: Path) -> None:
    data, questions = _setup(standin, tmp_path, [ZEBRA])
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  hybrid: [false, true]\n")
    out = tmp_path / "out.jsonl"
    result = invoke(standin, data, "flow", "run", "rag", "rag_hybrid", "--input", str(questions),
                    "--grid", "retrieve.top_k=1,2", "--grid-file", str(grid), "--out", str(out),
                    "--quiet", "-C", "n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "flow run [" not in result.output  # --quiet
    rows = jsonl(out)
    labels = [r["variant"] for r in rows]
    # the file's keys first, then the options'; the first key varies slowest
    assert labels == [f"{f} hybrid={h} retrieve.top_k={k}" for f in ("rag", "rag_hybrid")
                      for h in ("false", "true") for k in (1, 2)]  # fmt: skip
    assert [r["status"] for r in rows] == ["ok"] * 8
    assert [len(r["outputs"]["sources"]) for r in rows] == [1, 2] * 4
    assert len({r["experiment_id"] for r in rows}) == 1
    assert len({r["batch_id"] for r in rows}) == 8
    store = open_store(data)
    try:
        found = store.experiment(rows[0]["experiment_id"])
        assert found is not None and found.input_file == str(questions.resolve())
        assert [v.label for v in found.variants] == labels
        assert found.variants[1].params == {"hybrid": False, "retrieve.top_k": 2}
        assert found.variants[0].flow_file.endswith("flows/rag.yaml")
        runs = store.flow_runs(rows[0]["batch_id"])
        evaluation = store.evaluations(rows[0]["batch_id"])[runs[0].id]
        assert evaluation["retrieval"] == rows[0]["retrieval"]
        assert evaluation["assertions"]["pass"] is True
    finally:
        store.close()
    assert re.search(r"^experiment \w+: 8 variants, 8 runs$", result.output, re.M)


def test_grid_mistakes_are_one_line(standin: StandIn, tmp_path: Path) -> None:
    data, questions = _setup(standin, tmp_path, [ZEBRA])
    cases = {
        ("--grid", "top_k"): "--grid 'top_k': write KEY=V1,V2",
        ("--grid", "nope=1,2"): "flow rag: --grid nope: no node takes a param 'nope'",
        ("--grid", "retrieve.nope=1"): "node 'retrieve' takes a param 'nope'",
        ("--grid", "top_k=two"): "node 'retrieve': param 'top_k' must be",
        ("--grid", "top_k=1", "--grid", "top_k=2"): "--grid top_k: given twice",
    }
    for args, message in cases.items():
        result = invoke(standin, data, "flow", "run", "rag", "--input", str(questions), *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, (args, result.output)


def test_a_bad_assertion_fails_its_line_before_it_runs(standin: StandIn, tmp_path: Path) -> None:
    bad = {"user_message": "hi", "assert": [{"type": "containz", "value": "x"}]}
    data, questions = _setup(standin, tmp_path, [ZEBRA, bad])
    asked = len(standin.requests.to("/api/chat"))
    result = invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "-C", "n")
    assert result.exit_code == 1
    rows = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    assert rows[1]["status"] == "failed"
    assert rows[1]["error"] == ("line 2: assert[0]: unknown type 'containz' (did you mean "
                                "'contains'?)")  # fmt: skip
    assert len(standin.requests.to("/api/chat")) == asked + 1  # only line 1 reached the model


def _judge(messages: Sequence[Mapping[str, Any]]) -> str:
    system = str(messages[0].get("content") or "")
    if system.startswith("You grade answers"):
        if "SOURCES" in str(messages[-1]["content"]):
            return "SCORE: 5\nREASON: every claim is in source [1]"
        return "The answer is on topic."  # no score: recorded as an error
    return "Zebras eat grass [1]."


def test_the_judge_grades_through_the_eval_flow(standin: StandIn, tmp_path: Path) -> None:
    data, questions = _setup(standin, tmp_path, [ZEBRA])
    standin.reply = _judge
    out = tmp_path / "j.jsonl"
    result = invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "-C", "n",
                    "--judge", "--judge-model", "qwen2.5:0.5b", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    verdicts = jsonl(out)[0]["judgements"]
    faithful = verdicts["faithfulness"]
    assert (faithful["score"], faithful["pass"], faithful["model"]) == (1.0, True, "qwen2.5:0.5b")
    assert faithful["reason"] == "every claim is in source [1]"
    sent = faithful["prompt"][-1]["content"]
    assert "Zebras eat grass [1]." in sent and "zebra.txt" in sent and "savanna" in sent
    assert verdicts["relevance"]["error"] and verdicts["relevance"]["score"] is None
    judged = [r for r in standin.requests.to("/api/chat")
              if (r.body or {}).get("model") == "qwen2.5:0.5b"]  # fmt: skip
    assert len(judged) == 2 and judged[0].body["stream"] is False
    assert re.search(r"^judge_faithfulness +1.000$", result.output, re.M), result.output

    custom = tmp_path / "my_eval.yaml"
    custom.write_text("name: my_eval\nstart: strict\nnodes:\n  strict: {type: JudgeAnswer, "
                      "params: {criterion: relevance, prompt: 'Q={question} A={answer}'}}\n")
    again = invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "-C", "n",
                   "--judge", "--eval-flow", str(custom))  # fmt: skip
    row = next(json.loads(x) for x in again.output.splitlines() if x.startswith("{"))
    assert list(row["judgements"]) == ["relevance"]
    assert row["judgements"]["relevance"]["prompt"][-1]["content"] == (
        "Q=What do zebras eat? A=Zebras eat grass [1].")


def test_compare_n_runs_and_an_escaped_report(standin: StandIn, tmp_path: Path) -> None:
    evil = {"user_message": "<script>alert(1)</script> zebras?", "expected_sources": ["zebra.txt"]}
    data, questions = _setup(standin, tmp_path, [ZEBRA, evil])
    outs = []
    for i, top_k in enumerate((1, 2, 3)):
        out = tmp_path / f"r{i}.jsonl"
        invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "-C", "n",
               "--grid", f"top_k={top_k}", "--out", str(out))  # fmt: skip
        outs.append(str(out))
    standin.reply = lambda messages: "</td><img src=x onerror=alert(2)>"
    broken = tmp_path / "r3.jsonl"
    invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "-C", "n",
           "--out", str(broken))  # fmt: skip
    report = tmp_path / "report.html"
    result = invoke(standin, data, "flow", "compare", *outs, str(broken), "--html", str(report))
    assert result.exit_code == 0, result.output
    head = result.output.splitlines()[0].split()
    assert head == ["measure", *outs, str(broken)]  # a file of one variant is named by its path
    assert f"difference from {outs[0]}:" in result.output
    assert "questions whose outcome changed:" in result.output
    page = report.read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/td&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert oct(report.stat().st_mode & 0o777) == "0o600"

    missing = invoke(standin, data, "flow", "compare", "no-such-run")
    assert missing.exit_code == 1
    assert "no-such-run: not a file, an experiment id nor a batch id" in missing.output
