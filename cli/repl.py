"""The chat loop: read a line, run a slash command or a turn, repeat.

Line editing and history (kept in the data dir) come from prompt_toolkit when standard input
is a terminal; otherwise lines are read plainly, so the chat can also be driven by a script.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from cli.leases import LeaseKeeper
from cli.sink import TerminalSink
from cli.turns import TurnRunner, clean_text, title_from

if TYPE_CHECKING:
    from app import App
    from utils.store import Session
    from utils.telemetry import Event

MULTILINE = '"""'


class Repl:
    def __init__(
        self,
        app: App,
        *,
        flow_source: str | None,
        session: Session | None,
        model: str,
        system: str | None,
        options: dict[str, Any],
        title: str | None,
        ollama_version: str,
        dispatch: Callable[[Repl, str], None],
        collection: str | None = None,
    ) -> None:
        self.app = app
        self.dispatch = dispatch  # the slash commands (cli/slash.py), handed in by `chat`
        self.sink = TerminalSink()
        self.runner = TurnRunner(app, self.sink, flow_source, collection, chat_turn=True)
        self.store = app.store()
        self.llm = app.llm()
        self.session: Session | None = session
        self.model = model
        self.pending_system = system
        self.pending_options: dict[str, Any] = dict(options)
        self.pending_title = title
        self.pending_context_mode: str | None = None
        self.ollama_version = ollama_version
        self.collection = collection
        self.last_turn: dict[str, Any] = {}
        self.lease = LeaseKeeper(app)
        self.warmup: threading.Thread | None = None
        self.warmup_result: list[str] = []
        self.warmup_events: list[Event] = []  # recorded from the main thread (the store's)
        self.running = True
        self._prompt: Any = None
        self.memory_hold = threading.Event()  # set while a turn runs: extraction gives way
        self.memory = (
            app.memory_background(self.memory_hold.is_set)
            if _extracts(self.runner.spec)
            else None
        )

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> int:
        self._greet()
        if self.session is not None:
            self.lease.hold(self.session.id)
        self.start_warmup(self.model)
        try:
            while self.running:
                self._report_warmup()
                try:
                    line = self._read()
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if line is None:
                    break
                text = line.strip()
                if not text:
                    continue
                if text.startswith("/") and not text.startswith("//"):
                    try:
                        self.dispatch(self, text)
                    except KeyboardInterrupt:
                        self.sink.notice("(stopped)")
                    continue
                self.ask(line)
        finally:
            self.lease.release()
            if self.memory is not None:  # a job under way goes back to pending, kept
                self.memory_hold.set()
                self.memory.stop()
        click.echo("bye.", err=True)
        return 0

    def ask(self, text: str, *, regenerate: bool = False) -> None:
        cleaned, replaced = clean_text(text)
        if replaced:
            self.sink.notice("Control characters in your message were replaced with U+FFFD.")
        try:
            self._wait_for_warmup()
        except KeyboardInterrupt:  # nothing was sent or stored yet; the line is in the history
            self.sink.status("")
            self.sink.notice("(stopped while the model was loading; not sent — Up brings it back)")
            return
        self.memory_hold.set()
        try:
            shared = self.runner.turn(
                collection=self.collection,
                session_id=self.session.id if self.session else None,
                user_message=None if regenerate else cleaned,
                regenerate=regenerate or None,
                model=self.model,
                system=self.pending_system,
                options=self.pending_options or None,
                title=self.pending_title or (None if self.session else title_from(cleaned)),
                context_mode=self.pending_context_mode,
                origin="chat",
            )
        except KeyboardInterrupt:
            self.sink.reply_done()
            self.sink.notice("(stopped before the reply began; your message is kept)")
            self._refresh_session(self.runner.last_shared.get("session_id"))
            return
        except Exception as exc:  # one line, and the chat goes on
            from cli.errors import describe

            self.sink.reply_done()
            self.sink.notice(describe(exc, self.app)[1])
            self._refresh_session(self.runner.last_shared.get("session_id"))
            return
        finally:
            self.memory_hold.clear()
            if self.memory is not None:
                self.memory.wake()  # between turns: extract what was just said
        turn = shared.get("turn") or {}
        if turn.get("status") == "refused":  # rate limited: nothing was stored
            return
        from cli.sources import show_sources

        show_sources(shared)
        self.pending_system = None
        self.pending_options = {}
        self.pending_title = None
        self.pending_context_mode = None
        self.last_turn = shared
        self._refresh_session(shared.get("session_id"))

    # -- helpers used by slash commands ------------------------------------------------------
    def switch_session(self, session: Session | None) -> None:
        self.lease.release()
        self.session = session
        if session is not None:
            self.model = session.model
            self.lease.hold(session.id)

    def start_warmup(self, model: str) -> None:
        """Load `model` in the background with the window and keep_alive the turns will send,
        so the first reply does not pay a reload."""
        options = {**(self.session.options if self.session else {}), **self.pending_options}
        keep_alive = options.get("keep_alive", self.app.settings.ollama.keep_alive)
        cap = self.app.settings.context.default_num_ctx

        gate = self.app.gate()

        def load() -> None:
            from utils.telemetry import (
                LOAD_THRESHOLD_SECONDS,
                MODEL_LOAD,
                QUEUE_WAIT,
                Event,
            )

            try:
                joined = self.app.clock.monotonic()
                ticket = gate.acquire(lambda position, eta: None) if gate else None
                waited = self.app.clock.monotonic() - joined
                try:
                    num_ctx = self.llm.window(model, cap, options.get("num_ctx"))
                    seconds = self.llm.load(model, keep_alive, num_ctx=num_ctx)
                finally:
                    if ticket is not None:
                        ticket.release()
                self.warmup_result.append(
                    f"({model} loaded in {seconds:.1f} s)"
                    if seconds >= 0.1
                    else f"({model} is loaded and ready)"
                )
                if ticket is not None:
                    ahead = int(getattr(ticket, "ahead", 0))
                    self.warmup_events.append(Event(QUEUE_WAIT, waited, model=model,
                                                    data={"ahead": ahead}))  # fmt: skip
                if seconds >= LOAD_THRESHOLD_SECONDS:
                    self.warmup_events.append(Event(MODEL_LOAD, seconds, model=model,
                                                    data={"source": "warmup"}))  # fmt: skip
            except Exception as exc:  # the first turn reports it properly
                from cli.errors import describe

                self.warmup_result.append(f"(could not load {model}: {describe(exc, self.app)[1]})")

        self.warmup = threading.Thread(target=load, name="warmup", daemon=True)
        self.warmup.start()

    def _wait_for_warmup(self) -> None:
        if self.warmup is not None and self.warmup.is_alive():
            self.sink.status(f"loading model {self.model}…")
            self.warmup.join()
            self.sink.status("")
        self._report_warmup()

    def _report_warmup(self) -> None:
        while self.warmup_result:
            self.sink.notice(self.warmup_result.pop(0))
        if self.warmup_events:
            from utils.telemetry import record_events

            events, self.warmup_events = self.warmup_events, []
            record_events(self.store, events)

    def _refresh_session(self, session_id: str | None = None) -> None:
        sid = session_id or (self.session.id if self.session else None)
        if sid is None:
            return
        fresh = self.store.get_session(sid)
        if fresh is not None and (self.session is None or self.session.id != fresh.id):
            self.switch_session(fresh)
        self.session = fresh

    def _greet(self) -> None:
        where = self.app.host_display
        if self.session is not None:
            count = self.store.message_count(self.session.id)
            click.echo(
                f"pocketchat — continuing session {self.session.id} "
                f"({self.session.title or 'untitled'}, {count} messages) with {self.model} "
                f"at {where} (Ollama {self.ollama_version}).",
                err=True,
            )
        else:
            click.echo(
                f"pocketchat — chatting with {self.model} at {where} "
                f"(Ollama {self.ollama_version}). /help for commands, Ctrl+D to leave.",
                err=True,
            )
        if self.collection:
            click.echo(
                f"Answering from collection '{self.collection}': the sources are listed, "
                "numbered, under each answer.",
                err=True,
            )

    # -- input ----------------------------------------------------------------------------------
    def _read(self) -> str | None:
        first = self._read_line(">>> ")
        if first is None or (
            first.strip() != MULTILINE and not first.lstrip().startswith(MULTILINE)
        ):
            return first
        lines = [first.lstrip()[len(MULTILINE) :]]
        while True:
            try:
                more = self._read_line("... ")
            except EOFError:  # Ctrl+D inside the block: what was typed is sent, not dropped
                more = None
            if more is None:
                if not "".join(lines).strip():
                    raise EOFError  # an empty block: Ctrl+D leaves, as at the prompt
                self.sink.notice(
                    '(Ctrl+D ended the """ block: sending what you typed; Ctrl+D again leaves)'
                )
                break
            if more.rstrip().endswith(MULTILINE):
                lines.append(more.rstrip()[: -len(MULTILINE)])
                break
            lines.append(more)
        return "\n".join(line for line in lines).strip("\n")

    def _read_line(self, prompt: str) -> str | None:
        if sys.stdin.isatty():
            if self._prompt is None:
                self._prompt = self._make_prompt()
            result: str = self._prompt.prompt(prompt)
            return result
        sys.stderr.write(prompt)
        sys.stderr.flush()
        raw = sys.stdin.buffer.readline()
        if raw == b"":
            return None
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("utf-8", errors="replace")
            self.sink.notice("That line was not valid UTF-8; bad bytes became U+FFFD.")
        return line.rstrip("\r\n")

    def _make_prompt(self) -> Any:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        from utils.paths import ensure_data_dir, secure_file

        path = ensure_data_dir(self.app.settings.data_path) / "prompt_history"
        secure_file(path)
        return PromptSession(
            history=FileHistory(str(path)),
            enable_history_search=True,
            enable_open_in_editor=True,  # Ctrl+X Ctrl+E: write the message in $EDITOR
        )


def _extracts(spec: Any) -> bool:
    """Whether the turn flow leaves extraction jobs (it has an ExtractMemories node)."""
    return any(n.type_name == "ExtractMemories" for n in spec.nodes.values())
