"""Token estimates, before Ollama counts them.

The heuristic counts words, numbers and punctuation separately and splits long words into
pieces of about four characters, as BPE tokenizers do; each message costs a few tokens of
template. A per-model factor, calibrated after every turn against Ollama's own
`prompt_eval_count`, scales it (see `Calibration`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_PIECES = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]", re.UNICODE)
MESSAGE_OVERHEAD = 4  # role markers and separators of a chat template
PROMPT_OVERHEAD = 3  # the assistant header the template appends


def estimate_text(text: str) -> int:
    """Heuristic tokens in `text` (uncalibrated)."""
    total = 0
    for piece in _PIECES.findall(text):
        if piece.isascii():
            total += max(1, math.ceil(len(piece) / 4)) if len(piece) > 6 else 1
        else:
            total += len(piece.encode("utf-8")) // 2 or 1
    return total


def estimate_message(message: Mapping[str, str]) -> int:
    return estimate_text(message.get("content", "")) + MESSAGE_OVERHEAD


def estimate_messages(messages: Iterable[Mapping[str, str]], factor: float = 1.0) -> int:
    """Estimated prompt tokens for `messages`, scaled by a calibration `factor`."""
    raw = sum(estimate_message(m) for m in messages) + PROMPT_OVERHEAD
    return math.ceil(raw * factor)


@dataclass(frozen=True)
class Calibration:
    """A model's correction factor: actual / estimated, smoothed over turns."""

    factor: float = 1.0
    samples: int = 0

    def updated(self, estimated: int, actual: int) -> Calibration:
        if estimated <= 0 or actual <= 0:
            return self
        observed = actual / (estimated / self.factor)  # compare with the raw heuristic
        weight = 1.0 / (self.samples + 1) if self.samples < 4 else 0.2
        factor = self.factor + (observed - self.factor) * weight
        return Calibration(factor=factor, samples=self.samples + 1)
