"""Cutting text into chunks of about `size` characters on paragraph or sentence boundaries.

Units (paragraphs, or sentences) are packed whole into a chunk while it stays under `size`;
the next chunk starts with the last units of the previous one that fit in `overlap` characters.
A unit longer than `size` alone is cut at whitespace. A chunk's text is the original text
between its first and last unit, so offsets (`start`) point into the document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

Boundary = Literal["paragraph", "sentence"]

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?…])[\"')\]]?\s+|\n[ \t]*\n\s*")


@dataclass(frozen=True)
class Piece:
    start: int
    text: str

    @property
    def hash(self) -> str:
        return content_hash(self.text)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_text(
    text: str, size: int, overlap: int = 0, boundary: Boundary = "paragraph"
) -> list[Piece]:
    """The chunks of `text`; empty text gives none."""
    if size < 1:
        raise ValueError("chunk size must be at least 1 character")
    overlap = max(0, min(overlap, size // 2))
    units = [u for span in _units(text, boundary) for u in _split_long(text, span, size)]
    chunks: list[Piece] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= size:
            j += 1
        chunks.append(Piece(units[i][0], text[units[i][0] : units[j][1]]))
        if j + 1 >= len(units):
            break
        k = j + 1
        while k - 1 > i and units[j][1] - units[k - 1][0] <= overlap:
            k -= 1
        i = k
    return chunks


def _units(text: str, boundary: Boundary) -> list[tuple[int, int]]:
    pattern = _PARAGRAPH if boundary == "paragraph" else _SENTENCE
    spans: list[tuple[int, int]] = []
    start = 0
    for match in pattern.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if trail > lead:
            out.append((a + lead, a + trail))
    return out


def _split_long(text: str, span: tuple[int, int], size: int) -> list[tuple[int, int]]:
    """A unit over `size` characters cut at the last whitespace before each limit."""
    start, end = span
    parts: list[tuple[int, int]] = []
    while end - start > size:
        cut = text.rfind(" ", start + 1, start + size + 1)
        cut = cut if cut > start else start + size
        parts.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        parts.append((start, end))
    return parts
