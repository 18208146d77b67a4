"""A real `ask` process killed (SIGKILL) in the middle of a 100,000-word reply.

The stand-in runs in this process; the reply streams in sentences at a pace that leaves time
to watch the database from outside. Once some parts are saved the process is killed, and:
the database passes `integrity_check`; the next `sessions show` (a new process) has the reply
once, marked `partial`; the stored text is what was shown, bar at most the last, unfinished
sentence; nothing is left to fold a second time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.standin import StandIn, replies
from tests.turn_kit import rows, wait_for

ROOT = Path(__file__).resolve().parent.parent
WORDS = 100_000


def _parts(data: Path) -> int:
    try:
        conn = sqlite3.connect(data / "pocketchat.db")
        try:
            return int(conn.execute("SELECT count(*) FROM message_parts").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:  # not created or migrated yet
        return 0


def test_kill_9_mid_reply_keeps_what_was_saved_once_marked_partial(
    standin: StandIn, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    whole = replies.prose_text(WORDS)
    standin.reply = replies.fixed(whole)
    standin.tokens_per_second = 4000.0  # 25 s for the whole reply: killed long before its end
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(data)}
    shown_file = tmp_path / "shown.txt"
    with shown_file.open("w") as shown_out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "ask", f"write {WORDS} words"],
            env=env, stdout=shown_out, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert wait_for(lambda: _parts(data) >= 20, timeout=20)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    shown = shown_file.read_text(encoding="utf-8")
    assert len(shown) < len(whole) / 2  # killed mid-reply

    conn = sqlite3.connect(data / "pocketchat.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    session_id = conn.execute("SELECT id FROM sessions").fetchone()[0]
    conn.close()

    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "sessions", "show", session_id],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("assistant [partial]") == 1
    replies_ = [r for r in rows(data) if r["role"] == "assistant"]
    assert len(replies_) == 1 and replies_[0]["status"] == "partial"
    stored = replies_[0]["content"]
    assert done.stdout.count(stored) == 1  # the whole stored reply, shown once
    assert shown.startswith(stored) and whole.startswith(stored)
    lost = shown[len(stored) :]  # shown but not stored: at most the unfinished last sentence
    assert "." not in lost, f"a completed sentence was lost: {lost!r}"
    # folded on disk when `sessions show` opened the store: the row holds it all, once
    assert _parts(data) == 0
    conn = sqlite3.connect(data / "pocketchat.db")
    raw = conn.execute("SELECT content FROM messages WHERE role = 'assistant'").fetchone()[0]
    conn.close()
    assert raw == stored
