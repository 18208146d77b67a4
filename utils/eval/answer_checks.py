"""Answer checks in promptfoo's style: a list of assertions in the question's line,

    {"assert": [{"type": "icontains", "value": "grass"}, {"type": "not-contains", "value": "I"}]}

Types: `equals`, `contains`, `icontains` (ignoring case), `regex` (Python `re.search`), each
negated by a `not-` prefix. `value` is text; for the contains types a list means "any of them".
`expected: "text"` is the short form of one `icontains`. `check_assertions` says what is wrong
with a line's assertions before anything runs; `run_assertions` grades one answer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TYPES = ("equals", "contains", "icontains", "regex")
ALL_TYPES = (*TYPES, *(f"not-{t}" for t in TYPES))


class AssertionProblem(ValueError):
    """An assertion that cannot be graded (unknown type, missing value, bad regex)."""


@dataclass(frozen=True)
class Assertion:
    type: str
    value: str | tuple[str, ...]

    @property
    def negated(self) -> bool:
        return self.type.startswith("not-")

    @property
    def base(self) -> str:
        return self.type.removeprefix("not-")

    def label(self) -> str:
        shown = self.value if isinstance(self.value, str) else " | ".join(self.value)
        return f"{self.type} {shown!r}" if isinstance(self.value, str) else f"{self.type} {shown}"


def check_assertions(inputs: Mapping[str, Any]) -> list[Assertion]:
    """The line's assertions (`expected` first, then `assert`); raises AssertionProblem."""
    found: list[Assertion] = []
    expected = inputs.get("expected")
    if expected is not None:
        if not isinstance(expected, str) or not expected:
            raise AssertionProblem("'expected' must be non-empty text")
        found.append(Assertion("icontains", expected))
    given = inputs.get("assert")
    if given is None:
        return found
    if not isinstance(given, list):
        raise AssertionProblem("'assert' must be a list of {type, value}")
    for i, item in enumerate(given):
        found.append(_one(i, item))
    return found


def _one(i: int, item: Any) -> Assertion:
    where = f"assert[{i}]"
    if not isinstance(item, Mapping):
        raise AssertionProblem(f"{where} must be a mapping {{type, value}}")
    kind = item.get("type")
    if kind not in ALL_TYPES:
        near = difflib.get_close_matches(str(kind), ALL_TYPES, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else f" (one of: {', '.join(ALL_TYPES)})"
        raise AssertionProblem(f"{where}: unknown type {kind!r}{hint}")
    value = item.get("value")
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        if kind.removeprefix("not-") not in ("contains", "icontains"):
            raise AssertionProblem(f"{where}: a list of values is only for the contains types")
        value = tuple(value)
    elif not isinstance(value, str):
        raise AssertionProblem(f"{where}: 'value' must be text")
    if kind.endswith("regex"):
        try:
            re.compile(str(value))
        except re.error as exc:
            raise AssertionProblem(f"{where}: bad regex ({exc})") from exc
    return Assertion(str(kind), value)


def passes(assertion: Assertion, answer: str) -> bool:
    """One assertion against one answer."""
    values = [assertion.value] if isinstance(assertion.value, str) else list(assertion.value)
    base = assertion.base
    if base == "equals":
        ok = answer.strip() == values[0].strip()
    elif base == "contains":
        ok = any(v in answer for v in values)
    elif base == "icontains":
        ok = any(v.casefold() in answer.casefold() for v in values)
    else:
        ok = re.search(values[0], answer) is not None
    return ok != assertion.negated


def run_assertions(assertions: list[Assertion], answer: str) -> dict[str, Any]:
    """{passed, failed, pass: all passed, results: [{assertion, pass}]} for one answer."""
    results = [{"assertion": a.label(), "pass": passes(a, answer)} for a in assertions]
    ok = sum(1 for r in results if r["pass"])
    return {"passed": ok, "failed": len(results) - ok, "pass": ok == len(results),
            "results": results}  # fmt: skip
