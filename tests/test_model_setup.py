from __future__ import annotations

import pytest

from config.settings import OllamaSettings
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.ollama import ModelNotFound, OllamaService, PullFailed, PullProgress, ensure_model


@pytest.fixture
def svc(standin: StandIn) -> OllamaService:
    return OllamaService(standin.url, OllamaSettings(first_byte_timeout=2.0), SystemClock())


def test_installed_model_needs_nothing(standin: StandIn, svc: OllamaService) -> None:
    ensure_model(svc, "llama3.2:1b", auto_pull=False, on_progress=lambda p: None)
    assert standin.requests.to("/api/pull") == []


def test_missing_without_auto_pull_says_how(svc: OllamaService) -> None:
    with pytest.raises(ModelNotFound) as info:
        ensure_model(svc, "phi3", auto_pull=False, on_progress=lambda p: None)
    line = info.value.user_line(svc.host)
    assert "`ollama pull phi3`" in line and "llama3.2:1b" in line and svc.host in line
    assert not info.value.transient


def test_missing_with_auto_pull_pulls_with_progress(svc: OllamaService) -> None:
    seen: list[PullProgress] = []
    ensure_model(svc, "phi3", auto_pull=True, on_progress=seen.append)
    assert seen[-1].status == "success" and any(p.completed for p in seen)
    assert svc.has_model("phi3:latest")


def test_auto_pull_of_unknown_model_fails_clearly(standin: StandIn, svc: OllamaService) -> None:
    standin.registry_unknown.add("ghost")
    with pytest.raises(PullFailed) as info:
        ensure_model(svc, "ghost", auto_pull=True, on_progress=lambda p: None)
    assert "Pulling 'ghost' failed" in info.value.user_line(svc.host)
