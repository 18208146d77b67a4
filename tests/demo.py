"""`make demo`: a chat against the stand-in's scripted model, for a person without Ollama.

Starts the stand-in on a free loopback port with a friendly scripted model, then opens
`python main.py chat` against it with a throw-away data dir. Everything on screen comes from
the real app; only the "model" is scripted. The chat runs as the terminal's foreground job
(cli/foreground.py): Ctrl+C stops a reply and stays, as in `make chat`, and the terminal's
modes are restored whatever happens to the chat.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cli.foreground import run_in_foreground
from tests.standin.models import default_models
from tests.standin.server import StandIn

ROOT = Path(__file__).resolve().parent.parent
BANNER = (
    "*** DEMO: this chat talks to a scripted stand-in, not a real model. ***\n"
    "*** For a real model: install Ollama (https://ollama.com/download), run\n"
    "*** `ollama pull llama3.2:1b`, then `make chat`. ***"
)


def demo_reply(messages: Sequence[Mapping[str, Any]]) -> str:
    """A small scripted "model": greets, remembers a name, and explains itself."""
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    last = users[-1] if users else ""
    lowered = last.lower()
    names = [
        match.group(1)
        for text in (str(m.get("content", "")) for m in messages)
        for match in re.finditer(r"\bmy name is (\w+)", text, re.IGNORECASE)
    ]
    if "my name" in lowered and "?" in lowered:
        return f"Your name is {names[-1]}." if names else "You have not told me your name yet."
    if names and re.search(r"\bmy name is\b", lowered):
        return f"Nice to meet you, {names[-1]}! I will remember that for this conversation."
    if re.match(r"\s*(hi|hello|hey)\b", lowered):
        return (
            "Hello! I am the pocketchat demo model, a scripted stand-in for Ollama. "
            "Try /help to see the chat commands, tell me your name, or ask me anything."
        )
    return (
        f'You said: "{last[:200]}". I am only the demo model, so my answers are scripted. '
        "Everything else is real: this conversation is stored in SQLite, Ctrl+C stops a reply "
        "and keeps it, and /export writes the session to a file. "
        "With Ollama installed, `make chat` talks to a real model."
    )


def main() -> int:
    server = StandIn(default_models())
    server.reply = demo_reply
    server.tokens_per_second = 25.0
    server.load_delay = 0.4
    server.start()
    print(BANNER, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="pocketchat-demo-") as data_dir:
        env = {**os.environ, "POCKETCHAT_DATA_DIR": data_dir, "OLLAMA_HOST": server.url}
        try:  # Ctrl+C reaches the chat alone (its own process group): it stops a reply
            code = run_in_foreground([sys.executable, str(ROOT / "main.py"), "chat"], env)
        finally:
            server.stop()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
