"""`/metrics`: the server's figures in the Prometheus text format (prometheus_client).

`ServeMetrics` holds every metric in its own `CollectorRegistry` (one per app, so two apps in
one process never share counts); `create_app` makes one and puts it on `app.state.metrics`,
and the run code (serve/runs.py) updates it as things happen. No label names a person, a key or
a session: the only label is the Ollama host (`in_flight`) and the refusal status (`rejected`).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
RATES = (1, 2, 5, 10, 20, 40, 80, 160, 320)


class ServeMetrics:
    """The serve-mode metrics (names start with `pocketchat_serve_`)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.queue_depth = Gauge(
            "pocketchat_serve_queue_depth", "Runs waiting for an Ollama slot.", registry=r
        )
        self.wait_seconds = Histogram(
            "pocketchat_serve_wait_seconds", "Seconds a run waited in the queue.",
            buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.first_token_seconds = Histogram(
            "pocketchat_serve_first_token_seconds",
            "Seconds from a run's start to its first reply text.", buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.tokens_per_second = Histogram(
            "pocketchat_serve_tokens_per_second", "Reply tokens per second of generation.",
            buckets=RATES, registry=r,
        )  # fmt: skip
        self.load_seconds = Histogram(
            "pocketchat_serve_model_load_seconds", "Seconds Ollama spent loading a model.",
            buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.truncations = Counter(
            "pocketchat_serve_context_truncations", "Turns whose context was trimmed or cut.",
            registry=r,
        )  # fmt: skip
        self.resurrections = Counter(
            "pocketchat_serve_session_resurrections", "Archived sessions brought back.",
            registry=r,
        )  # fmt: skip
        self.stream_disconnects = Counter(
            "pocketchat_serve_stream_disconnects", "Event streams a client left before the end.",
            registry=r,
        )  # fmt: skip
        self.stream_rejoins = Counter(
            "pocketchat_serve_stream_rejoins", "Event streams opened with Last-Event-ID.",
            registry=r,
        )  # fmt: skip
        self.cache_hits = Counter(
            "pocketchat_serve_cache_hits", "Replies served from the reply cache.", registry=r
        )
        self.rejected = Counter(
            "pocketchat_serve_rejected", "Requests refused: 429 (rate limit), 503 (queue full).",
            ["status"], registry=r,
        )  # fmt: skip
        self.in_flight = Gauge(
            "pocketchat_serve_in_flight", "Requests being answered, per Ollama host.",
            ["host"], registry=r,
        )  # fmt: skip
        self.runs = Counter(
            "pocketchat_serve_runs", "Runs ended, by status.", ["status"], registry=r
        )


async def metrics(request: Request) -> Response:
    """The exposition (open, no key: nothing in it names a person)."""
    serve_metrics: ServeMetrics = request.app.state.metrics
    return Response(generate_latest(serve_metrics.registry), media_type=CONTENT_TYPE_LATEST)


routes: list[BaseRoute] = [Route("/metrics", metrics, methods=["GET"])]
