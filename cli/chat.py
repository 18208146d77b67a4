"""`chat`: the everyday terminal chat.

Start-up checks that Ollama answers (one clear line and exit 1 if not), warms the model up in
the background, holds a lease on the session while open, and hands over to the REPL.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.options import turn_options


@click.command()
@turn_options
@click.option("--title", metavar="TEXT", help="A title for a new session.")
@click.pass_obj
def chat(
    app: Any,
    model: str | None,
    session_id: str | None,
    continue_: bool,
    system: str | None,
    flow: str | None,
    collection: str | None,
    options: tuple[tuple[str, str], ...],
    host: str | None,
    title: str | None,
) -> None:
    """Chat with a model in the terminal.

    Type /help inside the chat for its commands. Ctrl+C stops a reply and stays in the chat;
    Ctrl+D or /bye leaves. Enter text between two lines of \"\"\" for several lines.
    """
    from cli.repl import Repl
    from cli.slash import dispatch
    from cli.turns import parse_options, resolve_auto_pull

    if session_id and continue_:
        raise click.UsageError("use either -s ID or -c, not both")
    app.override(host=host, model=model)
    resolve_auto_pull(app)
    parsed = parse_options(options)
    llm = app.llm()
    try:
        version = llm.version()
    except Exception as exc:
        from cli.errors import describe

        line = describe(exc, app)[1]
        raise click.ClickException(str(line)) from None
    store = app.store()
    session = None
    if session_id:
        session = store.resolve_session(session_id)
    elif continue_:
        session = store.latest_session(conversation=True)  # never a `flow run` batch
        if session is None:
            raise click.UsageError("there is no session to continue; drop -c to start one")
    repl = Repl(
        app,
        flow_source=flow or ("rag" if collection else None),
        collection=collection,
        session=session,
        model=model or (session.model if session else app.settings.model),
        system=system,
        options=parsed,
        title=title,
        ollama_version=version,
        dispatch=dispatch,
    )
    from cli.foreground import own_foreground

    with own_foreground():  # under make, Ctrl+C reaches the chat alone
        code = repl.run()
    sys.exit(code)
