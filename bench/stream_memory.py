"""Peak memory while StreamReply streams a 20,000-word reply vs a 200-word one.

The real node, store and Ollama client, against the stand-in run in a separate process (so its
own buffers are not counted), echoing the prompt back as fast as it can. tracemalloc measures
every thread of this process from the first piece to the stored reply. The difference must stay
within 5 MB: only the text is kept, never the chunk objects.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import ROOT, Row, row
from tests.standin.replies import essay_text

SMALL, LARGE = 200, 20_000


def run() -> list[Row]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.standin", "--port", str(port), "--reply-mode", "echo",
         "--tps", "0", "--load-delay", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_listening(port)
        with tempfile.TemporaryDirectory(prefix="pocketchat-bench-") as data:
            small = _peak_mb(port, Path(data), SMALL)
            large = _peak_mb(port, Path(data), LARGE)
    finally:
        server.terminate()
        server.wait(timeout=10)
    note = "StreamReply, stand-in echo, no pacing; must be within 5 MB"
    return [
        row("stream_memory", f"peak, {SMALL:,}-word reply", round(small, 3), "MB"),
        row("stream_memory", f"peak, {LARGE:,}-word reply", round(large, 3), "MB"),
        row("stream_memory", "difference", round(large - small, 3), "MB", note),
    ]


def _peak_mb(port: int, data: Path, words: int) -> float:
    from app import App
    from nodes.call_ollama import Started
    from nodes.stream_reply import ReplyOutcome, StreamReply
    from utils.sink import RecordingSink

    class NullSink(RecordingSink):
        def reply(self, piece: str) -> None:  # shown, not kept
            pass

    app = App(overrides={"host": f"http://127.0.0.1:{port}", "data_dir": str(data)})
    deps = app.deps(NullSink())
    session = deps.store.create_session("llama3.2:1b")
    text = essay_text(words)
    stream = deps.llm.chat_stream("llama3.2:1b", [{"role": "user", "content": text}])
    first = next(stream)
    del text
    node = StreamReply(deps)
    shared = {"started": Started(stream, first), "session_id": session.id, "model": "llama3.2:1b"}
    tracemalloc.start()
    try:
        node.run(shared)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        app.close()
    outcome = shared["reply"]
    assert isinstance(outcome, ReplyOutcome)
    assert outcome.status == "complete" and len(outcome.text.split()) == words, outcome.status
    return peak / 1e6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the stand-in did not start on port {port}")
