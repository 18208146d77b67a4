"""Token estimates, before Ollama counts them.

The heuristic follows what BPE tokenizers do with text: a short common word is one token, a
long word about one token per four characters, digits come in groups of three, every
punctuation mark is a token, and non-Latin text costs about one token per character (three
UTF-8 bytes). Each message costs a few tokens of chat template. A per-model factor,
calibrated after every turn against Ollama's own `prompt_eval_count` (`Calibration`, kept in
the database by `utils.context.calibration`), scales it.

Everything here is one pass of one regex over the text; `cut_text` estimates only the short
candidates it builds, so a 1 MB paste is cut in a few milliseconds after one pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_PIECES = re.compile(r"[A-Za-z]+|\d+|[^\W\d_]+|\S", re.UNICODE)
MESSAGE_OVERHEAD = 4  # role markers and separators of a chat template
PROMPT_OVERHEAD = 3  # the assistant header the template appends
CUT_MARKER = "\n[… {n:,} characters cut here to fit the context window …]\n"


def _piece_tokens(piece: str) -> int:
    if piece.isascii():
        if piece.isalpha():
            return 1 if len(piece) <= 6 else math.ceil(len(piece) / 4)
        if piece.isdigit():
            return math.ceil(len(piece) / 3)
        return 1
    return max(1, math.ceil(len(piece.encode("utf-8")) / 3))


def estimate_text(text: str) -> int:
    """Heuristic tokens in `text` (uncalibrated)."""
    return sum(_piece_tokens(piece) for piece in _PIECES.findall(text))


def estimate_message(message: Mapping[str, str]) -> int:
    """Raw (uncalibrated) tokens of one chat message, template included."""
    return estimate_text(message.get("content", "")) + MESSAGE_OVERHEAD


def estimate_messages(messages: Iterable[Mapping[str, str]], factor: float = 1.0) -> int:
    """Estimated prompt tokens for `messages`, scaled by a calibration `factor`."""
    return scaled(raw_prompt(messages), factor)


def raw_prompt(messages: Iterable[Mapping[str, str]]) -> int:
    """Raw tokens of a whole prompt: its messages plus the template's tail."""
    return sum(estimate_message(m) for m in messages) + PROMPT_OVERHEAD


def scaled(raw: int, factor: float) -> int:
    return math.ceil(raw * factor)


def cut_text(text: str, max_tokens: int, known_tokens: int | None = None) -> str:
    """`text` with its middle replaced by a visible marker so it fits `max_tokens` (raw).

    Keeps the head and the tail (the question is often at the end of a paste). The first
    guess is proportional to the token density of the whole text; each further guess
    estimates only the candidate, which is at most `max_tokens` long.
    """
    total = estimate_text(text) if known_tokens is None else known_tokens
    if total <= max_tokens:
        return text
    marker_tokens = estimate_text(CUT_MARKER.format(n=len(text)))
    room = max_tokens - marker_tokens
    if room <= 0:
        return CUT_MARKER.format(n=len(text)).strip()[: max(0, max_tokens) * 2]
    chars = int(len(text) * room / total)
    for _ in range(8):
        half = max(0, chars // 2)
        candidate = text[:half] + CUT_MARKER.format(n=len(text) - 2 * half) + text[-half:]
        if half == 0:
            candidate = CUT_MARKER.format(n=len(text)).strip()
        used = estimate_text(candidate)
        if used <= max_tokens:
            return candidate
        chars = int(chars * max_tokens / used * 0.95)
    return CUT_MARKER.format(n=len(text)).strip()


@dataclass(frozen=True)
class Calibration:
    """A model's correction factor (Ollama's count / the raw heuristic), smoothed over turns.

    The first samples are averaged; later ones move the factor by a fifth of the difference,
    so a few turns are enough and one odd turn cannot swing it much; a sample off by more
    than half moves it halfway at once. `margin` is the safety added
    when planning a prompt: large while the factor is a guess, small once it is measured.
    """

    factor: float = 1.0
    samples: int = 0

    @property
    def margin(self) -> float:
        return 0.15 if self.samples == 0 else 0.08 if self.samples < 3 else 0.03

    @property
    def safe_factor(self) -> float:
        """The factor used to plan a prompt that must not overflow."""
        return self.factor * (1.0 + self.margin)

    def estimate(self, raw: int) -> int:
        return scaled(raw, self.factor)

    def updated(self, raw: int, actual: int) -> Calibration:
        """Fold in one turn: `raw` heuristic tokens of a prompt Ollama counted as `actual`."""
        if raw <= 0 or actual <= 0:
            return self
        observed = actual / raw
        weight = 1.0 / (self.samples + 1) if self.samples < 4 else 0.2
        if not 2 / 3 <= observed / self.factor <= 1.5:
            weight = max(weight, 0.5)  # far off (another tokenizer?): catch up fast
        factor = self.factor + (observed - self.factor) * weight
        return Calibration(factor=factor, samples=self.samples + 1)
