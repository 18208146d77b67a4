"""Retrieval metrics of one question: hit, recall@k and reciprocal rank against the sources a
person expected (file names, path ends or chunk ids), over the sources retrieved, best first.

    hit            1 when any expected source is among the first k retrieved, else 0
    recall@k       expected sources found among the first k / expected sources
    reciprocal     1 / the rank (1-based) of the first retrieved source that is expected, 0 if none
    rank

Averaged over questions they are the hit rate, mean recall@k and MRR (`scores.summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Source = Mapping[str, Any]


def source_matches(expected: Any, source: Source) -> bool:
    """An int names a chunk id; text names a path, or the end of one after a `/`."""
    if isinstance(expected, int) and not isinstance(expected, bool):
        return bool(source.get("chunk_id") == expected)
    text, path = str(expected), str(source.get("path") or "")
    return path == text or path.endswith("/" + text.lstrip("/"))


def first_rank(expected: Sequence[Any], sources: Sequence[Source]) -> int | None:
    """The 1-based rank of the first retrieved source that matches an expected one."""
    for rank, source in enumerate(sources, start=1):
        if any(source_matches(e, source) for e in expected):
            return rank
    return None


def retrieval_scores(
    expected: Sequence[Any], sources: Sequence[Source], k: int | None = None
) -> dict[str, Any]:
    """{expected, matched, hit, recall, k, rank, reciprocal_rank} for one question; `k` None
    means every source retrieved (the flow's own top_k)."""
    top = list(sources if k is None else sources[:k])
    matched = [e for e in expected if any(source_matches(e, s) for s in top)]
    rank = first_rank(expected, top)
    return {
        "expected": list(expected),
        "matched": matched,
        "hit": bool(matched),
        "recall": round(len(matched) / len(expected), 4) if expected else 0.0,
        "k": len(top) if k is None else k,
        "rank": rank,
        "reciprocal_rank": round(1 / rank, 4) if rank else 0.0,
    }
