"""Listings as a person reads them: a header row, and columns as wide as their widest cell.

`table(header, rows)` returns the lines: two spaces between columns, numbers right-aligned
(`right`), a cell longer than its column's `limit` cut with `…`, the last column not padded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right: Collection[int] = (),
    limits: Mapping[int, int] | None = None,
) -> list[str]:
    cells = [list(header), *([_cut(c, (limits or {}).get(i)) for i, c in enumerate(row)]
                             for row in rows)]  # fmt: skip
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        shown = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        lines.append("  ".join(shown).rstrip())
    return lines


def _cut(cell: str, limit: int | None) -> str:
    if limit is None or len(cell) <= limit:
        return cell
    return cell[: limit - 1] + "…"
