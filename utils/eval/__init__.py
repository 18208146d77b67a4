"""Evaluation: pure metric functions over one question's retrieved sources and answer
(hit, recall@k, reciprocal rank; promptfoo-style answer assertions), the LLM judge's prompt and
verdict parsing, and per-variant summaries. No I/O: the judge's call is a node's
(nodes/judge_answer.py), the records are `flow run`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.eval.answer_checks import (
        ALL_TYPES,
        Assertion,
        AssertionProblem,
        check_assertions,
        passes,
        run_assertions,
    )
    from utils.eval.judging import CRITERIA, PROMPTS, judge_messages, parse_verdict, sources_text
    from utils.eval.ranking import first_rank, retrieval_scores, source_matches
    from utils.eval.scores import mean, metric_summary, ratio

__all__ = [
    "ALL_TYPES",
    "CRITERIA",
    "PROMPTS",
    "Assertion",
    "AssertionProblem",
    "check_assertions",
    "first_rank",
    "judge_messages",
    "mean",
    "metric_summary",
    "parse_verdict",
    "passes",
    "ratio",
    "retrieval_scores",
    "run_assertions",
    "source_matches",
    "sources_text",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "ALL_TYPES": "answer_checks",
        "Assertion": "answer_checks",
        "AssertionProblem": "answer_checks",
        "check_assertions": "answer_checks",
        "passes": "answer_checks",
        "run_assertions": "answer_checks",
        "CRITERIA": "judging",
        "PROMPTS": "judging",
        "judge_messages": "judging",
        "parse_verdict": "judging",
        "sources_text": "judging",
        "first_rank": "ranking",
        "retrieval_scores": "ranking",
        "source_matches": "ranking",
        "mean": "scores",
        "metric_summary": "scores",
        "ratio": "scores",
    },
)
