"""A run's life at its edges, against a real `pocketchat serve` and the stand-in: `loading
{model}` when the reply waits for the model to load; a finished run's event log expires after
`serve.events_keep_seconds` and the run then replays from what is stored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.clocks import FixedClock
from tests.serve_client import ask, events, new_session, rows
from tests.serve_proc import Server, serving
from tests.standin import StandIn, replies
from tests.standin.models import default_models
from utils.store import SqliteStore, iso

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


def test_a_swept_log_keeps_only_its_end_and_only_for_runs_ended_long_enough_ago(
    tmp_path: Path,
) -> None:
    clock = FixedClock()
    store = SqliteStore.open(tmp_path / "pocketchat.db", clock)
    session = store.create_session(MODEL, origin="api")
    runs = []
    for n in range(3):
        message = store.append_message(session.id, "user", f"q{n}", request_id=f"r{n}")
        store.create_run(f"r{n}", session.id, message.id, None)
        store.append_run_events(f"r{n}", [("queued", {"position": 1}), ("started", {}),
                                          ("delta", {"text": "a"})])  # fmt: skip
        runs.append(f"r{n}")
    store.append_run_events("r0", [("error", {"kind": "x", "line": "y"}), ("done", {})])
    store.set_run_status("r0", "failed")
    clock.advance(100)
    store.append_run_events("r1", [("done", {})])
    store.set_run_status("r1", "done")  # r2 still running
    clock.advance(50)
    removed = store.expire_run_events(iso(clock.now() - 120))  # only r0 ended before
    assert removed == 3
    assert [e.kind for e in store.run_events("r0")] == ["error", "done"]
    assert [e.id for e in store.run_events("r0")] == [4, 5]
    assert len(store.run_events("r1")) == 4 and len(store.run_events("r2")) == 3
    clock.advance(100)
    assert store.expire_run_events(iso(clock.now() - 120)) == 3  # r1 now; r2 never
    assert len(store.run_events("r2")) == 3
    assert len(list(store.messages(session.id))) == 3  # the conversation stays whole
    store.close()


@pytest.fixture
def swept(standin: StandIn, tmp_path: Path) -> Iterator[Server]:
    config = CONFIG + "serve:\n  events_keep_seconds: 0.3\n  sweep_seconds: 0.1\n"
    with serving(tmp_path / "d", standin.url, config=config) as server:
        yield server


def test_a_run_whose_log_expired_replays_from_what_is_stored(
    swept: Server, standin: StandIn
) -> None:
    session = new_session(swept.url)
    run_id = ask(swept.url, session, "tides?").json()["run_id"]
    live = events(swept.url, run_id)
    text = "".join(e.data["text"] for e in live if e.kind == "delta")
    assert text == "Tides follow the moon." and live[-1].kind == "done"
    db = swept.data / "pocketchat.db"
    deadline = time.monotonic() + 10
    while len(rows(db, "SELECT id FROM run_events WHERE run_id = ?", run_id)) > 1:
        assert time.monotonic() < deadline, "the finished run's log was never swept"
        time.sleep(0.05)
    assert rows(db, "SELECT id, kind FROM run_events WHERE run_id = ?", run_id) == [
        (live[-1].id, "done")
    ]
    last = live[-1].id
    replayed = events(swept.url, run_id)
    assert [(e.id, e.kind) for e in replayed] == [
        (last + 1, "started"), (last + 2, "delta"), (last + 3, "done")
    ]  # fmt: skip
    assert replayed[0].data == {"replayed": True}
    assert replayed[1].data == {"text": text}
    assert replayed[2].data == live[-1].data  # the same figures
    assert [e.kind for e in events(swept.url, run_id, after=live[1].id)] == [
        "started", "delta", "done"
    ]  # an id from before the sweep: the whole replay
    assert [e.id for e in events(swept.url, run_id, after=last + 1)] == [last + 2, last + 3]
    assert events(swept.url, run_id, after=last + 3) == []  # past the end: the stream ends
    shown = httpx.get(f"{swept.url}/v1/sessions/{session}", timeout=10).json()
    assert [m["content"] for m in shown["messages"]] == ["tides?", text]  # never deleted
