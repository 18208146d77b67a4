"""utils/eval against hand-computed values on a small fixed set (the arithmetic written out)."""

from __future__ import annotations

from typing import Any

import pytest

from utils.eval import (
    AssertionProblem,
    check_assertions,
    metric_summary,
    parse_verdict,
    retrieval_scores,
    run_assertions,
)


def _src(path: str, chunk_id: int = 0) -> dict[str, Any]:
    return {"path": f"/notes/{path}", "chunk_id": chunk_id}


# Four questions, retrieved best first (k = 3):
#   q1 expects [a.md]         got [a, b, c]   rank 1 -> hit, recall 1/1, RR 1/1
#   q2 expects [b.md, c.md]   got [x, c, y]   rank 2 -> hit, recall 1/2, RR 1/2
#   q3 expects [d.md]         got [x, y, z]   none   -> miss, recall 0/1, RR 0
#   q4 expects [e.md, 17]     got [x, y, e#17] rank 3 -> hit, recall 2/2 (the file and the
#                                              chunk id both found), RR 1/3
SET: list[tuple[list[Any], list[dict[str, Any]]]] = [
    (["a.md"], [_src("a.md"), _src("b.md"), _src("c.md")]),
    (["b.md", "c.md"], [_src("x.md"), _src("c.md"), _src("y.md")]),
    (["d.md"], [_src("x.md"), _src("y.md"), _src("z.md")]),
    (["e.md", 17], [_src("x.md"), _src("y.md"), _src("e.md", 17)]),
]


def test_per_question_retrieval_scores() -> None:
    got = [retrieval_scores(expected, sources) for expected, sources in SET]
    assert [g["hit"] for g in got] == [True, True, False, True]
    assert [g["recall"] for g in got] == [1.0, 0.5, 0.0, 1.0]
    assert [g["rank"] for g in got] == [1, 2, None, 3]
    assert [g["reciprocal_rank"] for g in got] == [1.0, 0.5, 0.0, round(1 / 3, 4)]
    assert got[1]["matched"] == ["c.md"] and got[3]["matched"] == ["e.md", 17]


def test_recall_at_k_cuts_the_list() -> None:
    # q2 at k=1: only x.md is looked at -> miss, recall 0/2, RR 0
    at1 = retrieval_scores(["b.md", "c.md"], SET[1][1], k=1)
    assert (at1["hit"], at1["recall"], at1["reciprocal_rank"], at1["k"]) == (False, 0.0, 0.0, 1)
    # a path must end with "/" + the name: "a.md" does not match "/notes/xa.md"
    assert retrieval_scores(["a.md"], [_src("xa.md")])["hit"] is False


def test_aggregates_over_the_set() -> None:
    rows = [{"retrieval": retrieval_scores(e, s)} for e, s in SET]
    summary = metric_summary(rows)
    # hit rate = 3 hits / 4 questions = 0.75
    assert summary["hit_rate"] == 0.75
    # mean recall = (1 + 0.5 + 0 + 1) / 4 = 2.5 / 4 = 0.625
    assert summary["mean_recall"] == 0.625
    # MRR = (1 + 1/2 + 0 + 1/3) / 4 = (11/6) / 4 = 11/24 = 0.458333…
    assert summary["mrr"] == round(11 / 24, 4) == 0.4583
    assert summary["with_expected_sources"] == 4


ANSWER = "Zebras eat grass on the savanna."


def test_assertions_promptfoo_style() -> None:
    line = {"expected": "GRASS", "assert": [
        {"type": "contains", "value": "grass"},          # pass
        {"type": "contains", "value": "Grass"},          # fail (case)
        {"type": "icontains", "value": ["hay", "SAVANNA"]},  # pass (any of)
        {"type": "regex", "value": r"^Zebras\b"},        # pass
        {"type": "equals", "value": " Zebras eat grass on the savanna. "},  # pass (trimmed)
        {"type": "not-contains", "value": "meat"},       # pass
        {"type": "not-icontains", "value": "ZEBRAS"},    # fail
    ]}  # fmt: skip
    result = run_assertions(check_assertions(line), ANSWER)
    # `expected` (icontains GRASS) passes, then the seven above: 8 checks, 2 fail -> 6 passed
    assert [r["pass"] for r in result["results"]] == [True, True, False, True, True, True,
                                                      True, False]  # fmt: skip
    assert (result["passed"], result["failed"], result["pass"]) == (6, 2, False)


def test_assertion_pass_rate() -> None:
    ok = run_assertions(check_assertions({"expected": "grass"}), ANSWER)
    bad = run_assertions(check_assertions({"expected": "meat"}), ANSWER)
    # 2 questions with assertions, 1 where all passed -> 0.5
    assert metric_summary([{"assertions": ok}, {"assertions": bad}, {}])["assert_pass_rate"] == 0.5


@pytest.mark.parametrize(("line", "message"), [
    ({"assert": [{"type": "containz", "value": "x"}]},
     "assert[0]: unknown type 'containz' (did you mean 'contains'?)"),
    ({"assert": [{"type": "regex", "value": "("}]}, "assert[0]: bad regex"),
    ({"assert": [{"type": "equals"}]}, "assert[0]: 'value' must be text"),
    ({"assert": [{"type": "equals", "value": ["a", "b"]}]}, "only for the contains types"),
    ({"assert": "contains x"}, "'assert' must be a list"),
    ({"expected": 3}, "'expected' must be non-empty text"),
])  # fmt: skip
def test_bad_assertions_are_one_line(line: dict[str, object], message: str) -> None:
    with pytest.raises(AssertionProblem, match=None) as info:
        check_assertions(line)
    assert message in str(info.value)


def test_judge_verdicts() -> None:
    # SCORE 4 of 1..5 -> (4 - 1) / 4 = 0.75, passes the default threshold 0.75
    assert parse_verdict("SCORE: 4\nREASON: mostly supported") == {
        "score": 0.75, "raw": 4, "pass": True, "reason": "mostly supported"}
    # SCORE 3 -> (3 - 1) / 4 = 0.5: fails
    assert parse_verdict("score = 3/5")["pass"] is False
    assert parse_verdict("I think it is fine.")["error"]
    judged = [{"judgements": {"faithfulness": parse_verdict("SCORE: 5")}},
              {"judgements": {"faithfulness": parse_verdict("SCORE: 2")}},
              {"judgements": {"faithfulness": parse_verdict("no score")}}]  # fmt: skip
    # mean over the scored ones: (1.0 + 0.25) / 2 = 0.625
    assert metric_summary(judged)["judge_faithfulness"] == 0.625
