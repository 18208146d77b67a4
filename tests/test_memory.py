"""Long-term memory (issue 20): a fact said in one session is in a new session's prompt;
broken JSON is retried once, then a counted failure; dedup; forget and clear; recall's budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import pg_server
from tests.clocks import FixedClock
from tests.contract_impls import STORES, open_store
from tests.memory_kit import facts_rule, is_extraction
from tests.real_runs import pocketchat
from tests.standin import StandIn
from tests.turn_kit import runner
from utils.memory import jobs_sql, memories_sql
from utils.store import Store

ON = {"memory.enabled": True}
ALICE = "My name is Alice and I live in Lisbon."


def _config(tmp_path: Path, store_url: str | None = None) -> Path:
    path = tmp_path / "config.yaml"
    store = f"store:\n  url: '{store_url}'\n" if store_url else ""
    path.write_text("memory:\n  enabled: true\nretry:\n  backoff: 0.01\n  jitter: 0.0\n"
                    "ollama:\n  auto_pull: 'false'\n" + store)  # fmt: skip
    return path


def _store(impl: str, where: Path, clock: FixedClock | None = None) -> Store:
    """A fresh store of that implementation (tests/contract_impls.py)."""
    where.mkdir(parents=True, exist_ok=True)
    return open_store(impl, where, clock or FixedClock())


def _chat_bodies(standin: StandIn) -> list[dict[str, Any]]:
    return [r.body for r in standin.requests.to("/api/chat") if r.body.get("messages")]


@pytest.mark.parametrize("impl", STORES)
def test_a_fact_from_one_ask_is_in_the_next_sessions_prompt(
    tmp_path: Path, standin: StandIn, impl: str
) -> None:
    """The issue's test, with the history (and the memories) in SQLite and in Postgres."""
    standin.reply = facts_rule()
    url = pg_server.fresh_database() if impl == "postgres" else None
    data, config = tmp_path / "data", _config(tmp_path, url)
    first = pocketchat(data, "ask", ALICE, host=standin.url, config=config)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Hello!")  # the reply, printed before any extraction
    bodies = _chat_bodies(standin)
    assert [is_extraction(b["messages"]) for b in bodies] == [False, True]
    extraction = bodies[1]
    assert extraction["format"]["properties"]["facts"]["type"] == "array"  # the schema, sent
    listed = pocketchat(data, "memory", "list", "--json", host=standin.url, config=config)
    [memory] = json.loads(listed.stdout)
    assert memory["text"] == "My name is Alice and I live in Lisbon"  # verbatim
    assert memory["dims"] == standin.embedding_dimensions  # read from the model's output

    second = pocketchat(data, "ask", "--json", "What's my name?", host=standin.url,
                        config=config)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["memories"] == [memory["id"]]
    turn = [b for b in _chat_bodies(standin) if not is_extraction(b["messages"])][-1]
    assert [m["role"] for m in turn["messages"]] == ["system", "user"]  # a new session
    assert f"[m{memory['id']}] My name is Alice and I live in Lisbon" in turn["messages"][0][
        "content"
    ]
    assert turn["messages"][1]["content"] == "What's my name?"
    shown = json.loads(pocketchat(data, "memory", "show", str(memory["id"]), "--json",
                                  host=standin.url, config=config).stdout)  # fmt: skip
    assert shown["use_count"] == 1 and shown["last_used_at"] is not None
    assert shown["source_text"] == ALICE
    assert (data / "pocketchat.db").exists() == (url is None)


def test_memory_is_off_by_default(tmp_path: Path, standin: StandIn) -> None:
    standin.reply = facts_rule()
    data = tmp_path / "data"
    done = pocketchat(data, "ask", ALICE, host=standin.url)
    assert done.returncode == 0, done.stderr
    assert not any(is_extraction(b["messages"]) for b in _chat_bodies(standin))
    assert "no memories" in pocketchat(data, "memory", "list", host=standin.url).stdout


def test_broken_json_is_retried_once_then_a_failure_counted_in_stats(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.reply = facts_rule(broken=["{'facts': [My name", "not json at all"])
    data, config = tmp_path / "data", _config(tmp_path)
    done = pocketchat(data, "ask", ALICE, host=standin.url, config=config)
    assert done.returncode == 0, done.stderr  # the reply stands
    extractions = [b for b in _chat_bodies(standin) if is_extraction(b["messages"])]
    assert len(extractions) == 2  # one retry, no more
    assert "not valid JSON" in extractions[1]["messages"][-1]["content"]
    stats = json.loads(pocketchat(data, "stats", "--json", host=standin.url).stdout)["memory"]
    assert stats["failed"] == 1 and stats["done"] == 0 and stats["json_retries"] == 1
    assert stats["memories"] == 0
    line = pocketchat(data, "stats", host=standin.url).stdout
    assert "1 failed" in line and "1 broken-JSON retries" in line
    prom = pocketchat(data, "stats", "--prometheus", host=standin.url).stdout
    assert 'pocketchat_memory_jobs{status="failed"} 1.0' in prom
    log = (data / "pocketchat.log").read_text()
    assert "memory_extraction_failed" in log
    doctor = pocketchat(data, "doctor", host=standin.url, config=config)
    assert doctor.returncode == 0, doctor.stdout  # a warning, not a failure
    assert "warn  memory    on: 0 memories, 0 pending; 1 extraction jobs failed" in doctor.stdout


def test_doctor_says_when_the_embedding_model_is_missing(tmp_path: Path) -> None:
    from tests.standin import ModelSpec

    with StandIn({"llama3.2:1b": ModelSpec(context_length=131072)}) as bare:
        doctor = pocketchat(tmp_path / "data", "doctor", host=bare.url, config=_config(tmp_path))
    line = next(x for x in doctor.stdout.splitlines() if x.split()[1:2] == ["memory"])
    assert line.startswith("warn") and "nomic-embed-text is not pulled" in line


def test_broken_json_once_then_good_is_kept(tmp_path: Path, standin: StandIn) -> None:
    standin.reply = facts_rule(broken=["{\"facts\": [\"My name is Al"])  # cut mid-string
    r = runner(standin, tmp_path / "d", **ON)
    shared = r.turn(user_message=ALICE, origin="chat")
    outcome = r.app.extractor().run_one(shared["memory_job"])
    assert (outcome.status, outcome.facts) == ("done", 1)
    counts = jobs_sql.counts(r.app.store())
    assert (counts["done"], counts["json_retries"], counts["failed"]) == (1, 1, 0)
    r.app.close()


def test_the_same_fact_again_updates_its_memory_and_a_similar_one_replaces_it(
    tmp_path: Path, standin: StandIn
) -> None:
    said: list[list[str]] = [["My name is Alice."], ["my name is   ALICE"],
                             ["My name is Alice, really."]]  # fmt: skip
    standin.reply = facts_rule(facts=lambda text: said.pop(0))
    r = runner(standin, tmp_path / "d", **{**ON, "memory.dedup_similarity": 0.8})
    store = r.app.store()
    for text in ("one", "two", "three"):
        shared = r.turn(user_message=text, origin="chat")
        assert r.app.extractor().run_one(shared["memory_job"]).status == "done"
    [memory] = memories_sql.list_memories(store, "local")
    assert memory.text == "My name is Alice, really."  # updated to the newest wording
    jobs = store.db.execute("SELECT facts FROM memory_jobs ORDER BY id").fetchall()
    assert [j[0] for j in jobs] == [1, 1, 1]
    r.app.close()


def test_forget_and_clear_erase_only_the_persons_own(tmp_path: Path, standin: StandIn) -> None:
    standin.reply = facts_rule(facts=lambda text: [text])
    data = tmp_path / "data"
    r = runner(standin, data, **ON)
    for text in ("I like tea.", "I play the cello.", "My cat is Mia."):
        job = r.turn(user_message=text, origin="chat")["memory_job"]
        assert r.app.extractor().run_one(job).status == "done"
    store = r.app.store()
    store.transaction(lambda c: c.execute(
        "INSERT INTO memories (owner, text, norm, created_at, updated_at) "
        "VALUES ('key:k1', 'Someone else', 'someone else', 't', 't')"))  # fmt: skip
    r.app.close()
    found = pocketchat(data, "memory", "search", "CELLO", host=standin.url).stdout
    assert "I play the cello." in found and "tea" not in found
    cello = int(found.split("]")[0].removeprefix("[m"))
    assert pocketchat(data, "memory", "forget", f"m{cello}", host=standin.url).returncode == 0
    again = pocketchat(data, "memory", "forget", str(cello), host=standin.url)
    assert again.returncode == 1 and "no memory" in again.stderr
    refused = pocketchat(data, "memory", "clear", host=standin.url)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    cleared = pocketchat(data, "memory", "clear", "--yes", host=standin.url)
    assert cleared.stdout.strip() == "forgot 2 memories"
    import sqlite3

    with sqlite3.connect(data / "pocketchat.db") as conn:
        left = conn.execute("SELECT owner, text FROM memories").fetchall()
    assert left == [("key:k1", "Someone else")]  # another person's are untouched


def test_recall_fits_the_budget_and_drops_old_turns_first() -> None:
    from nodes.recall_memories import build

    prompt = [{"role": "system", "content": "Be brief."},
              {"role": "user", "content": "old " * 200}, {"role": "assistant", "content": "ok"},
              {"role": "user", "content": "What's my name?"}]  # fmt: skip
    found = [{"id": i, "text": f"Fact number {i} " + "word " * 30} for i in range(1, 6)]
    result = build(prompt, found, budget=160)
    assert result.dropped_messages >= 1
    assert result.prompt[0]["content"] == "Be brief." and result.prompt[-1]["content"] == (
        "What's my name?"
    )
    assert 1 <= len(result.used) < 5 and result.used[0]["id"] == 1  # best first, cut at the end
    from utils.context import tokens

    assert tokens.estimate_messages(result.prompt) <= 160


@pytest.mark.parametrize("impl", STORES)
def test_one_job_per_message_and_a_dead_processs_job_is_pending_again(
    tmp_path: Path, impl: str
) -> None:
    clock = FixedClock()
    store = _store(impl, tmp_path / "s", clock)
    session = store.create_session("m")
    message = store.append_message(session.id, "user", "My name is Alice.")
    first = jobs_sql.enqueue(store, "local", session.id, message.id, "m", clock.now())
    assert first is not None
    assert jobs_sql.enqueue(store, "local", session.id, message.id, "m", clock.now()) is None
    claimed = jobs_sql.claim(store, clock.now())
    assert claimed is not None and claimed.attempts == 1
    assert jobs_sql.claim(store, clock.now()) is None  # running: nobody else takes it
    assert jobs_sql.recover(store, clock.now() - 600, clock.now()) == 0  # too recent
    assert jobs_sql.recover(store, clock.now() + 1, clock.now()) == 1
    assert jobs_sql.status_of(store, first) == "pending"
    store.close()


def test_the_standin_refuses_a_format_that_is_neither_json_nor_a_schema(standin: StandIn) -> None:
    import httpx

    body = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}],
            "stream": False}  # fmt: skip
    bad = httpx.post(f"{standin.url}/api/chat", json={**body, "format": "yaml"}, timeout=5)
    assert bad.status_code == 400 and "invalid format" in bad.json()["error"]
    for good in ("json", {"type": "object"}):
        assert httpx.post(f"{standin.url}/api/chat", json={**body, "format": good},
                          timeout=5).status_code == 200  # fmt: skip


@pytest.mark.parametrize("impl", STORES)
def test_keeping_facts_updates_the_cached_matrix_as_a_reload_would(
    tmp_path: Path, impl: str
) -> None:
    import numpy as np

    from utils.memory import index, remember

    clock = FixedClock()
    store = _store(impl, tmp_path / "s", clock)
    scope, rng = str(store.path), np.random.default_rng(5)

    def vec() -> list[float]:
        return [float(x) for x in rng.standard_normal(16)]

    first = [vec() for _ in range(3)]
    remember.keep_facts(store, scope, "local", ["A.", "B.", "C."], first, "m", (None, None),
                        clock.now(), 0.99)  # fmt: skip
    clock.advance(60)
    twin = [x + 0.001 for x in first[1]]  # B said again, nearly the same: an update
    kept = remember.keep_facts(store, scope, "local", ["B again.", "D.", "D!"],
                               [twin, vec(), vec()], "m", (None, None), clock.now(), 0.99)
    assert len(kept.added) == 1 and len(kept.updated) == 2  # "D!" is "D." normalised
    import structlog

    with structlog.testing.capture_logs() as logs:
        cached = index.matrix(store, scope, "local", "m")
    assert logs == []  # no reload: the entry keep_facts updated
    index.clear_cache()
    fresh = index.matrix(store, scope, "local", "m")
    assert cached.version == fresh.version == 2
    assert cached.ids.tolist() == fresh.ids.tolist() and cached.texts == fresh.texts
    assert cached.texts[1] == "B again." and np.allclose(cached.vectors, fresh.vectors)
    assert np.allclose(cached.stated, fresh.stated)
    store.close()


@pytest.mark.parametrize("impl", STORES)
def test_search_takes_words_literally(tmp_path: Path, impl: str) -> None:
    store = _store(impl, tmp_path / "s")
    store.transaction(lambda c: c.executemany(
        "INSERT INTO memories (owner, text, norm, created_at, updated_at) "
        "VALUES ('local', ?, ?, 't', 't')",
        [("My var is my_var.", "my var is my_var"), ("Myxvar", "myxvar"),
         ("I live in Lisbon.", "i live in lisbon")]))  # fmt: skip
    assert [m.text for m in memories_sql.search_text(store, "local", "MY_VAR")] == [
        "My var is my_var."
    ]
    assert [m.text for m in memories_sql.search_text(store, "local", "lisbon, live")] == [
        "I live in Lisbon."
    ]
    store.close()


def test_an_extraction_ollama_could_not_finish_is_kept_for_the_next_ask(
    tmp_path: Path, standin: StandIn
) -> None:
    from tests.standin import Fault

    standin.reply = facts_rule()
    standin.script_fault("embed", Fault.status(503, "server busy"))  # the facts' embedding
    data, config = tmp_path / "data", _config(tmp_path)
    first = pocketchat(data, "ask", ALICE, host=standin.url, config=config)
    assert first.returncode == 0, first.stderr  # the reply stands
    stats = json.loads(pocketchat(data, "stats", "--json", host=standin.url).stdout)["memory"]
    assert (stats["pending"], stats["done"], stats["memories"]) == (1, 0, 0)  # kept, not lost
    second = pocketchat(data, "ask", "My dog is Rex.", host=standin.url, config=config)
    assert second.returncode == 0, second.stderr
    stats = json.loads(pocketchat(data, "stats", "--json", host=standin.url).stdout)["memory"]
    assert (stats["pending"], stats["done"], stats["memories"]) == (0, 2, 2)


def test_a_job_a_killed_run_left_running_is_taken_up_again(
    tmp_path: Path, standin: StandIn
) -> None:
    import sqlite3

    from tests.standin import Fault

    standin.reply = facts_rule()
    standin.script_fault("embed", Fault.status(503, "server busy"))
    data, config = tmp_path / "data", _config(tmp_path)
    assert pocketchat(data, "ask", ALICE, host=standin.url, config=config).returncode == 0
    with sqlite3.connect(data / "pocketchat.db") as conn:  # as a run killed mid-extraction
        conn.execute("UPDATE memory_jobs SET status = 'running', "
                     "updated_at = '2000-01-01T00:00:00.000000Z'")  # fmt: skip
    again = pocketchat(data, "ask", "My dog is Rex.", host=standin.url, config=config)
    assert again.returncode == 0, again.stderr
    stats = json.loads(pocketchat(data, "stats", "--json", "--since", "all",
                                  host=standin.url).stdout)["memory"]  # fmt: skip
    assert (stats["running"], stats["done"], stats["memories"]) == (0, 2, 2)
