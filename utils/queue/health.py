"""What `queue status` shows of each ticket and what `doctor` calls a stuck or inconsistent
queue: a future-dated heartbeat, a holder whose process has ended or is suspended, a ticket
nobody can check whose heartbeat expired, more holders than slots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from utils.queue.tickets import TicketRow, Verdict


@dataclass(frozen=True)
class TicketView:
    row: TicketRow
    verdict: Verdict
    suspended: bool

    @property
    def status(self) -> str:
        if self.suspended:
            return "suspended"
        return {
            Verdict.ALIVE: "running",
            Verdict.FRESH: "unchecked",
            Verdict.GONE: "process gone",
            Verdict.EXPIRED: "heartbeat expired",
            Verdict.FUTURE: "heartbeat in the future",
        }[self.verdict]


def views(rows: list[TicketRow], now: float, ttl: float) -> list[TicketView]:
    out = []
    for row in rows:
        verdict = row.judge(now, ttl)
        out.append(TicketView(row, verdict, verdict is Verdict.ALIVE and row.suspended()))
    return out


def ago(value: float) -> str:
    """An age: `3.2 s ago`, or `60 min in the future` for a time ahead of this clock."""
    return f"{seconds(-value)} in the future" if value < -1 else f"{seconds(value)} ago"


def seconds(value: float) -> str:
    """`3.2 s`, `4 min`, `2.0 h`."""
    value = max(0.0, value)
    if value < 60:
        return f"{value:.1f} s"
    if value < 3600:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def problems(tickets: list[TicketView], now: float, ttl: float, slots: int) -> list[str]:
    """One phrase per problem, in line order; empty when the queue is healthy."""
    found: list[str] = []
    for view in tickets:
        row = view.row
        who = f"ticket {row.id} ({row.state}, pid {row.pid if row.pid is not None else '?'})"
        if row.heartbeat_at > now + 1.0:
            found.append(f"{who}: heartbeat {ago(now - row.heartbeat_at)}")
        elif view.verdict is Verdict.GONE and row.state == "holding":
            found.append(f"{who}: held by a process that has ended")
        elif view.verdict is Verdict.EXPIRED:
            found.append(f"{who}: heartbeat expired {seconds(now - row.heartbeat_at)} ago")
        elif view.suspended and row.state == "holding":
            found.append(f"{who}: its process is suspended (resume it: fg or kill -CONT)")
    holding = Counter(v.row.host for v in tickets if v.row.state == "holding" and v.verdict.stands)
    for host, count in holding.items():
        if count > slots:
            found.append(f"{count} holders for {slots} slot(s) at {host}")
    return found
