"""The report's charts, drawn by matplotlib as inline SVG (no pyplot, no global state, no
network): per-variant metric bars and per-variant latency distributions."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

METRICS = ("hit_rate", "mean_recall", "mrr", "answer_match_rate", "assert_pass_rate")


def _svg(fig: Any) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "pocketchat-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)  # RDF: creator, format
    return text[text.index("<svg") :]  # without the XML prolog and doctype


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def metric_bars(summaries: Sequence[tuple[str, dict[str, Any]]]) -> str | None:
    """Grouped bars: one group per measure (hit rate, recall, MRR, pass rates, judge scores),
    one bar per variant; None when no variant has any of them."""
    judge = sorted({k for _, s in summaries for k in s if k.startswith("judge_")})
    measures = [m for m in (*METRICS, *judge) if any(s.get(m) is not None for _, s in summaries)]
    if not measures:
        return None
    fig = _figure(max(6.0, 1.4 * len(measures) + 2), 3.6)
    ax = fig.add_subplot()
    width = 0.8 / max(len(summaries), 1)
    for i, (label, summary) in enumerate(summaries):
        xs = [m + (i - (len(summaries) - 1) / 2) * width for m in range(len(measures))]
        values = [summary.get(m) or 0.0 for m in measures]
        bars = ax.bar(xs, values, width=width, label=label)
        for j, patch in enumerate(bars.patches):  # `bar-<variant>-<measure>` in the SVG
            patch.set_gid(f"bar-{i}-{j}")
    ax.set_xticks(range(len(measures)), [m.replace("_", " ") for m in measures])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (0..1)")
    ax.set_title("Metrics per variant")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)


def latency_boxes(columns: Sequence[tuple[str, list[dict[str, Any]]]]) -> str | None:
    """One box (with the points) per variant of its runs' latencies; None when none has any."""
    data = [[float(v) for r in rows
             if (v := (r.get("outputs") or {}).get("latency_seconds")) is not None]
            for _, rows in columns]  # fmt: skip
    if not any(data):
        return None
    fig = _figure(max(6.0, 1.2 * len(columns) + 2), 3.6)
    ax = fig.add_subplot()
    ax.boxplot([d or [0.0] for d in data], orientation="horizontal")
    for i, values in enumerate(data, start=1):
        ax.scatter(values, [i] * len(values), s=10, alpha=0.5)
    ax.set_yticks(range(1, len(columns) + 1), [label for label, _ in columns])
    ax.invert_yaxis()  # the first variant on top, as in the tables
    ax.set_xlabel("latency (seconds)")
    ax.set_title("Latency per variant")
    return _svg(fig)
