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
    """Against `expected_sources` (file names, path ends or chunk ids) and `expected_answer`
    (text, or a list: any one found in the reply, ignoring case)."""
    found: dict[str, Any] = {}
    expected = inputs.get("expected_sources")
    if isinstance(expected, list) and expected:
        sources = outputs.get("sources") or []
        matched = [e for e in expected if any(_matches(e, s) for s in sources)]
        found["retrieval"] = {"expected": expected, "matched": matched, "hit": bool(matched),
                              "recall": round(len(matched) / len(expected), 4)}  # fmt: skip
    answer = inputs.get("expected_answer")
    if isinstance(answer, str | list) and answer:
        wanted = [answer] if isinstance(answer, str) else [str(a) for a in answer]
        reply = str(outputs.get("reply") or "").casefold()
        found["answer_match"] = any(w.casefold() in reply for w in wanted)
    return found


def _matches(expected: Any, source: dict[str, Any]) -> bool:
    if isinstance(expected, int) and not isinstance(expected, bool):
        return bool(source.get("chunk_id") == expected)
    text, path = str(expected), str(source.get("path") or "")
    return path == text or path.endswith("/" + text.lstrip("/"))


def summarise(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """count, ok, failed, hit rate, recall, answer match rate, latency, tokens."""
    rows = list(records)
    latencies = [r["outputs"]["latency_seconds"] for r in rows
                 if (r.get("outputs") or {}).get("latency_seconds") is not None]  # fmt: skip
    retrieval = [r["retrieval"] for r in rows if r.get("retrieval")]
    answers = [r["answer_match"] for r in rows if "answer_match" in r]

    def tokens(key: str) -> int:
        return sum(int((r.get("outputs") or {}).get(key) or 0) for r in rows)

    return {
        "runs": len(rows),
        "ok": sum(1 for r in rows if r.get("status") == "ok"),
        "failed": sum(1 for r in rows if r.get("status") != "ok"),
        "with_expected_sources": len(retrieval),
        "hit_rate": _ratio(sum(1 for x in retrieval if x["hit"]), len(retrieval)),
        "mean_recall": _mean([x["recall"] for x in retrieval]),
        "with_expected_answer": len(answers),
        "answer_match_rate": _ratio(sum(1 for a in answers if a), len(answers)),
        "latency_mean_s": _mean(latencies),
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
    body = [[name, *(_show(summary.get(name)) for _, summary in columns)] for name in names]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
             for row in [head, *body]]  # fmt: skip
    return "\n".join(line.rstrip() for line in lines)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value
