"""Make sure a model is installed before a chat: pull it when allowed, else say how."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from utils.ollama_client import OllamaService
from utils.ollama_errors import ModelNotFound
from utils.ollama_types import PullProgress, normalise_model

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
