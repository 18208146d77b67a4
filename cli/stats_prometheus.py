"""`stats --prometheus`: the figures in the Prometheus text format (`prometheus_client`).

Distributions become a Summary (`_count`, `_sum`) plus a `_quantile` gauge labelled 0.5 / 0.95
(the Python client's Summary exposes no quantiles itself); rates are gauges in 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import SummaryMetricFamily

if TYPE_CHECKING:
    from utils.hosts import HostStatus

DISTRIBUTIONS = {
    "queue_wait_seconds": ("Seconds a request waited in the queue.", ("queue", "wait_seconds")),
    "model_load_seconds": ("Seconds Ollama spent loading a model.", ("model_load_seconds",)),
    "first_token_seconds": ("Seconds from request to first reply text.", ("first_token_seconds",)),
    "tokens_per_second": ("Reply tokens per second of generation.", ("tokens_per_second",)),
}  # fmt: skip
RATES = ("cache_hit", "streaming_disconnect", "interrupted", "context_truncation",
         "context_trimmed", "session_resurrection")  # fmt: skip


class _Figures:
    """A custom collector: yields the summaries built from the already computed figures."""

    def __init__(self, figures: dict[str, Any]) -> None:
        self.figures = figures

    def collect(self) -> Any:
        for name, (doc, path) in DISTRIBUTIONS.items():
            d: Any = self.figures
            for key in path:
                d = d[key]
            total = (d["mean"] or 0.0) * d["count"]
            yield SummaryMetricFamily(
                f"pocketchat_{name}", doc, count_value=d["count"], sum_value=total
            )


def exposition(figures: dict[str, Any], hosts: Sequence[HostStatus] = ()) -> str:
    registry = CollectorRegistry()
    registry.register(_Figures(figures))
    if hosts:  # several Ollama hosts: pocketchat_host_* per host
        from utils.hosts import HostCollector

        registry.register(HostCollector(lambda: list(hosts)))
    quantile = Gauge(
        "pocketchat_quantile",
        "Quantiles of the distributions above.",
        ["metric", "quantile"],
        registry=registry,
    )
    for name, (_, path) in DISTRIBUTIONS.items():
        d: Any = figures
        for key in path:
            d = d[key]
        for q, field in (("0.5", "p50"), ("0.95", "p95")):
            if d[field] is not None:
                quantile.labels(name, q).set(d[field])
    rate = Gauge("pocketchat_rate", "Rates in 0..1 over the window.", ["rate"], registry=registry)
    for name in RATES:
        value = figures["rates"][name]
        if value is not None:
            rate.labels(name).set(value)
    error = Gauge(
        "pocketchat_token_estimate_error_percent",
        "Mean absolute error of the prompt token estimate vs Ollama's count, last 20 turns.",
        ["model"],
        registry=registry,
    )
    for model, value in figures["token_estimate_error_pct"].items():
        error.labels(model).set(value)
    q = figures["queue"]
    Gauge("pocketchat_queue_depth_max", "Most tickets ahead of a request on arrival.",
          registry=registry).set(q["depth_max"] or 0)  # fmt: skip
    Gauge("pocketchat_replies", "Replies in the window.", registry=registry).set(figures["replies"])
    Gauge("pocketchat_ollama_retries", "Retries of Ollama calls in the window.",
          registry=registry).set(figures["retries"]["retries"])  # fmt: skip
    Gauge("pocketchat_rate_limited", "Turns refused by the rate limit in the window.",
          registry=registry).set(figures["rate_limited"])  # fmt: skip
    memory = figures.get("memory")
    if memory:  # long-term memory (docs/memory.md)
        jobs = Gauge("pocketchat_memory_jobs", "Memory extraction jobs by status in the window.",
                     ["status"], registry=registry)  # fmt: skip
        for status in ("pending", "running", "done", "failed"):
            jobs.labels(status).set(memory[status])
        Gauge("pocketchat_memory_json_retries", "Extraction replies asked again (broken JSON).",
              registry=registry).set(memory["json_retries"])  # fmt: skip
        Gauge("pocketchat_memories", "Memories kept.", registry=registry).set(memory["memories"])
    return generate_latest(registry).decode("utf-8")
