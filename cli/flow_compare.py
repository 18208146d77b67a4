"""`flow compare`: N variants side by side — every figure per variant, the differences from the
first, the questions whose outcome changed — and, with --html, one self-contained report."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.flow_diff import DELTA_KEYS, changed_questions, deltas, signed
from cli.flow_sources import load_columns
from cli.flow_summary import render, summarise


@click.command("compare")
@click.argument("sources", nargs=-1, required=True, metavar="RUN...")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON.")
@click.option("--html", "html_path", metavar="FILE.html", type=click.Path(path_type=Path),
              help="Also write a self-contained report: charts, the table, every answer.")
@click.pass_context
def compare(ctx: click.Context, sources: tuple[str, ...], as_json: bool,
            html_path: Path | None) -> None:  # fmt: skip
    """Compare runs: `flow run --out` files (a file of several variants is split by
    variant), experiment ids or batch ids (read from the store).

    Prints one column per variant — runs, ok/failed, hit rate, mean recall@k, MRR (lines with
    expected_sources), answer match and assertion pass rates, judge scores, latency, tokens —
    then each variant's difference from the first, then the questions whose outcome (status,
    hit and rank, answer checks, verdicts) differs between variants."""
    columns = load_columns(ctx, sources)
    summaries = [(label, summarise(rows)) for label, rows in columns]
    if as_json:
        click.echo(json.dumps([{"file": label, **s} for label, s in summaries], indent=2))
    else:
        click.echo(render(summaries))
        _print_deltas(summaries)
        _print_changed(columns)
    if html_path is not None:
        from cli.flow_report import report_html
        from utils.paths import write_private

        page = report_html(columns, summaries)
        try:
            write_private(html_path, page)  # 0600: replies are private
        except OSError as exc:
            raise click.ClickException(f"{html_path}: cannot write ({exc.strerror})") from exc
        click.echo(f"report: {html_path}", err=as_json)


def _print_deltas(summaries: list[tuple[str, dict[str, object]]]) -> None:
    found = deltas(summaries)
    if not found:
        return
    click.echo()
    click.echo(f"difference from {summaries[0][0]}:")
    head = ["measure", *(label for label, _ in found)]
    body = [[key, *(signed(d.get(key)) for _, d in found)] for key in DELTA_KEYS]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    for row in [head, *body]:
        cells = [c.ljust(w) if i == 0 else c.rjust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        click.echo("  ".join(cells).rstrip())


def _print_changed(columns: list[tuple[str, list[dict[str, object]]]]) -> None:
    if len(columns) < 2:
        return
    changed = changed_questions(columns)
    click.echo()
    click.echo(f"questions whose outcome changed: {len(changed)}")
    for item in changed:
        click.echo(f"line {item.line}: {_cut(item.question)}")
        for label, shown in item.outcomes:
            click.echo(f"  {label}: {shown}")


def _cut(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
