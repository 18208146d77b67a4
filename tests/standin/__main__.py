"""Run the stand-in for a person: ``python -m tests.standin --port 11435``."""

from __future__ import annotations

import argparse
import threading

from . import replies
from .models import ModelSpec, default_models
from .server import StandIn


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl+C."""
    parser = argparse.ArgumentParser(prog="python -m tests.standin")
    parser.add_argument("--port", type=int, default=11435)
    parser.add_argument("--model", action="append", default=[], help="extra model name")
    parser.add_argument(
        "--reply-mode",
        choices=["friendly", "echo", "essay"],
        default="friendly",
        help="essay: as many words as the first number in the prompt, in sentences",
    )
    parser.add_argument(
        "--tps", type=float, default=20.0, help="tokens (words) per second (0 = max)"
    )
    parser.add_argument("--load-delay", type=float, default=0.5)
    args = parser.parse_args(argv)
    models = default_models()
    for name in args.model:
        models[name] = ModelSpec()
    s = StandIn(models, port=args.port)
    s.reply = {
        "echo": replies.echo,
        "essay": replies.essay_on_request,
    }.get(args.reply_mode, replies.friendly)
    s.tokens_per_second = args.tps or None
    s.load_delay = args.load_delay
    s.start()
    print(f"Ollama stand-in listening on {s.url} (models: {', '.join(sorted(s.models))})")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping")
    finally:
        s.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
