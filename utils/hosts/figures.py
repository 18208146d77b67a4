"""Per-host figures for `stats` (text, `--json`, `--prometheus`), `doctor` and serve's
`/metrics`: state, slots, in flight, waiting, requests served and errors (`HostPool.status`).

`HostCollector` is a prometheus_client collector that asks for the figures at each scrape, so
the gauges are never stale and nothing counts on its own: in flight comes from the queues'
live tickets, served and errors from `hosts.db`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from utils.hosts.pool import HostStatus

STATES = ("up", "cooling", "down")


def host_rows(statuses: list[HostStatus]) -> list[dict[str, Any]]:
    """JSON-ready rows (`stats --json` `hosts`)."""
    return [asdict(s) | {"cooling_for": round(s.cooling_for, 1)} for s in statuses]


def host_line(s: HostStatus) -> str:
    """`http://gpu1:11434: up, 1/2 in flight, 0 waiting, 41 served, 2 errors`."""
    state = f"cooling for {s.cooling_for:.0f} s" if s.state == "cooling" else s.state
    if s.state != "up" and s.last_error:
        state += f" ({s.last_error})"
    return (
        f"{s.url}: {state}, {s.in_flight}/{s.slots} in flight, {s.waiting} waiting, "
        f"{s.served} served, {s.errors} errors"
    )


class HostCollector:
    def __init__(self, status: Callable[[], list[HostStatus]]) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        statuses = self.status()
        state = GaugeMetricFamily(
            "pocketchat_host_state", "1 for the Ollama host's state (up, cooling, down).",
            labels=["host", "state"],
        )  # fmt: skip
        gauges = {
            "slots": GaugeMetricFamily(
                "pocketchat_host_slots", "Requests the host serves at once.", labels=["host"]
            ),
            "in_flight": GaugeMetricFamily(
                "pocketchat_host_in_flight",
                "Requests being answered by the host.",
                labels=["host"],
            ),
            "waiting": GaugeMetricFamily(
                "pocketchat_host_waiting", "Requests in the host's own line.", labels=["host"]
            ),
        }
        counters = {
            "served": CounterMetricFamily(
                "pocketchat_host_served", "Replies the host started.", labels=["host"]
            ),
            "errors": CounterMetricFamily(
                "pocketchat_host_errors", "Requests or probes the host failed.", labels=["host"]
            ),
        }
        for s in statuses:
            for name in STATES:
                state.add_metric([s.url, name], 1.0 if s.state == name else 0.0)
            for key, family in gauges.items():
                family.add_metric([s.url], float(getattr(s, key)))
            for key, counter in counters.items():
                counter.add_metric([s.url], float(getattr(s, key)))
        yield state
        yield from gauges.values()
        yield from counters.values()
