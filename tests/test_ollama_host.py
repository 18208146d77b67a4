"""Host parsing, the Docker fallback, and credentials kept out of error lines and logs."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from config.settings import OllamaSettings
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.ollama import (
    DOCKER_HOST,
    LOCAL,
    OllamaService,
    OllamaUnavailable,
    display_host,
    in_docker,
    normalise_host,
    pick_reachable,
    resolve_host,
)


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        (":56789", "http://127.0.0.1:56789"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("example.com:56789", "http://example.com:56789"),
        ("http://example.com", "http://example.com:80"),
        ("https://example.com", "https://example.com:443"),
        ("https://example.com:8443/ollama/", "https://example.com:8443/ollama"),
        ("[::1]", "http://[::1]:11434"),
        ("", LOCAL),
    ],
)
def test_normalise_follows_the_client(raw: str, url: str) -> None:
    assert normalise_host(raw) == url


def test_resolve_order_and_docker_fallback() -> None:
    assert resolve_host("remote:1234", {"OLLAMA_HOST": "x"}) == ["http://remote:1234"]
    assert resolve_host(None, {"OLLAMA_HOST": ":9"}) == ["http://127.0.0.1:9"]
    assert resolve_host(None, {}, in_container=False) == [LOCAL]
    assert resolve_host(None, {}, in_container=True) == [LOCAL, DOCKER_HOST]


def test_in_docker_detection(tmp_path: Path) -> None:
    assert not in_docker(tmp_path)
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cgroup").write_text("0::/system.slice/docker-abc.scope\n")
    assert in_docker(tmp_path)
    (tmp_path / ".dockerenv").touch()
    assert in_docker(tmp_path)


def test_pick_reachable_skips_dead_hosts(standin: StandIn) -> None:
    dead = "http://127.0.0.1:9"
    assert pick_reachable([dead, standin.url], timeout=0.3) == standin.url
    standin.go_down()
    assert pick_reachable([dead, standin.url], timeout=0.3) == dead


def test_credentials_never_shown_or_logged(standin: StandIn) -> None:
    secret_url = standin.url.replace("http://", "http://alice:s3cret@")
    settings = OllamaSettings(
        connect_timeout=0.3, first_byte_timeout=0.5, headers={"Authorization": "Bearer TOKEN9"}
    )
    svc = OllamaService(secret_url, settings, SystemClock())
    assert svc.host == standin.url and display_host(secret_url) == standin.url
    assert svc.version()  # basic auth and headers do not break the request
    body = standin.requests.to("/api/version")[0]
    assert body.path == "/api/version"
    standin.go_down()
    with structlog.testing.capture_logs() as logs, pytest.raises(OllamaUnavailable) as info:
        list(svc.chat_stream("llama3.2:1b", [{"role": "user", "content": "hi"}]))
    line = info.value.user_line(secret_url)
    assert standin.url in line and "Cannot reach Ollama" in line
    everything = line + repr(logs) + str(info.value)
    assert "s3cret" not in everything and "alice" not in everything
    assert "TOKEN9" not in everything
