"""Finding and reading the files a collection is built from: .txt, .md and .pdf (pypdf)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

SUPPORTED = (".txt", ".md", ".markdown", ".pdf")


class DocumentError(Exception):
    """A file cannot be read as text; the message is one line."""

    def user_line(self) -> str:
        return str(self)


def find_files(root: Path) -> Iterator[Path]:
    """Supported files under `root` (or `root` itself), sorted, skipping hidden entries."""
    if root.is_file():
        if root.suffix.lower() in SUPPORTED:
            yield root
        return
    if not root.is_dir():
        raise DocumentError(f"{root}: no such file or folder")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED:
            yield path


def read_text(path: Path) -> str:
    """The text of one file (PDF pages joined by blank lines)."""
    if path.suffix.lower() == ".pdf":
        return _read_pdf(path)
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise DocumentError(f"{path}: cannot read ({exc.strerror})") from exc


def _read_pdf(path: Path) -> str:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # we report a broken file in one line

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds for a broken file
        raise DocumentError(f"{path}: not a readable PDF ({type(exc).__name__})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())
