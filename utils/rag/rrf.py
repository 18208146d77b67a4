"""Reciprocal rank fusion: merge ranked lists without comparing their scores."""

from __future__ import annotations

from collections.abc import Sequence


def fuse(rankings: Sequence[Sequence[int]], k: int = 60) -> list[tuple[int, float]]:
    """(id, fused score) best first: each list adds 1 / (k + rank) for each id it ranks
    (rank from 1). Ties keep the first list's order, then the lower id."""
    scores: dict[int, float] = {}
    first_seen: dict[int, tuple[int, int]] = {}
    for li, ranking in enumerate(rankings):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(item, (li, rank))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]], kv[0]))
