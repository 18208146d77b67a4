"""Validation of request ``options`` and ``keep_alive``, with Ollama's error texts."""

from __future__ import annotations

import re
from typing import Any

FOREVER = float("inf")

_INT = {"num_ctx", "num_predict", "top_k", "seed", "num_keep", "num_batch", "num_gpu"}
_FLOAT = {
    "temperature",
    "top_p",
    "min_p",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "typical_p",
}
_BOOL = {"numa", "use_mmap", "penalize_newline"}
_STRINGS = {"stop"}

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


class BadRequest(ValueError):
    """A 400 with the message as ``{"error": ...}``."""


def check_options(options: Any) -> dict[str, Any]:
    """Return the options dict or raise ``BadRequest`` for wrong value types."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise BadRequest("json: cannot unmarshal into Go struct field .options of type map")
    for key, value in options.items():
        if key in _INT and not _is_number(value):
            raise BadRequest(f'option "{key}" must be of type integer')
        if key in _FLOAT and not _is_number(value):
            raise BadRequest(f'option "{key}" must be of type float')
        if key in _BOOL and not isinstance(value, bool):
            raise BadRequest(f'option "{key}" must be of type boolean')
        if key in _STRINGS and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise BadRequest(f'option "{key}" must be of type array')
    return options


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_duration(text: str) -> float:
    """Parse a Go duration (``"5m"``, ``"1h30m"``, ``"-1s"``, ``"0"``) into seconds."""
    raw = text.strip()
    sign = -1.0 if raw.startswith("-") else 1.0
    body = raw.lstrip("+-")
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(body):
        match = _PART.match(body, pos)
        if not match:
            raise BadRequest(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not body:
        raise BadRequest(f'time: invalid duration "{text}"')
    return sign * total


def keep_alive_seconds(value: Any, default: float) -> float:
    """``keep_alive`` in seconds: number = seconds, string = Go duration, negative = forever."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise BadRequest("json: cannot unmarshal bool into Go value of type Duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value)
    else:
        raise BadRequest("json: cannot unmarshal into Go value of type Duration")
    return FOREVER if seconds < 0 else seconds
