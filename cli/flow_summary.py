"""What `flow run` writes per input line and how `flow run` / `flow compare` summarise a file.

Pure functions over plain dicts, so a run's JSONL output can be summarised again later.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click


def outputs_of(shared: dict[str, Any], latency: float, keep: Sequence[str] = ()) -> dict[str, Any]:
    """The shared keys a person cares about after one run (reply, sources, tokens, latency)."""
    turn = shared.get("turn") or {}
    timings = turn.get("timings") or {}
    out: dict[str, Any] = {
        "reply": turn.get("text"),
        "reply_status": turn.get("status"),
        "session_id": shared.get("session_id"),
        "message_id": turn.get("message_id"),
        "model": shared.get("model"),
        "sources": shared.get("sources"),
        "prompt_tokens": turn.get("prompt_tokens"),
        "completion_tokens": turn.get("completion_tokens"),
        "first_token_seconds": timings.get("first_token_seconds"),
        "latency_seconds": round(latency, 4),
    }
    if shared.get("ingest") is not None:
        out["ingest"] = shared["ingest"]
    for key in keep:
        out[key] = _jsonable(shared.get(key))
    if "prompt" in keep and shared.get("request"):  # what was sent, not the pre-quirks prompt
        from cli.prompt_view import prompt_record

        out["prompt"] = prompt_record(shared["request"])
    return out


def failure_of(shared: dict[str, Any]) -> str | None:
    """Why a run that did not raise still failed (an error line, or a reply not complete)."""
    if shared.get("error"):
        return str(shared["error"].get("line") or shared["error"])
    turn = shared.get("turn") or {}
    status = turn.get("status")
    if status not in (None, "complete"):
        return str((turn.get("meta") or {}).get("error") or f"the reply ended {status}")
    return None


def checks(inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """The line's evaluation (utils/eval): `retrieval` against `expected_sources` (file names,
    path ends or chunk ids: hit, recall@k, rank, reciprocal rank), `answer_match` against
    `expected_answer` (text, or a list: any one found in the reply, ignoring case) and
    `assertions` from `expected` / `assert` (promptfoo-style; checked before the line ran)."""
    from utils.eval import check_assertions, retrieval_scores, run_assertions

    found: dict[str, Any] = {}
    expected = inputs.get("expected_sources")
    if isinstance(expected, list) and expected:
        found["retrieval"] = retrieval_scores(expected, outputs.get("sources") or [])
    answer = inputs.get("expected_answer")
    reply = str(outputs.get("reply") or "")
    if isinstance(answer, str | list) and answer:
        wanted = [answer] if isinstance(answer, str) else [str(a) for a in answer]
        found["answer_match"] = any(w.casefold() in reply.casefold() for w in wanted)
    assertions = check_assertions(inputs)
    if assertions:
        found["assertions"] = run_assertions(assertions, reply)
    return found


def summarise(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """count, ok, failed, hit rate, recall, MRR, answer match rate, assertion pass rate, judge
    scores, latency, tokens."""
    from utils.eval import mean, metric_summary, ratio

    rows = list(records)
    latencies = [r["outputs"]["latency_seconds"] for r in rows
                 if (r.get("outputs") or {}).get("latency_seconds") is not None]  # fmt: skip
    answers = [r["answer_match"] for r in rows if "answer_match" in r]
    metrics = metric_summary(rows)

    def tokens(key: str) -> int:
        return sum(int((r.get("outputs") or {}).get(key) or 0) for r in rows)

    return {
        "runs": len(rows),
        "ok": sum(1 for r in rows if r.get("status") == "ok"),
        "failed": sum(1 for r in rows if r.get("status") != "ok"),
        "with_expected_sources": metrics.pop("with_expected_sources"),
        "hit_rate": metrics.pop("hit_rate"),
        "mean_recall": metrics.pop("mean_recall"),
        "mrr": metrics.pop("mrr"),
        "with_expected_answer": len(answers),
        "answer_match_rate": ratio(sum(1 for a in answers if a), len(answers)),
        **metrics,
        "latency_mean_s": mean(latencies),
        "latency_median_s": round(statistics.median(latencies), 4) if latencies else None,
        "prompt_tokens": tokens("prompt_tokens"),
        "completion_tokens": tokens("completion_tokens"),
        "total_tokens": tokens("prompt_tokens") + tokens("completion_tokens"),
    }


def read_text_lines(path: Path) -> list[str]:
    """The lines of a UTF-8 text file; a file that is not is one line naming the first bad
    line (click's one-line error), never a UnicodeDecodeError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read ({exc.strerror}).") from exc
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise click.ClickException(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8."
        ) from exc


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a `flow run --out` file (one line each); a bad line is one clear error."""
    rows = []
    for number, line in enumerate(read_text_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise click.ClickException(f"{path}:{number}: not a `flow run` output line")
        rows.append(row)
    return rows


def render(columns: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """One row per measure, one column per summary."""
    names = list(columns[0][1]) if columns else []
    head = ["measure", *(label for label, _ in columns)]
    body = [[name, *(show_value(summary.get(name)) for _, summary in columns)] for name in names]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in [head, *body]]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)


def show_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
