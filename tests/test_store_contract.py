"""The `Store` contract: every implementation (`SqliteStore`, `PostgresStore`) passes these
unchanged (tests/contract_impls.py; Postgres on the test process's private server).

SQLite-only facts (file modes, WAL, the query plan, id collisions) are in test_store_safety.py.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clocks import FixedClock
from tests.contract_impls import STORES, open_store
from utils.store import Message, Session, SessionNotFound, Store, StoreError


def _id(session: Session | None) -> str | None:
    return session.id if session else None


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[Store]:
    s = open_store(request.param, tmp_path / "data", clock)
    yield s
    s.close()


def test_session_ids_and_times(store: Store, clock: FixedClock) -> None:
    s = store.create_session("llama", title="T", system="sys", options={"temperature": 0.1})
    assert re.fullmatch(r"[0-9a-f]{12}", s.id)
    assert s.created_at == "2025-01-01T00:00:00.000000Z"
    got = store.get_session(s.id)
    assert got == s
    assert got.options == {"temperature": 0.1} and got.context_mode == "shared"
    clock.advance(1.5)
    store.touch_session(s.id)
    assert store.resolve_session(s.id).last_active_at == "2025-01-01T00:00:01.500000Z"


def test_resolve_by_prefix(store: Store) -> None:
    a, b = store.create_session("m"), store.create_session("m")
    assert store.resolve_session(a.id.upper()) == a
    unique = next(n for n in range(4, 13) if a.id[:n] != b.id[:n])
    assert store.resolve_session(a.id[:unique]).id == a.id
    missing = next(x for x in ("ffffffffffff", "000000000000") if x not in (a.id, b.id))
    for bad in ("abc", "zzzz%", "abcd_", missing):
        with pytest.raises(SessionNotFound, match="see `sessions list`"):
            store.resolve_session(bad)


def test_append_assigns_contiguous_seq_and_window_is_the_tail(store: Store) -> None:
    s = store.create_session("m")
    for i in range(10):
        store.append_message(s.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert [m.seq for m in store.window(s.id, 4)] == [7, 8, 9, 10]
    assert [m.content for m in store.window(s.id, 2)] == ["m8", "m9"]
    assert len(store.window(s.id, 100)) == 10
    assert store.message_count(s.id) == 10
    assert [m.seq for m in store.messages(s.id)] == list(range(1, 11))
    store.update_session(s.id, context_start_seq=9)
    assert [m.seq for m in store.window(s.id, 40)] == [9, 10]


def test_update_message_and_pinned(store: Store, clock: FixedClock) -> None:
    s = store.create_session("m")
    store.append_message(s.id, "system", "rules")
    m = store.append_message(s.id, "assistant", "", model="m", status="partial",
                             request_id="r1", meta={"notice": "x"})  # fmt: skip
    clock.advance(2)
    got = store.update_message(
        m.id, content="done", status="complete", prompt_tokens=5, completion_tokens=7,
        timings={"total_ms": 10.5}, done_reason="stop", meta={"cached": True}, pinned=True,
    )  # fmt: skip
    assert got.content == "done" and got.status == "complete" and got.pinned is True
    assert got.timings == {"total_ms": 10.5} and got.meta == {"cached": True}
    assert got.updated_at > got.created_at
    assert [p.id for p in store.pinned(s.id)] == [m.id]
    with pytest.raises(ValueError):
        store.update_message(m.id, seq=4)
    with pytest.raises(StoreError):
        store.update_message(9999, content="x")


def test_append_to_missing_session_and_bad_values(store: Store) -> None:
    with pytest.raises(SessionNotFound):
        store.append_message("000000000000", "user", "x")
    s = store.create_session("m")
    with pytest.raises(StoreError):
        store.append_message(s.id, "robot", "x")
    assert store.message_count(s.id) == 0


def test_list_latest_archive_restore_delete(store: Store, clock: FixedClock) -> None:
    old = store.create_session("m", title="old")
    clock.advance_days(40)
    new = store.create_session("m", title="new")
    store.append_message(new.id, "user", "hi")
    summaries = store.list_sessions()
    assert [x.id for x in summaries] == [new.id, old.id]
    assert summaries[0].messages == 1
    assert _id(store.latest_session()) == new.id
    assert store.archive_idle(30) == [old.id]
    assert store.resolve_session(old.id).status == "archived"
    assert [x.id for x in store.list_sessions(archived=True)] == [old.id]
    store.restore(old.id)
    assert store.resolve_session(old.id).status == "active"
    clock.advance(1)
    store.append_message(new.id, "assistant", "hello")
    store.archive(new.id)
    assert _id(store.latest_session()) == old.id
    assert _id(store.latest_session(include_archived=True)) == new.id
    store.delete_session(new.id)
    assert store.get_session(new.id) is None
    assert store.message_count(new.id) == 0
    with pytest.raises(SessionNotFound):
        store.delete_session(new.id)



def test_origins_latest_conversation_list_and_count(store: Store, clock: FixedClock) -> None:
    old = store.create_session("m", title="before origins")  # origin unknown: a conversation
    clock.advance(1)
    talk = store.create_session("m", title="chat", origin="chat")
    clock.advance(1)
    runs = []
    for n in range(3):
        clock.advance(1)
        runs.append(store.create_session("m", title=f"flow run b line {n}", origin="flow-run"))
    assert (talk.origin, runs[0].origin, old.origin) == ("chat", "flow-run", None)
    assert store.resolve_session(talk.id).origin == "chat"
    assert _id(store.latest_session()) == runs[-1].id
    assert _id(store.latest_session(conversation=True)) == talk.id
    assert [s.id for s in store.list_sessions()] == [talk.id, old.id]
    assert [s.origin for s in store.list_sessions()] == ["chat", None]
    assert len(store.list_sessions(batch=True)) == 5 == store.count_sessions(batch=True)
    assert store.count_sessions() == 2
    assert [s.id for s in store.list_sessions(origin="flow-run", limit=2)] == [
        runs[2].id, runs[1].id]  # fmt: skip
    assert store.count_sessions(origin="flow-run") == 3
    assert [s.id for s in store.list_sessions(origin="unknown")] == [old.id]
    assert len(store.list_sessions(batch=True, limit=None)) == 5
    store.archive(talk.id)
    assert _id(store.latest_session(conversation=True)) == old.id
    assert store.count_sessions(archived=True) == 1
    with pytest.raises(ValueError):
        store.create_session("m", origin="cron")

def test_live_lease_pins_a_session_and_expired_does_not(store: Store, clock: FixedClock) -> None:
    s = store.create_session("m")
    clock.advance_days(31)
    assert store.acquire_lease(s.id, "chat-1", 60)
    assert not store.acquire_lease(s.id, "chat-2", 60)
    assert store.archive_idle(30) == []
    with pytest.raises(StoreError, match="open in a chat"):
        store.archive(s.id)
    clock.advance(50)
    assert store.renew_lease(s.id, "chat-1", 60)
    assert not store.renew_lease(s.id, "chat-2", 60)
    clock.advance(61)  # the chat crashed: its lease ran out
    assert store.archive_idle(30) == [s.id]
    store.restore(s.id)
    assert store.acquire_lease(s.id, "chat-2", 60)
    store.release_lease(s.id, "chat-2")
    store.update_session(s.id, title="x")
    clock.advance_days(31)
    assert store.archive_idle(30) == [s.id]


def test_archived_sessions_keep_everything_and_are_searchable(store: Store, clock) -> None:
    s = store.create_session("m")
    store.append_message(s.id, "user", "penguins in winter")
    clock.advance_days(60)
    store.archive_idle(30)
    assert store.message_count(s.id) == 1
    hits = store.search("penguins")
    assert hits[0].session_id == s.id and hits[0].session_status == "archived"
    store.append_message(s.id, "user", "back again")  # appending reactivates
    assert store.resolve_session(s.id).status == "active"


@pytest.mark.parametrize(
    "query",
    ['"', 'a"b', "NOT", "AND OR", "(", "x*", "col:x", "-foo", "NEAR(a b)", "''", "^", "   "],
)
def test_search_never_crashes_on_fts_syntax(store: Store, query: str) -> None:
    s = store.create_session("m")
    store.append_message(s.id, "user", 'a"b NOT (x*) col:x -foo NEAR(a b) ^')
    store.search(query)


def test_search_hits_have_session_seq_and_snippet(store: Store) -> None:
    s = store.create_session("m", title="zoo")
    store.append_message(s.id, "user", "nothing here")
    store.append_message(s.id, "assistant", "the zebra has stripes")
    hits = store.search("zebra stripes", limit=5)
    assert len(hits) == 1
    assert (hits[0].session_id, hits[0].seq, hits[0].session_title) == (s.id, 2, "zoo")
    assert "[zebra]" in hits[0].snippet
    store.update_message(hits[0].message_id, content="now a horse")
    assert store.search("zebra") == []
    assert store.search("") == []


def test_export_json_and_markdown(store: Store) -> None:
    s = store.create_session("m", title="Trip", system="be kind")
    store.append_message(s.id, "user", "plan a trip")
    m = store.append_message(s.id, "assistant", "Day 1", model="other", status="interrupted",
                             meta={"sources": ["a.md"]})  # fmt: skip
    store.update_message(m.id, timings={"total_ms": 3.0}, prompt_tokens=3, completion_tokens=2)
    data = store.export_json(s.id[:6])
    assert data["session"]["id"] == s.id and data["session"]["system"] == "be kind"
    msgs = data["messages"]
    assert [x["seq"] for x in msgs] == [1, 2]
    assert msgs[1]["status"] == "interrupted" and msgs[1]["model"] == "other"
    assert msgs[1]["timings"] == {"total_ms": 3.0} and msgs[1]["meta"] == {"sources": ["a.md"]}
    md = store.export_markdown(s.id)
    assert md.startswith("# Trip")
    assert "be kind" in md and "[interrupted]" in md and "(other)" in md and "Day 1" in md
    with pytest.raises(SessionNotFound):
        store.export_json("ffffffffffff")


def test_a_message_read_back_is_the_frozen_message_that_was_appended(store: Store) -> None:
    sid = store.create_session("m").id
    made = store.append_message(sid, "assistant", "hi", model="m", meta={"k": [1]})
    read = store.window(sid, 1)[0]
    assert read == made and type(read) is Message
    assert dataclasses.asdict(read) == dataclasses.asdict(made)
    with pytest.raises(dataclasses.FrozenInstanceError):
        read.content = "changed"  # type: ignore[misc]


def test_experiments_and_run_evaluations(store: Store) -> None:
    from utils.store import Variant

    def run(batch: str, line: int) -> int:
        return store.record_flow_run(
            batch_id=batch, line=line, flow_name="rag", flow_file="/f/rag.yaml",
            input_text='{"user_message": "q"}', output={"reply": "a"}, status="ok", error=None,
            started_at="2026-01-01T00:00:00Z", finished_at="2026-01-01T00:00:01Z",
            duration_ms=1.5,
        )  # fmt: skip

    variants = [Variant("rag top_k=2", "b1", "rag", "/f/rag.yaml", {"top_k": 2}),
                Variant("rag top_k=4", "b2", "rag", "/f/rag.yaml", {"top_k": 4})]  # fmt: skip
    store.record_experiment(experiment_id="e1", input_file="/q.jsonl", variants=variants)
    found = store.experiment("e1")
    assert found is not None and found.input_file == "/q.jsonl"
    assert found.variants == variants and found.created_at
    assert store.experiment("nope") is None
    first, second, other = run("b1", 1), run("b1", 2), run("b2", 1)
    store.record_evaluation(first, {"retrieval": {"hit": False}})
    store.record_evaluation(first, {"retrieval": {"hit": True}, "answer_match": True})
    store.record_evaluation(other, {"answer_match": False})
    assert store.evaluations("b1") == {first: {"retrieval": {"hit": True}, "answer_match": True}}
    assert second not in store.evaluations("b1")
    assert store.evaluations("b2") == {other: {"answer_match": False}}
