"""Extraction never delays a person's turn: it takes the queue's slot only when nobody waits,
and gives it back (closing its request) as soon as a turn joins the line; the job is kept
pending and finishes later."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.memory_kit import facts_rule, is_extraction
from tests.standin import StandIn
from tests.turn_kit import make_app, runner
from utils.memory import jobs_sql

ON = {"memory.enabled": True}
MANY = [f"I like the number {i} a lot" for i in range(60)]  # a long, slow JSON reply


def test_a_waiting_turn_takes_the_slot_from_a_running_extraction(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.reply = facts_rule(facts=lambda text: list(MANY))
    data = tmp_path / "d"
    r = runner(standin, data, **ON)
    job = r.turn(user_message="I like numbers.", origin="chat")["memory_job"]
    standin.tokens_per_second = 40  # the extraction streams ~400 tokens: ~10 s if let run
    outcomes = []

    def extract() -> None:  # another thread, with its own App (store connection, gate)
        worker = make_app(standin, data, **ON)
        try:
            outcomes.append(worker.extractor().run_one(job))
        finally:
            worker.close()

    thread = threading.Thread(target=extract)
    thread.start()
    deadline = time.monotonic() + 10
    while not any(is_extraction(q.body.get("messages") or []) and q.eval_count > 2
                  for q in standin.requests.to("/api/chat")):  # fmt: skip
        assert time.monotonic() < deadline, "the extraction never started streaming"
        time.sleep(0.01)
    gate = r.app.gate()
    assert gate is not None
    joined = time.monotonic()
    ticket = gate.acquire(lambda position, eta: None)  # a person's turn joins the line
    waited = time.monotonic() - joined
    ticket.release()
    thread.join(10)
    assert outcomes and outcomes[0].status == "yielded"
    assert waited < 0.5, f"the turn waited {waited:.2f} s behind an extraction"
    extraction = [q for q in standin.requests.to("/api/chat")
                  if is_extraction(q.body.get("messages") or [])][-1]  # fmt: skip
    assert extraction.done_event.wait(5) and extraction.outcome == "cancelled"  # Ollama stopped
    store = r.app.store()
    assert jobs_sql.status_of(store, job) == "pending"
    row = store.db.execute("SELECT attempts, yields FROM memory_jobs WHERE id = ?", [job])
    assert row.fetchone() == (0, 1)  # giving way costs no attempt
    standin.tokens_per_second = None
    assert r.app.extractor().run_one().status == "done"  # later, when the line is free
    assert jobs_sql.counts(store)["facts"] == 10  # memory.max_facts of one turn
    r.app.close()


def test_an_extraction_does_not_start_while_someone_is_in_line(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.reply = facts_rule()
    data = tmp_path / "d"
    r = runner(standin, data, **ON)
    job = r.turn(user_message="My name is Alice.", origin="chat")["memory_job"]
    gate = r.app.gate()
    assert gate is not None
    ticket = gate.acquire(lambda position, eta: None)  # a turn holds the slot
    before = len(standin.requests.to("/api/chat"))
    worker = make_app(standin, data, **ON)
    assert worker.extractor().run_one(job).status == "yielded"
    assert len(standin.requests.to("/api/chat")) == before  # nothing was sent
    ticket.release()
    assert worker.extractor().run_one(job).status == "done"
    worker.close()
    r.app.close()
