"""`LoadWatch` against the stand-in: `/api/ps` says whether a reply waits for a model load, and
is not asked again while the same model answers back to back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.settings import load_settings
from tests.clocks import FixedClock
from tests.standin import StandIn
from tests.standin.models import default_models
from utils.ollama import LoadWatch, OllamaService

MODEL = "llama3.2:1b"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(default_models())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _service(standin: StandIn, clock: FixedClock) -> OllamaService:
    settings = load_settings(env={}, overrides={"host": standin.url})
    return OllamaService(standin.url, settings.ollama, clock)


def _asked(standin: StandIn) -> int:
    return len(standin.requests.to("/api/ps"))


def test_a_model_not_in_memory_needs_a_load_and_a_loaded_one_does_not(standin: StandIn) -> None:
    clock = FixedClock()
    llm = _service(standin, clock)
    watch = LoadWatch(clock)
    assert watch.needs_load(llm, MODEL, 2048, "5m")
    llm.load(MODEL, "5m", num_ctx=2048)
    clock.advance(10)  # long after: asked again, and it is loaded
    assert not watch.needs_load(llm, MODEL, 2048, "5m")
    assert watch.needs_load(llm, MODEL, 4096, "5m")  # another num_ctx reloads it
    llm.close()


def test_back_to_back_replies_ask_once_and_a_pause_or_another_model_asks_again(
    standin: StandIn,
) -> None:
    clock = FixedClock()
    llm = _service(standin, clock)
    llm.load(MODEL, "5m", num_ctx=2048)
    watch = LoadWatch(clock, fresh=2.0)
    assert not watch.needs_load(llm, MODEL, 2048, "5m")
    asked = _asked(standin)
    clock.advance(0.5)
    assert not watch.needs_load(llm, MODEL, 2048, "5m")
    assert _asked(standin) == asked  # the same model just answered: not asked
    standin.loaded.unload(MODEL)
    clock.advance(2.5)  # a pause: asked, and found gone
    assert watch.needs_load(llm, MODEL, 2048, "5m")
    assert _asked(standin) == asked + 1
    llm.load(MODEL, "5m", num_ctx=2048)
    watch.needs_load(llm, "qwen2.5:0.5b", None, "5m")
    asked = _asked(standin)
    assert not watch.needs_load(llm, MODEL, 2048, "5m")  # another model came between: asked
    assert _asked(standin) == asked + 1
    llm.close()


def test_a_model_told_to_unload_at_once_is_asked_about_every_time(standin: StandIn) -> None:
    clock = FixedClock()
    llm = _service(standin, clock)
    watch = LoadWatch(clock)
    watch.needs_load(llm, MODEL, None, 0)
    asked = _asked(standin)
    watch.needs_load(llm, MODEL, None, "0")
    assert _asked(standin) == asked + 1
    llm.close()
