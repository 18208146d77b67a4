"""Make sure a model is installed before a chat: pull it when allowed, else say how."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from utils.ollama.client import OllamaService
from utils.ollama.errors import ModelNotFound
from utils.ollama.results import PullProgress, normalise_model
from utils.sink import Sink

log = structlog.get_logger()


def ensure_model(
    service: OllamaService,
    model: str,
    *,
    auto_pull: bool,
    on_progress: Callable[[PullProgress], None],
) -> None:
    """Return when `model` is installed; pull it if `auto_pull`, else raise `ModelNotFound`
    whose user line lists the installed models and the exact `ollama pull` command."""
    installed = [m.name for m in service.list_models()]
    wanted = normalise_model(model)
    if any(normalise_model(name) == wanted for name in installed):
        return
    if not auto_pull:
        raise ModelNotFound("not installed", model=model, installed=installed)
    log.info("model_pull_started", host=service.host, model=model)
    for progress in service.pull(model):
        on_progress(progress)


def pull_if_missing(service: OllamaService, model: str, *, auto_pull: bool, sink: Sink) -> bool:
    """True when `model` had to be pulled (progress on `sink`), False when it was there;
    raises `ModelNotFound` (listing what is installed) when missing and `auto_pull` is off."""
    if service.has_model(model):
        return False
    if auto_pull:
        sink.notice(f"Model {model} is not pulled yet; pulling it now.")
    ensure_model(
        service,
        model,
        auto_pull=auto_pull,
        on_progress=lambda p: sink.progress(p.status, p.completed or 0, p.total),
    )
    sink.status("")
    return True
