"""`flow run` and `flow compare`: experiments — a flow over a JSONL of inputs, recorded, and
two runs' outputs side by side.

Each input line is a JSON object whose keys become the shared store's inputs. A chat-like flow
starts a new session per line unless the line gives `session_id`. Every line is one row in
`flow_runs` (one batch id per command) and one line of output; a bad line (not JSON, or a key
whose value does not suit the node that reads it) or a node that raises is recorded as failed,
named (`line 3: 'user_message' must be text, not 42`; `flow f, node 'x' (Cls, file.py:N): …`),
and the batch goes on. Exit 0 when every line succeeded, else 1.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from cli._flow_ctx import get_extra_imports, get_search_path, note_shadowing
from cli.flow_batch import Batch
from cli.flow_summary import read_jsonl, read_text_lines, render, summarise


@click.command("run")
@click.argument("name_or_file")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="FILE.jsonl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="One JSON object per line: the shared store's inputs for one run.",
)
@click.option(
    "--out",
    "out_path",
    metavar="FILE.jsonl",
    type=click.Path(path_type=Path),
    help="Write one JSON object per input line here (default: standard output).",
)
@click.option(
    "--collection", metavar="NAME", help="shared['collection'] for lines that do not give one."
)
@click.option("-m", "--model", help="The model for new sessions (default: the config's).")
@click.option(
    "--keep",
    multiple=True,
    metavar="KEY",
    help="Also copy this shared key into each line's outputs (repeatable).",
)
@click.option("--host", metavar="URL", help="The Ollama server for this command.")
@click.pass_context
def run(
    ctx: click.Context,
    name_or_file: str,
    input_path: Path,
    out_path: Path | None,
    collection: str | None,
    model: str | None,
    keep: tuple[str, ...],
    host: str | None,
) -> None:
    """Run a flow once per line of --input, record every run, and summarise the batch.

    Modules listed under the flow's `imports:` (and the config's `imports:`) are imported,
    which runs their code: only run flow files you trust (`flow validate --no-imports` checks
    one without running anything).

    Output lines: {line, batch_id, run_id, input, status (ok|failed), error, outputs: {reply,
    reply_status, session_id, sources, prompt_tokens, completion_tokens, latency_seconds…},
    retrieval (with expected_sources), answer_match (with expected_answer)}.
    """
    from flows.build import build_flow
    from flows.errors import FlowError
    from flows.loader import load_flow
    from utils.sink import RecordingSink

    app = ctx.find_root().obj
    app.override(host=host, model=model)
    note_shadowing(ctx, name_or_file)
    try:
        spec = load_flow(name_or_file, app.registry(), search_path=get_search_path(ctx),
                         extra_imports=get_extra_imports(ctx))  # fmt: skip
    except FlowError as exc:
        raise click.ClickException("; ".join(str(i) for i in exc.issues)) from exc
    lines = read_text_lines(input_path)
    sink = RecordingSink()
    graph = build_flow(spec, app.deps(sink), app.settings.retry)
    numbered = [(n, text) for n, text in enumerate(lines, start=1) if text.strip()]
    batch = uuid.uuid4().hex[:12]
    runner = Batch(app, graph, spec, batch, sink, collection, keep)
    records = []
    with _output(out_path) as out, _progress(len(numbered)) as step:
        for number, text in numbered:
            record = runner.one(number, text)
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            out.flush()
            records.append(record)
            step(record)
    summary = render([(out_path.name if out_path else "run", summarise(records))])
    click.echo(f"batch {batch}: flow {spec.name}, {len(records)} runs", err=out_path is None)
    click.echo(summary, err=out_path is None)
    if runner.crashed and app.log_path:
        click.echo(f"tracebacks of the lines that failed in a node: {app.log_path}", err=True)
    if any(r["status"] != "ok" for r in records):
        ctx.exit(1)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    from utils.paths import open_private

    with open_private(path) as fh:  # 0600: replies and inputs are private
        yield fh


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar on a terminal (stderr), else one plain line per run."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="flow run", file=sys.stderr) as bar:
            yield lambda record: bar.update(1)
        return
    done = [0]

    def step(record: dict[str, Any]) -> None:
        done[0] += 1
        tail = f": {record['error']}" if record["error"] else ""
        click.echo(f"[{done[0]}/{total}] line {record['line']} {record['status']}{tail}", err=True)

    yield step


@click.command("compare")
@click.argument("first", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the two summaries as JSON.")
def compare(first: Path, second: Path, as_json: bool) -> None:
    """Side by side: two `flow run --out` files — runs, ok/failed, retrieval hit rate (lines
    with expected_sources), answer match rate, mean/median latency, tokens."""
    columns = [(str(path), summarise(read_jsonl(path))) for path in (first, second)]
    if as_json:
        click.echo(json.dumps([{"file": f, **s} for f, s in columns], indent=2))
        return
    if columns[0][0] == columns[1][0]:
        columns = [("A " + columns[0][0], columns[0][1]), ("B " + columns[1][0], columns[1][1])]
    click.echo(render(columns))
