"""A streaming reply's parts (`utils/store/parts_sql.py`) on a real database file: appended, seen
once by every reader before and after folding, written whole once, folded after a crash."""

from __future__ import annotations

from pathlib import Path

from tests.clocks import FixedClock
from utils.context import summaries
from utils.store import SqliteStore


def _count(store: SqliteStore, sql: str) -> int:
    return int(store.db.execute(sql).fetchone()[0])


def _replying(path: Path) -> tuple[SqliteStore, str, int]:
    store = SqliteStore.open(path, FixedClock())
    session = store.create_session("m")
    store.append_message(session.id, "user", "tell me about herons")
    reply = store.append_message(session.id, "assistant", "Herons ", status="partial")
    store.append_part(reply.id, "wade in shallows. ")
    store.append_part(reply.id, "They spear fish.")
    return store, session.id, reply.id


def test_readers_see_content_then_parts_once_before_any_fold(tmp_path: Path) -> None:
    store, session_id, reply_id = _replying(tmp_path / "p.db")
    whole = "Herons wade in shallows. They spear fish."
    assert store.window(session_id, 10)[-1].content == whole
    assert [m.content for m in store.messages(session_id)][-1] == whole
    assert store.get_message(reply_id).content == whole  # type: ignore[union-attr]
    assert [t.content for t in summaries.uncovered(store, session_id, 0, 99)][-1] == whole
    assert "They spear fish." in store.export_markdown(session_id)
    raw = store.db.execute("SELECT content FROM messages WHERE id = ?", [reply_id]).fetchone()
    assert raw[0] == "Herons "  # the row itself was never rewritten while streaming
    store.close()


def test_finishing_writes_the_text_once_and_removes_the_parts(tmp_path: Path) -> None:
    store, session_id, reply_id = _replying(tmp_path / "p.db")
    whole = "Herons wade in shallows. They spear fish. The end."
    store.finish_reply(reply_id, whole, "complete")
    reply = store.window(session_id, 10)[-1]
    assert (reply.content, reply.status) == (whole, "complete")
    assert _count(store, "SELECT count(*) FROM message_parts") == 0
    assert store.fold_parts() == 0
    assert [h.message_id for h in store.search("spear", 5)] == [reply_id]
    store.close()


def test_search_folds_leftover_parts_so_the_index_finds_them(tmp_path: Path) -> None:
    store, session_id, reply_id = _replying(tmp_path / "p.db")
    assert [h.message_id for h in store.search("spear", 5)] == [reply_id]
    reply = store.window(session_id, 10)[-1]
    assert (reply.content, reply.status) == ("Herons wade in shallows. They spear fish.", "partial")
    assert _count(store, "SELECT count(*) FROM message_parts") == 0
    store.close()


def test_a_fold_while_the_reply_still_streams_loses_and_doubles_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    writer, session_id, reply_id = _replying(path)
    other = SqliteStore.open(path, FixedClock())  # another process opening the store folds
    writer.append_part(reply_id, " Then they fly.")
    assert other.window(session_id, 10)[-1].content == (
        "Herons wade in shallows. They spear fish. Then they fly."
    )
    other.close()
    # the writer died here: folded after the first fold
    again = SqliteStore.open(path, FixedClock())
    assert again.window(session_id, 10)[-1].content == (
        "Herons wade in shallows. They spear fish. Then they fly."
    )
    writer.finish_reply(reply_id, "Herons wade in shallows. They spear fish. Then they fly.",
                        "complete")  # fmt: skip
    assert again.window(session_id, 10)[-1].content.count("Herons") == 1
    again.close()
    writer.close()
