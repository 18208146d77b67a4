"""`rag ingest | list | drop`: the document collections that RAG flows answer from."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cli._ctx import store_errors


@click.group()
def rag() -> None:
    """Ingest documents into collections for RAG flows (`chat --collection NAME`)."""


@rag.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--collection", "-C", required=True, metavar="NAME", help="The collection to add to.")
@click.option("--flow", "flow_source", default="ingest", show_default=True, metavar="NAME|FILE",
              help="The ingest flow.")  # fmt: skip
@click.option("--max-files", type=click.IntRange(min=1), help="Read at most N new or changed "
              "files this run (default: rag.max_files).")  # fmt: skip
@click.option("--max-bytes", type=click.IntRange(min=1), help="Read at most N bytes of new or "
              "changed files this run (default: rag.max_bytes).")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--host", metavar="URL", help="The Ollama server for this command.")
@click.pass_obj
def ingest(
    app: Any,
    path: Path,
    collection: str,
    flow_source: str,
    max_files: int | None,
    max_bytes: int | None,
    quiet: bool,
    host: str | None,
) -> None:
    """Add the .txt, .md and .pdf files under PATH to a collection.

    Incremental: unchanged files are skipped and text already embedded is never embedded again;
    files that disappeared from PATH are removed. A run reads at most rag.max_files files and
    rag.max_bytes bytes: when it stops there it says so, and the next run carries on.
    Embedding shows a progress bar with rate and ETA at a terminal, a plain line now and then
    elsewhere (stderr), nothing with --quiet.
    """
    from cli.progress_sink import ProgressSink
    from cli.turns import TurnRunner

    app.override(host=host, **{"rag.max_files": max_files, "rag.max_bytes": max_bytes})
    sink = ProgressSink(quiet=quiet)
    runner = TurnRunner(app, sink, flow_source)
    with store_errors():
        try:
            shared = runner.turn(path=str(path), collection=collection)
        finally:
            sink.reply_done()  # a progress line left unfinished is cleared before what follows
    if shared.get("error"):
        raise click.ClickException(str(shared["error"]["line"]))
    click.echo(_summary(shared))


def _summary(shared: dict[str, Any]) -> str:
    n = shared.get("ingest") or {}
    info = shared.get("collection_info")
    total = f"; now {info.documents} documents, {info.chunks} chunks" if info else ""
    return (
        f"{shared['collection']}: {n.get('files_read', 0)} files read, "
        f"{n.get('files_unchanged', 0)} unchanged, {n.get('files_removed', 0)} removed, "
        f"{n.get('chunks', 0)} chunks, {n.get('embedded', 0)} embedded, "
        f"{n.get('reused', 0)} reused{total}"
    )


@rag.command("list")
@click.pass_obj
def list_collections(app: Any) -> None:
    """Every collection: documents, chunks, embedding model, last change."""
    from cli.table import table

    with store_errors():
        found = app.store().rag_collections()
    if not found:
        click.echo("no collections yet: `rag ingest PATH --collection NAME`")
        return
    cells = [(c.name, f"{c.documents:,}", f"{c.chunks:,}", c.embed_model or "-",
              c.updated_at[:16].replace("T", " ")) for c in found]  # fmt: skip
    for line in table(("COLLECTION", "DOCUMENTS", "CHUNKS", "EMBEDDING MODEL", "UPDATED"), cells,
                      right={1, 2}):  # fmt: skip
        click.echo(line)


@rag.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def drop(app: Any, name: str, yes: bool) -> None:
    """Delete a collection: its documents, chunks and unused embeddings (not the files)."""
    with store_errors():
        store = app.store()
        found = store.rag_collection(name)
        if not yes:
            if not sys.stdin.isatty():
                raise click.UsageError(f"dropping '{name}' needs confirmation: add --yes")
            click.confirm(
                f"Drop collection '{name}' ({found.documents} documents, {found.chunks} chunks)?",
                abort=True,
            )
        store.rag_drop(name)
    click.echo(f"dropped {name}")
