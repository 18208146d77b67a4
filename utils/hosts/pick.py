"""Which free host takes the next request: the rule alone, with no I/O.

A host with the model already loaded first (a load costs seconds), then the fewest requests in
flight for its slots, ties broken at random (never "the first": that piles every tie onto one
server, LiteLLM #39322).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from utils.hosts.spec import HostSpec


@dataclass(frozen=True)
class Candidate:
    spec: HostSpec
    in_flight: int  # the host line's live tickets (its gate's depth)
    loaded: bool = False  # the model is in the host's memory (/api/ps)

    @property
    def free(self) -> bool:
        return self.in_flight < self.spec.slots

    @property
    def load(self) -> float:
        return self.in_flight / self.spec.slots


def choose(candidates: Sequence[Candidate], rng: random.Random | None = None) -> Candidate | None:
    """The best free candidate, or None when none has a free slot."""
    free = [c for c in candidates if c.free]
    if not free:
        return None
    best = min((not c.loaded, c.load) for c in free)
    tied = [c for c in free if (not c.loaded, c.load) == best]
    return (rng or random).choice(tied)
