"""Telemetry: logging (structlog) and metrics as events, and the figures `stats` shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.telemetry import metrics
    from utils.telemetry.logs import configure_logging
    from utils.telemetry.metrics import (
        FIRST_TOKEN,
        KINDS,
        LOAD_THRESHOLD_SECONDS,
        MODEL_LOAD,
        OLLAMA_RETRIES,
        QUEUE_WAIT,
        RATE_LIMITED,
        TOKENS_PER_SECOND,
        Event,
        record_event,
        record_events,
        turn_events,
    )
    from utils.telemetry.metrics_queries import collect

__all__ = [
    "FIRST_TOKEN",
    "KINDS",
    "LOAD_THRESHOLD_SECONDS",
    "MODEL_LOAD",
    "OLLAMA_RETRIES",
    "QUEUE_WAIT",
    "RATE_LIMITED",
    "TOKENS_PER_SECOND",
    "Event",
    "collect",
    "configure_logging",
    "metrics",
    "record_event",
    "record_events",
    "turn_events",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "configure_logging": "logs",
        "FIRST_TOKEN": "metrics",
        "KINDS": "metrics",
        "LOAD_THRESHOLD_SECONDS": "metrics",
        "MODEL_LOAD": "metrics",
        "OLLAMA_RETRIES": "metrics",
        "QUEUE_WAIT": "metrics",
        "RATE_LIMITED": "metrics",
        "TOKENS_PER_SECOND": "metrics",
        "Event": "metrics",
        "record_event": "metrics",
        "record_events": "metrics",
        "turn_events": "metrics",
        "collect": "metrics_queries",
    },
)
