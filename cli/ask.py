"""`ask`: one turn, non-interactive. Exit 0 answered, 1 failed (or cut off), 2 usage error,
3 answered from the cache because Ollama was unreachable, 130 stopped by Ctrl+C (the partial
reply is kept, marked `interrupted`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from cli.options import turn_options

EXIT_CACHED_FALLBACK = 3  # an older reply shown because Ollama was unreachable (`cached`)
ASK_RETRY_HINT = "run the same command again to retry, or continue the session with `ask -c`."


@click.command()
@click.argument("prompt", required=False)
@turn_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the text.")
@click.option(
    "--show-prompt",
    is_flag=True,
    help="Also print the exact messages and options sent to the model, with estimated tokens "
    '(stderr; with --json, a "request" field).',
)
@click.pass_obj
def ask(
    app: Any,
    prompt: str | None,
    model: str | None,
    session_id: str | None,
    continue_: bool,
    system: str | None,
    flow: str | None,
    collection: str | None,
    options: tuple[tuple[str, str], ...],
    host: str | None,
    as_json: bool,
    show_prompt: bool,
) -> None:
    """Ask one question and print the answer.

    PROMPT is read from standard input when it is `-`, or when it is absent and standard input
    is not a terminal. -c or -s ID continue a session; otherwise a new one is started.

    \b
    Exit status:
      0    answered
      1    failed, or the reply was cut off (the partial reply is kept)
      2    usage error (empty prompt, bad option, -s with -c, bad settings)
      3    Ollama unreachable: an earlier reply to the same prompt was shown from the cache
           (--json: "cached": "fallback")
      130  stopped by Ctrl+C (the partial reply is kept, marked interrupted)
    """
    from cli.sink import TerminalSink
    from cli.turns import TurnRunner, clean_text, parse_options, resolve_auto_pull, title_from
    from utils.sink import RecordingSink

    if session_id and continue_:
        raise click.UsageError("use either -s ID or -c, not both")
    text, undecodable = _read_prompt(prompt)
    text, replaced = clean_text(text)
    if not text.strip():
        raise click.UsageError("the prompt is empty: give a PROMPT, or pipe text to `ask -`")
    app.override(host=host, model=model)
    resolve_auto_pull(app)
    parsed = parse_options(options)
    store = app.store()
    sid = None
    if session_id:
        sid = store.resolve_session(session_id).id
    elif continue_:
        latest = store.latest_session(conversation=True)  # never a `flow run` batch
        if latest is None:
            raise click.UsageError("there is no session to continue; drop -c to start one")
        sid = latest.id
    sink = RecordingSink() if as_json else TerminalSink()
    if undecodable:
        sink.notice(
            "The input was not valid UTF-8; the undecodable bytes were replaced with U+FFFD."
        )
    if replaced:
        sink.notice("Control characters in the prompt were replaced with U+FFFD.")
    runner = TurnRunner(
        app,
        sink,
        flow or ("rag" if collection else None),
        collection,
        chat_turn=True,
        retry_hint=ASK_RETRY_HINT,
    )
    shared = runner.turn(
        collection=collection,
        session_id=sid,
        user_message=text,
        model=model,
        system=system,
        options=parsed or None,
        title=None if sid else title_from(text),
        origin="ask",
    )
    turn = shared.get("turn") or {}
    status = turn.get("status", "failed")
    if as_json:
        record = _as_json(shared, sink)
        if show_prompt:
            from cli.prompt_view import prompt_record

            record["request"] = prompt_record(shared.get("request"))
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        from cli.sources import show_sources

        show_sources(shared)
        if show_prompt:
            from cli.prompt_view import prompt_lines

            for line in prompt_lines(shared.get("request")):
                click.echo(line, err=True)
    if shared.get("memory_job") is not None:  # after the reply is shown, before the exit
        from cli.memory_jobs import extract_before_exit

        extract_before_exit(app, int(shared["memory_job"]))
    if status == "interrupted":
        sys.exit(130)
    if status != "complete":
        sys.exit(1)
    if (turn.get("meta") or {}).get("cached") == "fallback":
        sys.exit(EXIT_CACHED_FALLBACK)


def _read_prompt(prompt: str | None) -> tuple[str, bool]:
    """The prompt text, and whether undecodable bytes were replaced."""
    if prompt == "-" or (prompt is None and not sys.stdin.isatty()):
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            return data.decode("utf-8", errors="replace"), True
    if prompt is None:
        raise click.UsageError("give a PROMPT, or pipe text to `ask -`")
    return prompt, False


def _as_json(shared: dict[str, Any], sink: Any) -> dict[str, Any]:
    turn = shared.get("turn") or {}
    return {
        "reply": turn.get("text", ""),
        "session_id": shared.get("session_id"),
        "message_id": turn.get("message_id"),
        "model": shared.get("model"),
        "status": turn.get("status"),
        "done_reason": turn.get("done_reason"),
        "prompt_tokens": turn.get("prompt_tokens"),
        "completion_tokens": turn.get("completion_tokens"),
        "timings": turn.get("timings", {}),
        "cached": (turn.get("meta") or {}).get("cached"),
        "error": (turn.get("meta") or {}).get("error"),
        "sources": (turn.get("meta") or {}).get("sources"),
        "memories": [m["id"] for m in shared.get("memories") or []],  # recalled (memory.md)
        "notices": list(getattr(sink, "notices", [])),
        "request_id": shared.get("request_id"),
    }
