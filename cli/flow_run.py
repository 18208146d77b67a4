"""`flow run`: an experiment — one or more flows (or one flow over a parameter grid) run once per
line of a JSONL file, every run recorded and evaluated; `flow compare` lives in flow_compare.py.

Each input line is a JSON object whose keys become the shared store's inputs. A chat-like flow
starts a new session per line unless the line gives `session_id`. Every line of every variant is
one row in `flow_runs` (one batch id per variant) with its evaluation (`flow_run_evals`), and one
line of output; the experiment (id, input file, variants with their params) is recorded once.
A bad line (not JSON, a key whose value does not suit the node that reads it, a bad assertion)
or a node that raises is recorded as failed, named (`line 3: 'user_message' must be text, not
42`; `flow f, node 'x' (Cls, file.py:N): …`), and the batch goes on. Exit 0 when every line
succeeded, else 1.
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
from cli.flow_batch import Batch, Judge, Labels
from cli.flow_compare import compare
from cli.flow_grid import parse_grid, plan
from cli.flow_summary import read_text_lines, render, summarise
from cli.progress import Progress

__all__ = ["compare", "run"]


@click.command("run")
@click.argument("flows", nargs=-1, required=True, metavar="NAME_OR_FILE...")
@click.option("--input", "input_path", required=True, metavar="FILE.jsonl",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One JSON object per line: the shared store's inputs for one run.")
@click.option("--out", "out_path", metavar="FILE.jsonl", type=click.Path(path_type=Path),
              help="Write one JSON object per input line and variant here (default: stdout).")
@click.option("--grid", "grid", multiple=True, metavar="KEY=V1,V2",
              help="Run every combination: a node param (`top_k`, or `node.param`) and its "
              "values (repeatable).")
@click.option("--grid-file", metavar="FILE.yaml",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A YAML grid (`grid: {top_k: [2, 4]}`), added to the --grid options.")
@click.option("--judge", is_flag=True,
              help="Grade each answer with the eval flow (LLM-graded faithfulness, relevance).")
@click.option("--eval-flow", default="eval", show_default=True, metavar="NAME_OR_FILE",
              help="The flow --judge runs on each answer (your own to swap the checks).")
@click.option("--judge-model", metavar="MODEL", help="The judge's model (default: the answer's).")
@click.option("-C", "--collection", metavar="NAME",
              help="shared['collection'] for lines that do not give one.")
@click.option("-m", "--model", help="The model for new sessions (default: the config's).")
@click.option("--keep", multiple=True, metavar="KEY",
              help="Also copy this shared key into each line's outputs (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@click.option("--host", metavar="URL", help="The Ollama server for this command.")
@click.pass_context
def run(ctx: click.Context, flows: tuple[str, ...], input_path: Path, out_path: Path | None,
        grid: tuple[str, ...], grid_file: Path | None, judge: bool, eval_flow: str,
        judge_model: str | None, collection: str | None, model: str | None,
        keep: tuple[str, ...], quiet: bool, host: str | None) -> None:  # fmt: skip
    """Run flows once per line of --input, record and evaluate every run, and summarise.

    Several flows, or a --grid, make one experiment of several variants over the same lines
    (`flow compare EXPERIMENT_ID` shows them side by side). Lines may carry
    `expected_sources` (hit, recall@k, MRR), `expected_answer`, `expected` and promptfoo-style
    `assert: [{type: icontains, value: …}]` checks.

    Modules listed under a flow's `imports:` (and the config's `imports:`) are imported,
    which runs their code: only run flow files you trust (`flow validate --no-imports` checks
    one without running anything).

    Output lines: {line, batch_id, run_id, experiment_id, variant, input, status (ok|failed),
    error, outputs: {reply, reply_status, session_id, sources, prompt_tokens,
    completion_tokens, latency_seconds…}, retrieval, answer_match, assertions, judgements}.
    """
    from flows.build import build_flow
    from utils.sink import RecordingSink
    from utils.store import Variant

    app = ctx.find_root().obj
    app.override(host=host, model=model)
    specs = [_load(ctx, app, name) for name in flows]
    planned = plan(specs, parse_grid(grid, grid_file))
    judged = _judge(ctx, app, eval_flow, judge_model) if judge else None
    lines = read_text_lines(input_path)
    numbered = [(n, text) for n, text in enumerate(lines, start=1) if text.strip()]
    experiment = uuid.uuid4().hex[:12]
    batches = [uuid.uuid4().hex[:12] for _ in planned]
    app.store().record_experiment(
        experiment_id=experiment, input_file=str(input_path.resolve()),
        variants=[Variant(p.label, b, p.spec.name, str(p.spec.file), p.params)
                  for p, b in zip(planned, batches, strict=True)],
    )  # fmt: skip
    to_stdout = out_path is None
    columns, failed, crashed = [], False, 0
    total = len(numbered) * len(planned)
    quiet = quiet or to_stdout  # the JSON lines on stdout are the progress
    with _output(out_path) as out, Progress(total, "flow run", "runs", quiet=quiet) as progress:
        for p, batch in zip(planned, batches, strict=True):
            sink = RecordingSink()
            graph = build_flow(p.spec, app.deps(sink), app.settings.retry)
            labels = Labels(experiment, p.label)
            runner = Batch(app, graph, p.spec, batch, sink, collection, keep, labels, judged)
            records = []
            for number, text in numbered:
                record = runner.one(number, text)
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                out.flush()
                records.append(record)
                note = f"{p.label}: line {number} {record['status']}"
                tail = f": {record['error']}" if record["error"] else ""
                progress.step(note=note + tail, force=bool(record["error"]))
            columns.append((p.label, summarise(records)))
            failed = failed or any(r["status"] != "ok" for r in records)
            crashed += runner.crashed
    head = f"experiment {experiment}: {len(planned)} variants" if len(planned) > 1 else (
        f"batch {batches[0]}: flow {planned[0].spec.name}")  # fmt: skip
    click.echo(f"{head}, {total} runs", err=to_stdout)
    if len(planned) == 1:
        columns = [(out_path.name if out_path else "run", columns[0][1])]
    click.echo(render(columns), err=to_stdout)
    if crashed and app.log_path:
        click.echo(f"tracebacks of the lines that failed in a node: {app.log_path}", err=True)
    if failed:
        ctx.exit(1)


def _load(ctx: click.Context, app: Any, name: str) -> Any:
    from flows.errors import FlowError
    from flows.loader import load_flow

    note_shadowing(ctx, name)
    try:
        return load_flow(name, app.registry(), search_path=get_search_path(ctx),
                         extra_imports=get_extra_imports(ctx))  # fmt: skip
    except FlowError as exc:
        raise click.ClickException("; ".join(str(i) for i in exc.issues)) from exc


def _judge(ctx: click.Context, app: Any, eval_flow: str, model: str | None) -> Judge:
    from flows.build import build_flow
    from utils.sink import RecordingSink

    spec = _load(ctx, app, eval_flow)
    return Judge(build_flow(spec, app.deps(RecordingSink()), app.settings.retry), model)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    from utils.paths import open_private

    with open_private(path) as fh:  # 0600: replies and inputs are private
        yield fh
