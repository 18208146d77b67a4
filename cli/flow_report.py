"""`flow compare --html`: one self-contained page (inline CSS and SVG, no script, nothing
fetched) — the charts, every figure per variant, the differences, the questions whose outcome
changed, and each question's answers side by side with their sources. Every text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from cli.flow_diff import (
    DELTA_KEYS,
    changed_questions,
    deltas,
    describe_outcome,
    outcome,
    question_key,
    question_text,
    signed,
)
from cli.flow_summary import show_value
from cli.report_charts import latency_boxes, metric_bars

Column = tuple[str, list[dict[str, Any]]]

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.answer{white-space:pre-wrap;max-width:28em}
.ok{color:#176f2c}.failed{color:#b00020}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}
small{color:#666}
"""


def report_html(columns: Sequence[Column], summaries: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The whole page."""
    names = ", ".join(escape(label) for label, _ in columns)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>pocketchat flow compare</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Flow comparison</h1>", f"<p>{len(columns)} variants: {names}</p>"]  # fmt: skip
    for chart_id, title, svg in (("metrics-chart", "Metrics", metric_bars(summaries)),
                                 ("latency-chart", "Latency", latency_boxes(columns))):  # fmt: skip
        if svg is not None:
            parts.append(f'<figure id="{chart_id}">{svg}<figcaption>{title}</figcaption></figure>')
    parts.append(_figures(summaries))
    parts.append(_deltas(summaries))
    parts.append(_changed(columns))
    parts.append(_answers(columns))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)


def _row(cells: Sequence[str], head: bool = False, nums: bool = False) -> str:
    tag = "th" if head else "td"
    out = []
    for i, cell in enumerate(cells):
        cls = ' class="num"' if nums and i > 0 and not head else ""
        out.append(f"<{tag}{cls}>{escape(cell)}</{tag}>")
    return "<tr>" + "".join(out) + "</tr>"


def _figures(summaries: Sequence[tuple[str, dict[str, Any]]]) -> str:
    names = list(summaries[0][1]) if summaries else []
    rows = [_row(["measure", *(label for label, _ in summaries)], head=True)]
    rows += [_row([n, *(show_value(s.get(n)) for _, s in summaries)], nums=True) for n in names]
    return '<h2>Figures</h2><table id="metrics">' + "".join(rows) + "</table>"


def _deltas(summaries: Sequence[tuple[str, dict[str, Any]]]) -> str:
    found = deltas(summaries)
    if not found:
        return ""
    rows = [_row(["measure", *(label for label, _ in found)], head=True)]
    rows += [_row([k, *(signed(d.get(k)) for _, d in found)], nums=True) for k in DELTA_KEYS]
    title = f"Difference from {escape(summaries[0][0])}"
    return f'<h2>{title}</h2><table id="deltas">' + "".join(rows) + "</table>"


def _changed(columns: Sequence[Column]) -> str:
    if len(columns) < 2:
        return ""
    changed = changed_questions(columns)
    items = []
    for c in changed:
        shown = "".join(f"<li>{escape(label)}: {escape(text)}</li>" for label, text in c.outcomes)
        items.append(f"<li>line {escape(str(c.line))}: {escape(c.question)}<ul>{shown}</ul></li>")
    return (f"<h2>Questions whose outcome changed ({len(changed)})</h2>"
            f'<ul id="changed">{"".join(items)}</ul>')  # fmt: skip


def _answers(columns: Sequence[Column]) -> str:
    keys: dict[str, dict[str, dict[str, Any]]] = {}
    for label, rows in columns:
        for row in rows:
            keys.setdefault(question_key(row), {})[label] = row
    head = "<tr><th>question</th>" + "".join(f"<th>{escape(c[0])}</th>" for c in columns)
    body = []
    for by_label in keys.values():
        first = next(iter(by_label.values()))
        cells = [f"<td>line {escape(str(first.get('line')))}: {escape(question_text(first))}"
                 f"{_expected(first)}</td>"]  # fmt: skip
        for label, _ in columns:
            found = by_label.get(label)
            cells.append(_answer_cell(found) if found is not None else "<td>-</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return ('<h2>Answers</h2><table id="answers">' + head + "</tr>" + "".join(body)
            + "</table>")  # fmt: skip


def _expected(record: dict[str, Any]) -> str:
    given = record.get("input")
    if not isinstance(given, dict) or not given.get("expected_sources"):
        return ""
    wanted = ", ".join(str(e) for e in given["expected_sources"])
    return f"<br><small>expected sources: {escape(wanted)}</small>"


def _answer_cell(record: dict[str, Any]) -> str:
    status = str(record.get("status"))
    outputs = record.get("outputs") or {}
    text = record.get("error") or outputs.get("reply") or ""
    sources = "".join(
        f"<li>{escape(str(s.get('path')))} "
        f"<small>score {escape(show_value(s.get('score')))}</small></li>"
        for s in outputs.get("sources") or [] if isinstance(s, dict)
    )  # fmt: skip
    latency = outputs.get("latency_seconds")
    return (f'<td><div class="{"ok" if status == "ok" else "failed"}">'
            f"{escape(describe_outcome(outcome(record)))}</div>"
            f'<div class="answer">{escape(str(text))}</div>'
            f"{f'<ol class=sources>{sources}</ol>' if sources else ''}"
            f"<small>{escape(show_value(latency))} s</small></td>")  # fmt: skip
