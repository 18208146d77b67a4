"""Per-variant figures from per-question evaluations (pure; the rows are `flow run` records).

hit_rate = questions with a hit / questions with expected sources; mean_recall and mrr are the
means of recall@k and of the reciprocal rank over the same questions; assert_pass_rate is over
questions with assertions (all of a question's assertions must pass); judge means are over the
questions the judge scored.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def metric_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """hit rate, recall, MRR, answer and assertion pass rates, judge scores."""
    rows = list(rows)
    retrieval = [r["retrieval"] for r in rows if r.get("retrieval")]
    asserted = [r["assertions"] for r in rows if r.get("assertions")]
    out: dict[str, Any] = {
        "with_expected_sources": len(retrieval),
        "hit_rate": ratio(sum(1 for x in retrieval if x["hit"]), len(retrieval)),
        "mean_recall": mean([x["recall"] for x in retrieval]),
        "mrr": mean([x.get("reciprocal_rank", 0.0) for x in retrieval]),
        "with_assertions": len(asserted),
        "assert_pass_rate": ratio(sum(1 for a in asserted if a["pass"]), len(asserted)),
    }
    judged: dict[str, list[float]] = {}
    for r in rows:
        for criterion, verdict in (r.get("judgements") or {}).items():
            if isinstance(verdict, Mapping) and verdict.get("score") is not None:
                judged.setdefault(criterion, []).append(float(verdict["score"]))
    for criterion in sorted(judged):
        out[f"judge_{criterion}"] = mean(judged[criterion])
    return out
