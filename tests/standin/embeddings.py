"""Deterministic embeddings built from hashed word features.

Each lower-cased word (see ``tokenizer``'s word split, without the 4-char cut) adds +1/-1
to one dimension chosen by a SHA-256 hash; the vector is then L2-normalised.  Texts that
share words therefore have a higher cosine similarity, which is enough for retrieval
tests.  An empty text gets a fixed unit vector.
"""

from __future__ import annotations

import hashlib
import math
import re

DEFAULT_DIMENSIONS = 64

_WORD = re.compile(r"\w+", re.UNICODE)


def embed_text(text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
    """Return the L2-normalised embedding of ``text``."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        digest = hashlib.sha256(word.encode("utf-8")).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return [v / norm for v in vector]


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors (helper for tests)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
