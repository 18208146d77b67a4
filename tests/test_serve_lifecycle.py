"""A run's life at its edges, against a real `pocketchat serve` and the stand-in: `loading
{model}` when the reply waits for the model to load; a finished run's event log expires after
`serve.events_keep_seconds` and the run then replays from what is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.serve_client import ask, events, new_session
from tests.serve_proc import Server, serving
from tests.standin import StandIn, replies
from tests.standin.models import default_models

MODEL = "llama3.2:1b"
CONFIG = "retry:\n  backoff: 0.01\n  jitter: 0.0\nollama:\n  auto_pull: 'false'\n"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn(default_models())
    server.load_delay = 0.3
    server.reply = replies.fixed("Tides follow the moon.")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("life") / "d", standin.url, config=CONFIG) as server:
        yield server


def _kinds(url: str, session: str, text: str) -> list[str]:
    run_id = ask(url, session, text).json()["run_id"]
    return [event.kind for event in events(url, run_id)]


def test_loading_comes_before_started_when_the_model_must_be_loaded(
    served: Server, standin: StandIn
) -> None:
    standin.loaded.unload(MODEL)
    session = new_session(served.url)
    run_id = ask(served.url, session, "tides?").json()["run_id"]
    seen = events(served.url, run_id)
    kinds = [event.kind for event in seen]
    assert "loading" in kinds and "started" in kinds, kinds
    assert kinds.index("loading") < kinds.index("started") < kinds.index("delta"), kinds
    assert next(e for e in seen if e.kind == "loading").data == {"model": MODEL}
    assert seen[-1].kind == "done" and seen[-1].data["status"] == "complete"
    # loaded now: the next reply goes straight to `started`
    again = _kinds(served.url, session, "and waves?")
    assert "loading" not in again and "started" in again, again
    # unloaded behind the server's back, after a pause: `loading` again
    standin.loaded.unload(MODEL)
    time.sleep(2.2)  # LoadWatch's FRESH: past it, /api/ps is asked again
    assert "loading" in _kinds(served.url, session, "and currents?")
