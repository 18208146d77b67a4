"""`doctor`: one line each — ok, warn or fail — for what pocketchat depends on.

Exit status 0 when nothing fails (warnings allowed), 1 otherwise. A config that does not load
is the one thing reported: each of its problems once, on its own line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import click

Check = tuple[str, str, str]  # (level, name, text)


@click.command()
@click.option("--host", metavar="URL", help="The Ollama server to check.")
@click.option("-m", "--model", help="The model to look for (default: the config's).")
@click.pass_obj
def doctor(app: Any, host: str | None, model: str | None) -> None:
    """Check Ollama, the model, the database, free disk, the request queue, the config files
    in effect, how RAG flows search and long-term memory."""
    app.override(host=host, model=model)
    if not _config_loads(app):
        raise SystemExit(1)
    checks: list[Callable[[Any], Check]] = [
        _config,
        _hosts if app.host_specs() else _ollama,  # ollama.hosts: each host on its own line
        _model,
        _database,
        _disk,
        _queue,
        _search,
        _memory,
    ]
    failed = False
    for check in checks:
        try:
            level, name, text = check(app)
        except Exception as exc:
            level, name, text = "fail", check.__name__.strip("_"), _line(exc, app)
        failed = failed or level == "fail"
        click.echo(f"{level:<4}  {name:<9} {text}")
    if failed:
        raise SystemExit(1)


def _line(exc: BaseException, app: Any) -> str:
    user_line = getattr(exc, "user_line", None)
    if callable(user_line):
        return str(user_line(app.host_display))
    return str(exc)


def _config_loads(app: Any) -> bool:
    """With a config that does not load, each of its problems on a line of its own, once,
    and nothing else: every other check would only repeat the first one."""
    from config.settings import SettingsError

    try:
        app.settings  # noqa: B018  (loads the settings)
    except SettingsError as exc:
        for problem in exc.problems:
            click.echo(f"{'fail':<4}  {'config':<9} {problem}")
        click.echo("(the other checks run once the config loads)")
        return False
    return True


def _config(app: Any) -> Check:
    return "ok", "config", ", ".join(app.settings.sources)


def _ollama(app: Any) -> Check:
    try:
        version = app.llm().version()
    except Exception as exc:
        return "fail", "ollama", _line(exc, app)
    return "ok", "ollama", f"reachable at {app.host_display}, version {version}"


def _hosts(app: Any) -> Check:
    """`ollama.hosts`: each host asked now (GET /api/version), with its state (up, cooling,
    down), slots, in flight, waiting, served and errors; fail when none answers."""
    from utils.hosts import host_line, probe

    pool = app.host_pool()
    if pool is None:
        return "warn", "hosts", "queue.enabled is false: every request goes to the first host"
    ollama = app.settings.ollama
    lines, answering = [], 0
    for spec, status in zip(pool.specs, pool.status(), strict=True):
        error = probe(spec.url, timeout=min(2.0, ollama.connect_timeout),
                      headers=ollama.headers, verify=ollama.verify_tls)  # fmt: skip
        answering += error is None
        lines.append(host_line(status) + ("" if error is None else f"; not answering: {error}"))
    level = "ok" if answering == len(lines) else "fail" if answering == 0 else "warn"
    text = f"{answering} of {len(lines)} answering" + "".join(f"\n{'':16}{li}" for li in lines)
    return level, "hosts", text


def _model(app: Any) -> Check:
    name = app.settings.model
    try:
        installed = [m.name for m in app.llm().list_models()]
    except Exception:
        return "warn", "model", f"{name}: not checked (Ollama unreachable)"
    if app.llm().has_model(name):
        return "ok", "model", f"{name} is pulled"
    listed = ", ".join(installed) if installed else "none"
    return "warn", "model", f"{name} is not pulled (installed: {listed}); run `ollama pull {name}`"


def _database(app: Any) -> Check:
    from utils.paths import ensure_data_dir

    settings = app.settings
    if settings.store.url:  # Postgres: reach it and read its migrations
        store = app.open_store(migrate=False)
        try:
            applied, pending = store.migrations_status()
            where = store.location
        finally:
            store.close()
        state = f"schema {len(applied)}" + (f", {len(pending)} pending" if pending else "")
        return ("warn" if pending else "ok"), "database", f"{where} ({state})"
    if settings.data_path.exists() and not settings.data_path.is_dir():
        app.data_dir()  # raises the one line that names it
    if not settings.db_path.exists():
        return "ok", "database", f"{settings.db_path} (new: created on first use)"
    ensure_data_dir(settings.data_path)
    store = app.open_store(migrate=False, min_free_mb=0)
    try:
        applied, pending = store.migrations_status()
        read_only = None if store.can_write() else store.read_only_reason
    finally:
        store.close()
    state = f"schema {len(applied)}" + (
        f", {len(pending)} pending (applied on next use, or `db migrate`)" if pending else ""
    )
    if read_only:  # replies are still shown, but nothing new is kept
        return "warn", "database", f"{settings.db_path} ({state}; read-only: {read_only})"
    return ("warn" if pending else "ok"), "database", f"{settings.db_path} ({state})"


def _disk(app: Any) -> Check:
    from utils.paths import free_mb

    settings = app.settings
    free = free_mb(settings.data_path)
    floor = settings.disk.min_free_mb
    text = f"{free:,.0f} MiB free under {settings.data_path} (floor {floor:,.0f} MiB)"
    return ("fail" if free < floor else "ok"), "disk", text


def _queue(app: Any) -> Check:
    """A stuck or inconsistent queue: future-dated heartbeats, a holder whose process ended or
    is suspended, more holders than slots (utils/queue/health.py)."""
    from utils.queue import QueueUnavailable, open_book
    from utils.queue.health import problems, views

    path = app.settings.data_path / "queue.db"
    settings = app.settings.queue
    try:
        book = open_book(settings.url, path, app.clock)
        if book is None:
            return "ok", "queue", "empty"
        try:
            rows, now = book.read()
        finally:
            book.close()
    except QueueUnavailable as exc:  # the queue every process here waits in: it blocks them
        return "fail", "queue", str(exc)
    except sqlite3.Error as exc:
        return "warn", "queue", f"cannot read {path}: {exc} (delete it while no pocketchat runs)"
    tickets = views(rows, now, settings.ticket_ttl_seconds)
    slots = max([settings.slots, *(s.slots for s in app.host_specs())])  # the most a host has
    found = problems(tickets, now, settings.ticket_ttl_seconds, slots)
    if found:
        return (
            "warn",
            "queue",
            "; ".join(found) + " — `queue status` shows it, "
            "`queue clear --stale` removes what cannot stand",
        )
    holding = sum(1 for t in tickets if t.row.state == "holding")
    return "ok", "queue", f"{holding} holding, {len(tickets) - holding} waiting ({book.where})"


def _search(app: Any) -> Check:
    """How RAG flows search a collection (numpy's exact scan; whether sqlite-vec could load)."""
    from utils.rag import sqlite_vec_status
    from utils.store import StoreError

    if app.settings.store.url:
        try:
            store = app.open_store(migrate=False)
        except StoreError:
            return "warn", "search", "not checked (the database cannot be reached)"
        try:
            return "ok", "search", store.vector_search_note()
        finally:
            store.close()
    return "ok", "search", sqlite_vec_status()[1]


def _memory(app: Any) -> Check:
    """Long-term memory: off, or on with its embedding model pulled and no failed jobs (the
    database is read as it is: nothing is created or migrated here)."""
    settings = app.settings.memory
    if not settings.enabled:
        return "ok", "memory", "off (memory.enabled: true turns it on; docs/memory.md)"
    counts = {"memories": 0, "pending": 0, "running": 0, "failed": 0}
    if app.settings.db_path.exists():
        from utils.memory import jobs_sql

        store = app.open_store(migrate=False)
        try:
            if "memory_jobs" in store.db.table_names():
                counts = jobs_sql.counts(store)
        finally:
            store.close()
    said = f"on: {counts['memories']} memories, {counts['pending'] + counts['running']} pending"
    model = settings.embed_model
    try:
        pulled = app.llm().has_model(model)
    except Exception:  # Ollama's own line says why
        pulled = True
    if not pulled:
        return "warn", "memory", (f"{said}; the embedding model {model} is not pulled: "
                                  f"`pocketchat models pull {model}`")  # fmt: skip
    if counts["failed"]:
        return "warn", "memory", f"{said}; {counts['failed']} extraction jobs failed (`stats`)"
    return "ok", "memory", said
