"""Click parameter types for numbers a person types: bounded, so a huge or non-finite value is
one clear usage line (exit 2), never an OverflowError deep in SQLite or the clock."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # click's ParamType is generic in its stubs only from 8.2 on
    _IntParam = click.ParamType[int, Any]
    _FloatParam = click.ParamType[float, Any]
else:
    _IntParam = _FloatParam = click.ParamType

MAX_COUNT = 2**63 - 1  # SQLite's INTEGER
MAX_DAYS = 36_500.0  # a hundred years: older than any session, and still a valid date


class Count(_IntParam):
    """A whole number from `low` to 2**63-1 (`--limit`)."""

    name = "N"

    def __init__(self, low: int = 1) -> None:
        self.low = low

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"{value!r} is not a whole number", param, ctx)
        if not self.low <= number <= MAX_COUNT:
            self.fail(f"{value} is not between {self.low} and {MAX_COUNT}", param, ctx)
        return number


class Days(_FloatParam):
    """A finite number of days from 0 to a hundred years (`--idle-days`)."""

    name = "DAYS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of days", param, ctx)
        if not math.isfinite(number) or not 0 <= number <= MAX_DAYS:
            self.fail(f"{value} is not a number of days from 0 to {MAX_DAYS:g}", param, ctx)
        return number
