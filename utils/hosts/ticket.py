"""`HostTicket`: a slot on one host (its gate's ticket) and the client that talks to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from utils.hosts.spec import HostSpec
    from utils.ollama import OllamaService
    from utils.queue import Ticket


class Reports(Protocol):
    """What a ticket tells its pool (`HostPool`)."""

    def llm_for(self, url: str) -> OllamaService: ...

    def succeeded(self, spec: HostSpec, model: str) -> None: ...

    def failed(self, spec: HostSpec, error: BaseException) -> None: ...


class HostTicket:
    def __init__(
        self, pool: Reports, spec: HostSpec, inner: Ticket, *, ahead: int, waited: float
    ) -> None:
        self.pool = pool
        self.spec = spec
        self.inner = inner
        self.host = spec.shown
        self.ahead = ahead  # live tickets ahead in the pool's line when it joined
        self.waited = waited  # seconds from joining the line to holding a host's slot

    @property
    def llm(self) -> OllamaService:
        return self.pool.llm_for(self.spec.url)

    def release(self) -> None:
        self.inner.release()

    def held(self) -> bool:
        return self.inner.held()

    def succeeded(self, model: str) -> None:
        self.pool.succeeded(self.spec, model)

    def failed(self, error: BaseException) -> None:
        self.pool.failed(self.spec, error)
