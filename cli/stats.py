"""`stats`: usage metrics — the queue, model loads, latency, cache, truncation, disconnects
and replies a person stopped (counted apart)."""

from __future__ import annotations

import json
import re
from typing import Any

import click

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_SECONDS = 100 * 365 * 86400.0  # a window longer than a century: say `all`


def parse_since(text: str) -> float | None:
    """`30m`, `12h`, `7d`, `2w` -> seconds; `all` -> None. Raises click.BadParameter."""
    if text.strip().lower() == "all":
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if not match:
        raise click.BadParameter(
            f"'{text}' is not a duration such as 30m, 12h, 7d or all", param_hint="'--since'"
        )
    seconds = float(match[1]) * UNITS[match[2]]
    if seconds > MAX_SECONDS:
        raise click.BadParameter(
            f"'{text}' is longer than a hundred years; use --since all", param_hint="'--since'"
        )
    return seconds


@click.command()
@click.option("--since", default="7d", show_default=True, help="Window: 30m, 12h, 7d, 2w or all.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--prometheus", is_flag=True, help="Print the Prometheus text exposition format.")
@click.pass_obj
def stats(app: Any, since: str, as_json: bool, prometheus: bool) -> None:
    """Show usage metrics: queue depth and wait, model load time, time to first token,
    tokens per second, retries, and the cache hit, context truncation, session
    resurrection, streaming disconnect (the stream broke) and interrupted (stopped with
    Ctrl+C) rates."""
    from utils.store import iso
    from utils.telemetry import collect

    if as_json and prometheus:
        raise click.UsageError("use either --json or --prometheus, not both")
    window = parse_since(since)
    start = iso(0 if window is None else app.clock.now() - window)
    figures = collect(app.store(), start)
    pool = app.host_pool()  # several Ollama hosts: each one's state and figures, right now
    hosts = pool.status() if pool is not None else []
    from utils.memory import jobs_sql

    figures["memory"] = jobs_sql.counts(app.store(), start)  # long-term memory (docs/memory.md)
    if as_json:
        if pool is not None:
            from utils.hosts import host_rows

            figures["hosts"] = host_rows(hosts)
        click.echo(json.dumps(figures, indent=2))
    elif prometheus:
        from cli.stats_prometheus import exposition

        click.echo(exposition(figures, hosts), nl=False)
    else:
        click.echo(render(figures, since))
        if pool is not None:
            from utils.hosts import host_line

            click.echo("hosts:\n" + "\n".join(f"  {host_line(h)}" for h in hosts))


def render(f: dict[str, Any], since: str) -> str:
    q, rates = f["queue"], f["rates"]
    lines = [
        f"since {f['since']} ({since}): {f['replies']} replies",
        f"queue: {q['requests']} requests, {q['waited']} waited; "
        f"depth mean {_n(q['depth_mean'])}, max {_n(q['depth_max'])}; "
        f"wait {_dist(q['wait_seconds'], 's')}",
        f"model load: {_dist(f['model_load_seconds'], 's')}",
        f"first token: {_dist(f['first_token_seconds'], 's')}",
        f"tokens per second: {_dist(f['tokens_per_second'], '')}",
        f"retries: {f['retries']['retries']} in {f['retries']['calls_retried']} calls; "
        f"rate limited: {f['rate_limited']} turns",
        f"cache hit rate: {_pct(rates['cache_hit'])}",
        f"context truncation rate: {_pct(rates['context_truncation'])} "
        f"(trimmed by pocketchat: {_pct(rates['context_trimmed'])})",
        f"session resurrection rate: {_pct(rates['session_resurrection'])}",
        f"streaming disconnect rate: {_pct(rates['streaming_disconnect'])} (the stream broke)",
        f"interrupted rate: {_pct(rates['interrupted'])} (stopped with Ctrl+C)",
        _memory_line(f.get("memory")),
        "token estimate error (last 20 turns): "
        + (
            ", ".join(f"{m} {e:.1f}%" for m, e in f["token_estimate_error_pct"].items())
            or "no data"
        ),
    ]
    return "\n".join(lines)


def _memory_line(m: dict[str, int] | None) -> str:
    if not m:
        return "memory: no data"
    return (
        f"memory: {m['memories']} memories; extraction jobs: {m['done']} done ({m['facts']} "
        f"facts), {m['failed']} failed, {m['pending'] + m['running']} pending; "
        f"{m['json_retries']} broken-JSON retries; gave way to a turn {m['yields']} times"
    )


def _dist(d: dict[str, Any], unit: str) -> str:
    if not d["count"]:
        return "no data"
    return (
        f"n={d['count']} p50 {d['p50']:.3g}{unit} p95 {d['p95']:.3g}{unit} max {d['max']:.3g}{unit}"
    )


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{100 * value:.1f}%"


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
