"""Model options: checked by name, type and range before any request reaches Ollama.

`CHECKS` are the model's `options` of a chat request; `REQUEST_CHECKS` are session options
sent as request fields of their own: `keep_alive` (seconds as a number, negative = forever,
or a Go duration such as "5m", "1h30m", "300ms") and `think` (true/false, or low/medium/high
for models that take a level). Sending `think` to a model that cannot think makes Ollama answer
400, so it is sent only when the person set it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping


class OptionError(ValueError):
    """A bad option; the message is one line for the person."""


def _number(name: str, low: float, high: float | None) -> Callable[[object], object]:
    span = f"between {low:g} and {high:g}" if high is not None else f"{low:g} or more"

    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise OptionError(f"{name} must be a number {span}, got {value!r}")
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            raise OptionError(f"{name} must be a number {span}, got {value!r}")
        return float(value)

    return check


def _integer(name: str, ok: Callable[[int], bool], rule: str) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or not ok(value):
            raise OptionError(f"{name} must be {rule}, got {value!r}")
        return value

    return check


def _stop(value: object) -> object:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise OptionError(f"stop must be a text or a list of texts, got {value!r}")


CHECKS: dict[str, Callable[[object], object]] = {
    "temperature": _number("temperature", 0, 2),
    "top_p": _number("top_p", 0, 1),
    "top_k": _integer("top_k", lambda v: v >= 0, "a whole number >= 0"),
    "num_predict": _integer(
        "num_predict", lambda v: v in (-1, -2) or v > 0, "a whole number > 0, or -1 or -2"
    ),
    "num_ctx": _integer("num_ctx", lambda v: 1 <= v <= 1_048_576, "a whole number 1..1048576"),
    "stop": _stop,
    "repeat_penalty": _number("repeat_penalty", 0, None),
    "seed": _integer("seed", lambda v: True, "a whole number"),
}


GO_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+")
THINK_LEVELS = ("low", "medium", "high")


def _keep_alive(value: object) -> object:
    """Seconds as an int (or float), a Go duration as its text; numeric text becomes a number."""
    if isinstance(value, str):
        text = value.strip()
        if GO_DURATION.fullmatch(text):
            return text
        try:
            value = float(text)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(
            "keep_alive must be a number of seconds (negative = forever) or a duration "
            f"like 5m, 1h30m or 300ms, got {value!r}"
        )
    return int(value) if float(value).is_integer() else float(value)


def _think(value: object) -> object:
    if isinstance(value, bool) or value in THINK_LEVELS:
        return value
    raise OptionError(f"think must be true, false, low, medium or high, got {value!r}")


REQUEST_CHECKS: dict[str, Callable[[object], object]] = {
    "keep_alive": _keep_alive,
    "think": _think,
}
_ALL = {**CHECKS, **REQUEST_CHECKS}
_TRUTH = {"true": True, "on": True, "yes": True, "false": False, "off": False, "no": False}


def _unknown(name: str) -> OptionError:
    near = difflib.get_close_matches(name, sorted(_ALL), n=1)
    hint = f" (did you mean '{near[0]}'?)" if near else f"; known: {', '.join(sorted(_ALL))}"
    return OptionError(f"unknown option '{name}'{hint}")


def validate_options(raw: Mapping[str, object]) -> dict[str, object]:
    """The options, checked and normalised (floats as float, stop as a list, keep_alive as
    a number or a duration text)."""
    out: dict[str, object] = {}
    for name, value in raw.items():
        check = _ALL.get(name)
        if check is None:
            raise _unknown(name)
        out[name] = check(value)
    return out


def parse_option(key: str, text: str) -> object:
    """`-o KEY VALUE` / `/set KEY VALUE`: the text turned into the option's type and checked.

    `stop` takes comma-separated texts (`"a,b"` -> `["a", "b"]`); `think` true/false/on/off
    or a level."""
    key = key.strip()
    check = _ALL.get(key)
    if check is None:
        raise _unknown(key)
    value: object = text.strip()
    if key == "stop":
        value = [part for part in text.split(",") if part]
    elif key == "think":
        value = _TRUTH.get(text.strip().lower(), text.strip().lower())
    else:
        for convert in (int, float):
            try:
                value = convert(text.strip())
                break
            except ValueError:
                continue
    return check(value)
