"""Between variants: each question's outcome, the questions whose outcome changed, and the
differences of every figure from the first variant (pure, over `flow run` records)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Column = tuple[str, list[dict[str, Any]]]

DELTA_KEYS = ("hit_rate", "mean_recall", "mrr", "answer_match_rate", "assert_pass_rate",
              "latency_mean_s", "latency_median_s", "prompt_tokens", "completion_tokens",
              "total_tokens")  # fmt: skip


def question_key(record: dict[str, Any]) -> str:
    """Lines match across variants by their line number and input."""
    given = record.get("input")
    text = json.dumps(given, sort_keys=True) if isinstance(given, dict) else str(given)
    return f"{record.get('line')}\x00{text}"


def question_text(record: dict[str, Any]) -> str:
    given = record.get("input")
    if isinstance(given, dict):
        return str(given.get("user_message") or given.get("question") or json.dumps(given))
    return str(given)


def outcome(record: dict[str, Any]) -> dict[str, Any]:
    """What counts as the question's result: status, hit and rank, answer checks, verdicts."""
    found: dict[str, Any] = {"status": record.get("status")}
    retrieval = record.get("retrieval")
    if retrieval:
        found["hit"] = retrieval.get("hit")
        found["rank"] = retrieval.get("rank")
    if "answer_match" in record:
        found["answer"] = record["answer_match"]
    if record.get("assertions"):
        found["assert"] = record["assertions"].get("pass")
    for criterion, verdict in sorted((record.get("judgements") or {}).items()):
        if isinstance(verdict, dict):
            found[criterion] = verdict.get("pass")
    return found


def describe_outcome(found: dict[str, Any]) -> str:
    """`ok, hit @1, answer pass, assert fail` in a few words."""
    words = [str(found.get("status"))]
    if "hit" in found:
        words.append(f"hit @{found['rank']}" if found["hit"] else "miss")
    for key in ("answer", "assert", *sorted(k for k in found if k not in _PLAIN)):
        if key in found:
            words.append(f"{key} {_verdict(found[key])}")
    return ", ".join(words)


_PLAIN = {"status", "hit", "rank", "answer", "assert"}


def _verdict(value: Any) -> str:
    return "-" if value is None else ("pass" if value else "fail")


@dataclass(frozen=True)
class Changed:
    line: Any
    question: str
    outcomes: list[tuple[str, str]]  # (variant label, described outcome)


def changed_questions(columns: Sequence[Column]) -> list[Changed]:
    """Questions answered by two or more variants whose outcomes differ, in line order."""
    by_key: dict[str, dict[str, dict[str, Any]]] = {}
    for label, rows in columns:
        for row in rows:
            by_key.setdefault(question_key(row), {})[label] = row
    changed = []
    for same in by_key.values():
        if len(same) < 2:
            continue
        outcomes = {label: outcome(row) for label, row in same.items()}
        if len({json.dumps(o, sort_keys=True) for o in outcomes.values()}) > 1:
            first = next(iter(same.values()))
            shown = [(label, describe_outcome(o)) for label, o in outcomes.items()]
            changed.append(Changed(first.get("line"), question_text(first), shown))
    return sorted(changed, key=lambda c: (int(c.line or 0), c.question))


def deltas(summaries: Sequence[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Each variant after the first: its figure minus the first's, for DELTA_KEYS."""
    if len(summaries) < 2:
        return []
    base = summaries[0][1]
    out = []
    for label, summary in summaries[1:]:
        diff: dict[str, Any] = {}
        for key in DELTA_KEYS:
            a, b = base.get(key), summary.get(key)
            diff[key] = None if a is None or b is None else round(b - a, 4)
        out.append((label, diff))
    return out


def signed(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.3f}"
    return f"{value:+,}"
