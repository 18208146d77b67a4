"""LLM-graded checks: the judge's prompt for a criterion, and its verdict read back.

The judge answers with a line `SCORE: n` (1 to 5) and may give a reason; the score is scaled to
0..1 ((n - 1) / 4) and passes at `threshold`. A reply without a score is a judgement with an
error, never a guess. A person can give their own prompt: it is a `str.format` template with
`{question}`, `{answer}` and `{sources}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CRITERIA = ("faithfulness", "relevance")

SYSTEM = "You grade answers strictly. Reply with one line `SCORE: n` (n from 1 to 5), then one "
SYSTEM += "line `REASON: ...`."

PROMPTS: dict[str, str] = {
    "faithfulness": (
        "Is every claim in the ANSWER supported by the SOURCES? 5 = fully supported, "
        "1 = contradicted or invented.\n\nSOURCES:\n{sources}\n\nQUESTION: {question}\n\n"
        "ANSWER: {answer}"
    ),
    "relevance": (
        "Does the ANSWER address the QUESTION? 5 = directly and completely, 1 = not at all.\n\n"
        "QUESTION: {question}\n\nANSWER: {answer}"
    ),
}

_SCORE = re.compile(r"score\s*[:=]\s*([1-5])(?:\s*/\s*5)?\b", re.IGNORECASE)
_REASON = re.compile(r"reason\s*[:=]\s*(.+)", re.IGNORECASE)


def sources_text(sources: Sequence[Mapping[str, Any]], limit: int = 2000) -> str:
    """Numbered sources as the judge sees them (each cut at `limit` characters)."""
    if not sources:
        return "(none)"
    return "\n\n".join(
        f"[{i}] {s.get('path', '?')}\n{str(s.get('text') or '')[:limit]}"
        for i, s in enumerate(sources, start=1)
    )


def judge_messages(
    template: str, question: str, answer: str, sources: Sequence[Mapping[str, Any]]
) -> list[dict[str, str]]:
    """The chat messages sent to the judge model."""
    body = template.format(question=question, answer=answer, sources=sources_text(sources))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": body}]


def parse_verdict(reply: str, threshold: float = 0.75) -> dict[str, Any]:
    """{score 0..1, raw 1..5, pass, reason} or {error} when the reply has no score."""
    found = _SCORE.search(reply)
    if found is None:
        return {"error": "the judge's reply had no SCORE: 1-5", "score": None, "pass": None}
    raw = int(found.group(1))
    score = (raw - 1) / 4
    reason = _REASON.search(reply)
    return {"score": score, "raw": raw, "pass": score >= threshold,
            "reason": reason.group(1).strip() if reason else None}  # fmt: skip
