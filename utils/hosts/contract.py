"""What a caller of several Ollama hosts sees: a `Router` hands out `RoutedTicket`s, each a
queue `Ticket` for one host together with the client for that host.

`CallOllama` routes when its gate is a `Router` (`isinstance`): the reply then goes to the
ticket's `llm`, and the ticket hears how the host did (`succeeded`, `failed`), which is what
cools a failing host down and sends the retry elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from utils.ollama import OllamaError

if TYPE_CHECKING:
    from utils.ollama import OllamaService
    from utils.queue import WaitCallback


class NoHostForModel(OllamaError):
    """No configured host lists the model (`ollama.hosts[].models`); not worth retrying."""

    def __init__(self, model: str, hosts: list[str]) -> None:
        super().__init__(f"no host in ollama.hosts serves {model}", model=model)
        self.hosts = hosts

    def what(self) -> str:
        return f"No Ollama host serves {self.model}"

    def brief(self) -> str:
        return "no host serves the model"

    def todo(self) -> str:
        return "add it to an ollama.hosts entry's models (or drop that host's models list)."

    def user_line(self, host: str) -> str:
        listed = ", ".join(self.hosts)
        return f"{self.what()} (hosts: {listed}); {self.todo()}"


@runtime_checkable
class RoutedTicket(Protocol):
    host: str  # the host's URL without credentials

    @property
    def llm(self) -> OllamaService: ...

    def release(self) -> None: ...

    def held(self) -> bool: ...

    def succeeded(self, model: str) -> None:
        """The host started a reply (its first piece came)."""
        ...

    def failed(self, error: BaseException) -> None:
        """The host failed the request before its first piece (a transient error)."""
        ...


@runtime_checkable
class Router(Protocol):
    def route(self, model: str, on_wait: WaitCallback) -> RoutedTicket:
        """Block until a host that serves `model` has a free slot for this caller; raises
        `NoHostForModel` when none is configured for it, KeyboardInterrupt through."""
        ...
