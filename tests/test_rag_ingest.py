"""`rag ingest | list | drop` against the stand-in: incremental, bounded, no re-embedding."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.rag_support import embed_texts, invoke, open_store, write_docs
from tests.standin import StandIn


def test_ingest_then_reingest_embeds_nothing_again(standin: StandIn, tmp_path: Path) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    result = invoke(standin, data, "rag", "ingest", str(docs), "--collection", "notes")
    assert result.exit_code == 0, result.output
    assert "notes: 3 files read, 0 unchanged, 0 removed, 6 chunks, 6 embedded" in result.output
    assert len(embed_texts(standin)) == 6
    assert all(r.body["model"] == "nomic-embed-text" for r in standin.requests.to("/api/embed"))

    before = len(standin.requests.to("/api/embed"))
    again = invoke(standin, data, "rag", "ingest", str(docs), "--collection", "notes")
    assert again.exit_code == 0, again.output
    assert "0 files read, 3 unchanged" in again.output
    assert len(standin.requests.to("/api/embed")) == before  # not one request

    listed = invoke(standin, data, "rag", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines()[1].split()[:3] == ["notes", "3", "6"]  # under its header


def test_changed_file_embeds_only_new_chunks_and_removed_file_goes(
    standin: StandIn, tmp_path: Path
) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    invoke(standin, data, "rag", "ingest", str(docs), "--collection", "notes")
    sent = len(embed_texts(standin))
    zebra = docs / "zebra.txt"
    foals = "A new paragraph about zebra foals, which stand within an hour of birth."
    zebra.write_text(f"Zebras have black and white stripes.\n\n{foals}")
    os.utime(zebra, (1_800_000_000, 1_800_000_000))
    (docs / "volcano.md").unlink()
    result = invoke(standin, data, "rag", "ingest", str(docs), "--collection", "notes")
    assert result.exit_code == 0, result.output
    assert "1 files read, 1 unchanged, 1 removed, 2 chunks, 1 embedded, 1 reused" in result.output
    assert embed_texts(standin)[sent:] == [foals]
    store = open_store(data)
    try:
        info = store.rag_collection("notes")
        assert (info.documents, info.chunks) == (2, 4)
        assert sorted(Path(p).name for p in store.rag_documents(info.id)) == [
            "lighthouse.md", "zebra.txt"
        ]  # fmt: skip
    finally:
        store.close()


def test_cap_stops_with_one_line_and_next_run_continues(standin: StandIn, tmp_path: Path) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    first = invoke(standin, data, "rag", "ingest", str(docs), "-C", "n", "--max-files", "2")
    assert first.exit_code == 0, first.output
    assert "Ingest cap reached (rag.max_files=2" in first.output
    assert "1 files left for the next run" in first.output
    assert "2 files read" in first.output
    second = invoke(standin, data, "rag", "ingest", str(docs), "-C", "n", "--max-files", "2")
    assert "1 files read, 2 unchanged" in second.output
    assert "cap reached" not in second.output
    tiny = invoke(standin, data, "rag", "ingest", str(docs), "-C", "m", "--max-bytes", "10")
    assert "0 files read" in tiny.output and "3 files left" in tiny.output


def test_pdf_and_unsupported_files(standin: StandIn, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", {"a.md": "Plain markdown about owls."})
    (docs / "picture.png").write_bytes(b"\x89PNG")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (docs / "hello.pdf").write_bytes(_pdf("Owls hunt mice at night"))
    result = invoke(standin, tmp_path / "data", "rag", "ingest", str(docs), "-C", "birds")
    assert result.exit_code == 0, result.output
    assert "skipped:" in result.output and "broken.pdf: not a readable PDF" in result.output
    assert "Owls hunt mice at night" in embed_texts(standin)
    assert "2 files read" in result.output


def test_drop_needs_yes_without_a_terminal(standin: StandIn, tmp_path: Path) -> None:
    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    invoke(standin, data, "rag", "ingest", str(docs), "-C", "notes")
    refused = invoke(standin, data, "rag", "drop", "notes")
    assert refused.exit_code == 2 and "needs confirmation: add --yes" in refused.output
    dropped = invoke(standin, data, "rag", "drop", "notes", "--yes")
    assert dropped.exit_code == 0 and "dropped notes" in dropped.output
    missing = invoke(standin, data, "rag", "drop", "notes", "--yes")
    assert missing.exit_code == 1 and "no collection 'notes'" in missing.output
    store = open_store(data)
    try:
        left = store.db.conn.execute("SELECT count(*) FROM rag_embeddings").fetchone()[0]
        assert left == 0  # embeddings no chunk uses are gone with the collection
    finally:
        store.close()


def test_embedding_model_missing_is_one_line(standin: StandIn, tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs")
    result = invoke(
        standin, tmp_path / "data", "rag", "ingest", str(docs), "-C", "x",
        config="  embed_model: all-minilm\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "all-minilm" in result.output and "Traceback" not in result.output


def _pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica, with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref,
    )  # fmt: skip
    return bytes(out)


def test_a_programming_error_while_embedding_is_raised_once_not_retried(
    standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from utils.ollama import OllamaService

    calls: list[int] = []

    def broken(self: OllamaService, model: str, inputs: list[str]) -> list[list[float]]:
        calls.append(len(inputs))
        raise TypeError("a bug, not Ollama")

    docs, data = write_docs(tmp_path / "docs"), tmp_path / "data"
    assert invoke(standin, data, "rag", "ingest", str(docs), "-C", "n").exit_code == 0
    monkeypatch.setattr(OllamaService, "embed", broken)
    fast = "retry:\n  backoff: 0.01\n"
    (docs / "new.txt").write_text("A fresh paragraph about otters holding hands.")
    ingest = invoke(standin, data, "rag", "ingest", str(docs), "-C", "n", config=fast)
    assert ingest.exit_code == 1 and (
        "internal error in flow ingest, node 'embed' (EmbedChunks, embed_chunks.py:"
    ) in ingest.output and "TypeError: a bug, not Ollama" in ingest.output
    assert len(calls) == 1 and "retrying" not in ingest.output  # EmbedChunks: not retried
    ask = invoke(standin, data, "ask", "--collection", "n", "otters?", config=fast)
    assert ask.exit_code == 1 and "internal error in flow rag, node 'embed' (EmbedQuery, " in (
        ask.output
    ) and "TypeError: a bug, not Ollama" in ask.output
    assert len(calls) == 2 and "retrying" not in ask.output  # EmbedQuery: not retried
