"""Several Ollama hosts: `ollama.hosts: [{url, slots, models?}]`.

`HostPool` spreads requests over the hosts (the model loaded first, then the fewest in flight
for the slots, ties at random) on top of one queue `Gate` per host, so a host never has more in
flight than its slots; `HostHealth` (`<data_dir>/hosts.db`) cools a failing host down for every
process on the machine, and the pool probes it back in. `Router` / `RoutedTicket` are what
`CallOllama` sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from utils.lazy import lazy_exports

if TYPE_CHECKING:
    from utils.hosts.contract import NoHostForModel, RoutedTicket, Router
    from utils.hosts.figures import HostCollector, host_line, host_rows
    from utils.hosts.health import HostHealth, HostState, open_health
    from utils.hosts.pick import Candidate, choose
    from utils.hosts.pool import HostPool, HostStatus
    from utils.hosts.probing import probe
    from utils.hosts.spec import HostSpec, parse_hosts
    from utils.hosts.ticket import HostTicket

__all__ = [
    "Candidate",
    "HostCollector",
    "HostHealth",
    "HostPool",
    "HostSpec",
    "HostState",
    "HostStatus",
    "HostTicket",
    "NoHostForModel",
    "RoutedTicket",
    "Router",
    "choose",
    "host_line",
    "host_rows",
    "open_health",
    "parse_hosts",
    "probe",
]  # fmt: skip

__getattr__ = lazy_exports(
    __name__,
    {
        "NoHostForModel": "contract",
        "RoutedTicket": "contract",
        "Router": "contract",
        "HostCollector": "figures",
        "host_line": "figures",
        "host_rows": "figures",
        "HostHealth": "health",
        "HostState": "health",
        "open_health": "health",
        "Candidate": "pick",
        "choose": "pick",
        "HostPool": "pool",
        "HostStatus": "pool",
        "probe": "probing",
        "HostSpec": "spec",
        "parse_hosts": "spec",
        "HostTicket": "ticket",
    },
)
