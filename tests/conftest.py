"""Shared fixtures: a fresh Ollama stand-in per test, an isolated environment, and one private
Redis for the session (started only when a test asks for it or runs a contract on "redis")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import URL_VAR, RedisServer
from tests.standin import StandIn
from tests.standin.models import default_models


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME and XDG dirs into tmp_path; drop OLLAMA_HOST and POCKETCHAT_* vars."""
    home = tmp_path / "home"
    for sub in ("", ".local/share", ".config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    for name in list(os.environ):
        if name.startswith("POCKETCHAT_"):
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A started stand-in with llama3.2:1b, qwen2.5:0.5b and nomic-embed-text."""
    server = StandIn(default_models())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server for the session (unix socket in a temp dir); worker processes
    find it through $TEST_REDIS_URL. Tests share it: each keeps to its own key namespace."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    os.environ[URL_VAR] = server.url
    try:
        yield server.url
    finally:
        os.environ.pop(URL_VAR, None)
        server.stop()


@pytest.fixture(autouse=True)
def _redis_for_contracts(request: pytest.FixtureRequest) -> None:
    """A contract test run on "redis" (tests/contract_impls.py) gets the session's Redis."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "redis" in callspec.params.values():
        request.getfixturevalue("redis_url")


@pytest.fixture(scope="session", autouse=True)
def _private_postgres() -> Iterator[None]:
    """Stop the test process's private Postgres (tests/pg_server.py) if a test started one."""
    yield
    from tests import pg_server

    pg_server.stop()
