"""Answering from a collection: retrieval order, hybrid search, sources stored and shown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from config.settings import Settings
from nodes.deps import Deps
from nodes.rag_common import Failure
from nodes.retrieve import Retrieve
from tests.rag_support import invoke, open_store, write_docs
from tests.standin import StandIn
from utils.clock import SystemClock
from utils.rag import chunk_text, fuse, vector_index
from utils.sink import RecordingSink
from utils.store import SqliteStore


def _ingest(standin: StandIn, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    result = invoke(standin, data, "rag", "ingest", str(write_docs(tmp_path / "docs")), "-C", "n")
    assert result.exit_code == 0, result.output
    return data


def _ask(standin: StandIn, data: Path, question: str, *extra: str) -> dict[str, object]:
    result = invoke(standin, data, "ask", "--json", "--collection", "n", *extra, question)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("{"))
    out: dict[str, object] = json.loads(line)
    return out


def test_retrieval_order_and_numbered_sources_in_prompt(standin: StandIn, tmp_path: Path) -> None:
    data = _ingest(standin, tmp_path)
    answer = _ask(standin, data, "Why do zebras have black and white stripes?")
    sources = answer["sources"]
    assert isinstance(sources, list) and len(sources) == 4  # rag.top_k
    assert Path(sources[0]["path"]).name == "zebra.txt" and sources[0]["chunk"] == 0
    scores = [s["score"] for s in sources]
    assert scores == sorted(scores, reverse=True)
    assert [s["n"] for s in sources] == [1, 2, 3, 4]
    assert {s["model"] for s in sources} == {"nomic-embed-text"}
    messages = standin.requests.to("/api/chat")[-1].body["messages"]
    system = messages[-2]
    assert system["role"] == "system" and "[1] zebra.txt (chunk 0)" in system["content"]
    assert "Cite every source you use as [n]" in system["content"]
    assert messages[-1] == {"role": "user", "content": "Why do zebras have black and white "
                            "stripes?"}  # fmt: skip


def test_sources_stored_with_the_reply_and_shown(standin: StandIn, tmp_path: Path) -> None:
    data = _ingest(standin, tmp_path)
    answer = _ask(standin, data, "Where does magma come from?")
    store = open_store(data)
    try:
        reply = list(store.messages(str(answer["session_id"])))[-1]
        assert reply.role == "assistant" and reply.status == "complete"
        assert reply.meta["sources"] == answer["sources"]
        assert Path(reply.meta["sources"][0]["path"]).name == "volcano.md"
    finally:
        store.close()
    shown = invoke(standin, data, "sessions", "show", str(answer["session_id"]))
    assert "  [1] " in shown.output and "volcano.md (chunk 1" in shown.output
    assert "nomic-embed-text)" in shown.output


def test_hybrid_merges_text_search_by_rank_fusion(standin: StandIn, tmp_path: Path) -> None:
    data = _ingest(standin, tmp_path)
    answer = _ask(standin, data, "keeper polishes lens", "--flow", "rag_hybrid")
    sources = answer["sources"]
    assert isinstance(sources, list)
    best = sources[0]
    assert Path(best["path"]).name == "lighthouse.md" and best["chunk"] == 1
    assert best["score"] == round(2 / 61, 6) and best["cosine"] is not None  # first in both
    store = open_store(data)
    try:
        cid = store.rag_collection("n").id
        hits = store.rag_text_search(cid, "lens OR lava", 10)  # any word; syntax is text
        texts = store.rag_chunks(hits)
        assert sorted(Path(texts[h].path).name for h in hits) == ["lighthouse.md", "volcano.md"]
        assert store.rag_text_search(cid, '"* ( :', 10) == []
    finally:
        store.close()


def test_unknown_collection_is_a_failed_turn_with_one_line(
    standin: StandIn, tmp_path: Path
) -> None:
    data = _ingest(standin, tmp_path)
    result = invoke(standin, data, "ask", "--collection", "nope", "hello")
    assert result.exit_code == 1
    assert "no collection 'nope' (collections: n)" in result.output
    assert standin.requests.to("/api/chat") == []


def test_matrix_is_cached_until_the_collection_changes(standin: StandIn, tmp_path: Path) -> None:
    data = _ingest(standin, tmp_path)
    store = open_store(data)
    try:
        cid = store.rag_collection("n").id
        first = vector_index.matrix(store, cid, "nomic-embed-text")
        assert vector_index.matrix(store, cid, "nomic-embed-text") is first
        assert first.vectors.shape == (6, 64)
        invoke(standin, data, "rag", "ingest", str(tmp_path / "docs"), "-C", "n")
        assert vector_index.matrix(store, cid, "nomic-embed-text") is first  # unchanged
        (tmp_path / "docs" / "new.md").write_text("Penguins cannot fly.")
        invoke(standin, data, "rag", "ingest", str(tmp_path / "docs"), "-C", "n")
        assert vector_index.matrix(store, cid, "nomic-embed-text").vectors.shape == (7, 64)
    finally:
        store.close()


def test_retrieve_reads_in_prep_and_exec_only_scores(standin: StandIn, tmp_path: Path) -> None:
    data = _ingest(standin, tmp_path)
    store = open_store(data)
    closed = SqliteStore.open(tmp_path / "closed.db", SystemClock())
    closed.close()  # any read in exec fails
    try:
        deps = Deps(Settings(), store, cast(Any, None), RecordingSink(), SystemClock())
        m = vector_index.matrix(store, store.rag_collection("n").id, "nomic-embed-text")
        shared: dict[str, Any] = {"collection": "n", "query_vector": m.vectors[0].tolist(),
                                  "embed_model": "nomic-embed-text",
                                  "user_message": "keeper polishes lens"}  # fmt: skip
        for hybrid in (False, True):
            prep_res = Retrieve(deps, hybrid=hybrid).prep(shared)
            ranked = Retrieve(replace(deps, store=closed), hybrid=hybrid).exec(prep_res)
            assert not isinstance(ranked, Failure), ranked
            own = int(m.ids[0])  # the chunk whose own vector is the query: first by cosine
            assert own in [i for i, _, _ in ranked[: 2 if hybrid else 1]]
            whole = dict(shared)
            Retrieve(deps, hybrid=hybrid).run(whole)
            assert Retrieve(deps, hybrid=hybrid).post(shared, prep_res, ranked) == "default"
            assert shared["retrieved"] == whole["retrieved"]
        unknown = Retrieve(deps).prep({**shared, "collection": "nope"})
        assert isinstance(unknown, Failure) and "no collection 'nope'" in unknown.line
    finally:
        store.close()


def test_fuse_and_chunking() -> None:
    assert [i for i, _ in fuse([[1, 2, 3], [3, 4]], k=60)] == [3, 1, 2, 4]
    text = "One. Two two.\n\nThree three three. Four."
    assert [p.text for p in chunk_text(text, 20, 0, "sentence")] == [
        "One. Two two.", "Three three three.", "Four."
    ]  # fmt: skip
    text = "Aaa aaa. Bbb bbb. Ccc ccc. Ddd."
    pieces = chunk_text(text, 18, 9, "sentence")
    assert [p.text for p in pieces] == ["Aaa aaa. Bbb bbb.", "Bbb bbb. Ccc ccc.", "Ccc ccc. Ddd."]
    assert all(text[p.start :].startswith(p.text) for p in pieces)
    assert chunk_text("a " * 30, 10)[0].text == "a a a a a"
    assert chunk_text("", 10) == []
