"""Helpers for the RAG and `flow run` tests: the real CLI against the stand-in, in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from main import cli
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.store import SqliteStore, Store

DOCS = {
    "lighthouse.md": "Lighthouses guide ships at night with a bright lamp on a tall tower.\n\n"
    "The keeper trims the wick every evening and polishes the lens.",
    "zebra.txt": "Zebras have black and white stripes.\n\nThey live in herds on the savanna "
    "and eat grass.",
    "volcano.md": "A volcano erupts molten lava and ash.\n\nMagma rises from the mantle "
    "through cracks in the crust.",
}


def write_docs(folder: Path, docs: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (docs or DOCS).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


CONFIG = "rag:\n  chunk_size: 80\n  chunk_overlap: 0\n"


def invoke(standin: StandIn, data: Path, *args: str, config: str = "") -> Result:
    """The CLI with small chunks (one paragraph each) plus `config`, data in `data`."""
    data.mkdir(parents=True, exist_ok=True)
    path = data.parent / "pocketchat-test.yaml"
    path.write_text(CONFIG + config, encoding="utf-8")
    base = ["--config", str(path), "--host", standin.url, "--data-dir", str(data)]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def embed_texts(standin: StandIn) -> list[str]:
    """Every text sent to /api/embed so far."""
    out: list[str] = []
    for record in standin.requests.to("/api/embed"):
        given: Any = (record.body or {}).get("input")
        out.extend([given] if isinstance(given, str) else list(given or []))
    return out


def open_store(data: Path) -> Store:
    return SqliteStore.open(data / "pocketchat.db", SystemClock())


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
