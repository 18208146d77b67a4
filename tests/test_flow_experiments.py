"""`flow run` and `flow compare`: experiments recorded per line, summarised, compared; a flow
with a custom node from a module outside the project."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.rag_support import invoke, jsonl, open_store, write_docs
from tests.standin import StandIn

QUESTIONS = [
    {"user_message": "Why do zebras have stripes?", "expected_sources": ["zebra.txt"],
     "expected_answer": "stand-in"},
    {"user_message": "Where does magma rise from?", "expected_sources": ["geysers.md"]},
]  # fmt: skip


def _setup(standin: StandIn, tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    invoke(standin, data, "rag", "ingest", str(write_docs(tmp_path / "docs")), "-C", "n")
    questions = tmp_path / "q.jsonl"
    lines = [json.dumps(q) for q in QUESTIONS] + ["{not json", '{"user_message": "hi", '
                                                  '"collection": "nope"}']  # fmt: skip
    questions.write_text("\n".join(lines) + "\n")
    return data, questions


def test_flow_run_records_each_line_and_goes_on(standin: StandIn, tmp_path: Path) -> None:
    data, questions = _setup(standin, tmp_path)
    out = tmp_path / "a.jsonl"
    result = invoke(standin, data, "flow", "run", "rag", "--input", str(questions),
                    "--out", str(out), "--collection", "n")  # fmt: skip
    assert result.exit_code == 1, result.output
    progress = [x for x in result.output.splitlines() if x.startswith("flow run [")]
    assert any(x.startswith("flow run [3/4] ") and x.endswith("rag: line 3 failed: line 3: "
               "not JSON (Expecting property name enclosed in double quotes)")
               for x in progress), progress  # fmt: skip
    assert "runs/s" in progress[0]
    rows = jsonl(out)
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    first = rows[0]
    assert first["input"] == QUESTIONS[0] and first["error"] is None
    assert first["outputs"]["reply"].startswith("Hello! I am the stand-in model")
    assert Path(first["outputs"]["sources"][0]["path"]).name == "zebra.txt"
    assert first["outputs"]["prompt_tokens"] > 0 and first["outputs"]["latency_seconds"] > 0
    assert first["retrieval"] == {"expected": ["zebra.txt"], "matched": ["zebra.txt"],
                                  "hit": True, "recall": 1.0, "k": 4, "rank": 1,
                                  "reciprocal_rank": 1.0}  # fmt: skip
    assert first["answer_match"] is True
    assert rows[1]["retrieval"]["hit"] is False  # no such document
    assert rows[2]["input"] == "{not json" and rows[2]["outputs"] is None
    assert "no collection 'nope'" in rows[3]["error"]
    assert len({r["outputs"]["session_id"] for r in rows[:2]}) == 2  # a new session per line
    assert "hit_rate                 0.500" in result.output
    store = open_store(data)
    try:
        runs = store.flow_runs(rows[0]["batch_id"])
        assert [r.status for r in runs] == ["ok", "ok", "failed", "failed"]
        assert runs[0].flow_name == "rag" and runs[0].flow_file.endswith("flows/rag.yaml")
        assert runs[0].output is not None and runs[0].output["reply"] == first["outputs"]["reply"]
        assert runs[2].input == "{not json" and runs[0].duration_ms > 0
        assert runs[0].started_at <= runs[0].finished_at
    finally:
        store.close()


def test_session_id_continues_and_compare_side_by_side(standin: StandIn, tmp_path: Path) -> None:
    data, questions = _setup(standin, tmp_path)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    invoke(standin, data, "flow", "run", "rag", "--input", str(questions), "--out", str(a),
           "--collection", "n")  # fmt: skip
    sid = jsonl(a)[0]["outputs"]["session_id"]
    follow_up = {"user_message": "And the keeper?", "session_id": sid,
                 "expected_sources": ["lighthouse.md"]}  # fmt: skip
    (tmp_path / "q2.jsonl").write_text(json.dumps(follow_up) + "\n")
    ok = invoke(standin, data, "flow", "run", "rag_hybrid", "--input", str(tmp_path / "q2.jsonl"),
                "--out", str(b), "--collection", "n")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert jsonl(b)[0]["outputs"]["session_id"] == sid
    table = invoke(standin, data, "flow", "compare", str(a), str(b))
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["measure", str(a), str(b)]
    assert lines[1].split() == ["runs", "4", "1"]
    assert next(x for x in lines if x.startswith("hit_rate")).split()[1:] == ["0.500", "1.000"]
    as_json = json.loads(invoke(standin, data, "flow", "compare", str(a), str(b), "--json").output)
    assert [s["ok"] for s in as_json] == [2, 1] and as_json[0]["total_tokens"] > 0
    assert as_json[0]["latency_median_s"] is not None


def test_flow_run_a_non_chat_flow(standin: StandIn, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs")
    lines = tmp_path / "ingest.jsonl"
    lines.write_text(json.dumps({"path": str(docs), "collection": "c"}) + "\n")
    result = invoke(standin, tmp_path / "data", "flow", "run", "ingest", "--input", str(lines))
    assert result.exit_code == 0, result.output
    row = json.loads(next(x for x in result.output.splitlines() if x.startswith("{")))
    assert row["status"] == "ok" and row["outputs"]["ingest"]["files_read"] == 3


CUSTOM = '''
    from pocketflow import Node


    class KeepSources(Node):
        """Keep only the first `keep` retrieved chunks, and say it did."""

        actions = ("default",)

        def __init__(self, keep: int = 1) -> None:
            super().__init__()
            self.keep = keep

        def prep(self, shared):
            return shared.get("retrieved") or []

        def exec(self, hits):
            return hits[: self.keep]

        def post(self, shared, prep_res, exec_res):
            shared["retrieved"] = exec_res
            shared["kept_by_custom_node"] = len(exec_res)
'''

FLOW = """
    name: rag_top1
    description: RAG answering from the single best chunk.
    imports: [my_rag_nodes]
    start: load
    nodes:
      load:     {type: LoadSession}
      trim:     {type: TrimContext}
      embed:    {type: EmbedQuery}
      retrieve: {type: Retrieve, params: {top_k: 3}}
      keep:     {type: KeepSources, params: {keep: 1}}
      prompt:   {type: BuildRagPrompt}
      call:     {type: CallOllama}
      stream:   {type: StreamReply}
      persist:  {type: PersistTurn}
    edges:
      - load >> trim >> embed >> retrieve >> keep >> prompt >> call >> stream >> persist
      - embed - failed >> persist
      - retrieve - failed >> persist
      - call - unavailable >> persist
      - call - failed >> persist
"""


def test_custom_node_from_a_module_outside_the_project(standin: StandIn, tmp_path: Path) -> None:
    data = tmp_path / "data"
    invoke(standin, data, "rag", "ingest", str(write_docs(tmp_path / "docs")), "-C", "n")
    mine = tmp_path / "experiments"
    mine.mkdir()
    (mine / "my_rag_nodes.py").write_text(textwrap.dedent(CUSTOM))
    (mine / "top1.yaml").write_text(textwrap.dedent(FLOW))
    valid = invoke(standin, data, "flow", "validate", str(mine / "top1.yaml"))
    assert valid.exit_code == 0, valid.output
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"user_message": "zebra stripes", "collection": "n"}) + "\n")
    result = invoke(standin, data, "flow", "run", str(mine / "top1.yaml"), "--input",
                    str(questions), "--keep", "kept_by_custom_node")  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(next(x for x in result.output.splitlines() if x.startswith("{")))
    assert row["outputs"]["kept_by_custom_node"] == 1
    assert [Path(s["path"]).name for s in row["outputs"]["sources"]] == ["zebra.txt"]
    assert "flow rag_top1" in result.output
