"""The composition root: the one place that builds real objects.

settings -> store (`Store`, today `SqliteStore`), Ollama service, queue (`Gate`, today
`SqliteGate`), clock, logging, node registry -> `Deps(sink)`. `App` is click's `ctx.obj`; a server
builds one the same way. Everything is built on first use, so a command pays only for what it
needs (`--help` builds nothing; `sessions list` never imports ollama). With `queue.url` the queue
is a `RedisGate` (several machines share it).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings
    from nodes.deps import Deps
    from nodes.registry import Registry
    from utils.clock import Clock
    from utils.hosts import HostPool, HostSpec
    from utils.memory import Background, Extractor
    from utils.ollama import OllamaService
    from utils.queue import Gate, RedisTurnLimit
    from utils.sink import Sink
    from utils.store import Store


def start_up_done() -> None:
    """Resume the cyclic collector main.py paused for start-up; what start-up built (modules,
    classes, settings) is frozen out of every later collection. Nothing if it was running.
    Commands that never load a flow (sessions, models, db, stats) are short and end without."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


_QUEUE_CHECKED: set[Path] = set()
STALE_JOB_SECONDS = 600.0  # an extraction job `running` this long: its process died


def _check_queue_file(path: Path) -> None:
    """Refuse a `queue.db` that is not SQLite with one line naming it (it holds only tickets
    in line, so deleting it is safe); sqlite would only say "file is not a database". Once a
    process: closing a file drops every POSIX lock this process holds on it, so a second raw
    read would drop the locks of the gate's open connection (serve opens one per worker)."""
    from utils.store import StoreError

    if path in _QUEUE_CHECKED:
        return
    try:
        with path.open("rb") as fh:
            header = fh.read(16)
    except FileNotFoundError:  # the gate makes it, in this process
        _QUEUE_CHECKED.add(path)
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the queue file ({exc.strerror}).") from exc
    if header and header != b"SQLite format 3\x00":
        raise StoreError(
            f"{path}: not an SQLite database; it holds only the queue's tickets: delete it and "
            "pocketchat makes a new one."
        )
    _QUEUE_CHECKED.add(path)


class App:
    def __init__(
        self,
        *,
        config_file: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        debug: bool = False,
        settings: Settings | None = None,
    ) -> None:
        self.config_file = config_file
        self.overrides: dict[str, Any] = dict(overrides or {})
        if self.overrides.get("host") is not None:  # `--host URL`: that one server
            self.overrides["ollama.hosts"] = []
        self.debug = debug
        self._settings = settings
        self._store: Store | None = None
        self._llm: OllamaService | None = None
        self._host: str | None = None
        self._registry: Registry | None = None
        self._clock: Clock | None = None
        self._gate: Gate | None = None
        self._turn_limit: RedisTurnLimit | None = None
        self._logging_ready = False
        self._log_file: Path | None = None

    def sibling(self) -> App:
        """An App with the same settings and its own services (store connection, Ollama
        client, queue gate): for a worker thread of `serve`, which closes it."""
        twin = App(config_file=self.config_file, debug=self.debug, settings=self.settings)
        twin._logging_ready = True  # configured once, by this App
        twin._host = self._host
        return twin

    # -- settings and logging -------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from config.settings import load_settings

            self._settings = load_settings(self.config_file, overrides=self.overrides)
        self._configure_logging()
        return self._settings

    def override(self, **flat: Any) -> None:
        """Apply command-line flags (dotted keys) before anything is built."""
        from config.settings import with_changes

        changes = {k: v for k, v in flat.items() if v is not None}
        if "host" in changes:  # `--host URL`: this one server, not the config's ollama.hosts
            changes["ollama.hosts"] = []
        if changes:
            self._settings = with_changes(self.settings, **changes)
            if "host" in changes:
                self._host = None

    @property
    def log_path(self) -> Path | None:
        """The log file in use; None before logging is set up or when the data dir is unusable
        (an error line then points at no file that does not exist)."""
        return self._log_file

    def _configure_logging(self) -> None:
        if self._logging_ready or self._settings is None:
            return
        self._logging_ready = True
        from utils.telemetry import configure_logging

        log_file: Path | None
        try:  # made 0700 here, tightened by configure_logging once the log can say so
            self._settings.data_path.mkdir(mode=0o700, parents=True, exist_ok=True)
            log_file = self._settings.data_path / "pocketchat.log"
        except OSError:
            log_file = None
        configure_logging(log_file, self._settings.log.level, self.debug)
        self._log_file = log_file if log_file is not None and log_file.is_file() else None

    def data_dir(self) -> Path:
        """The data dir, created if missing (0700); one line naming it when it cannot be."""
        from config.settings import SettingsError
        from utils.paths import ensure_data_dir

        path = self.settings.data_path
        try:
            return ensure_data_dir(path)
        except FileExistsError as exc:
            raise SettingsError(
                f"data_dir {path}: a file, not a directory; give --data-dir (or "
                "$POCKETCHAT_DATA_DIR) a directory, which is created if missing."
            ) from exc
        except OSError as exc:
            raise SettingsError(
                f"data_dir {path}: cannot create it ({exc.strerror}); give --data-dir (or "
                "$POCKETCHAT_DATA_DIR) a directory you can write."
            ) from exc

    # -- services ---------------------------------------------------------------------------
    @property
    def clock(self) -> Clock:
        if self._clock is None:
            from utils.clock import SystemClock

            self._clock = SystemClock()
        return self._clock

    @property
    def host_display(self) -> str:
        from utils.ollama import display_host

        return display_host(self.host)

    @property
    def host(self) -> str:
        """The Ollama URL: the configured one; with none, localhost — and inside a container
        `host.docker.internal` when localhost does not answer."""
        if self._host is None and self.host_specs():
            self._host = self.host_specs()[0].url  # `Deps.llm`'s host: the first of ollama.hosts
        if self._host is None:
            from config.settings import SettingsError
            from utils.ollama import pick_reachable, resolve_host

            ollama = self.settings.ollama
            try:
                candidates = resolve_host(
                    self.settings.host, {}, None if ollama.docker_fallback else False
                )
            except ValueError as exc:
                raise SettingsError(
                    f"host: {exc} Give --host or OLLAMA_HOST a URL such as "
                    "http://127.0.0.1:11434."
                ) from exc
            self._host = (
                candidates[0]
                if len(candidates) == 1
                else pick_reachable(candidates, headers=ollama.headers, verify=ollama.verify_tls)
            )
        return self._host

    def store(self) -> Store:
        """The process's store (migrated; closed by `close()`)."""
        if self._store is None:
            self.data_dir()
            self._store = self.open_store()
        return self._store

    def open_store(self, *, migrate: bool = True, min_free_mb: float | None = None) -> Store:
        """A store on its own connection, which the caller closes: unmigrated for `db status`,
        `doctor`, or a thread's own (the lease heartbeat). `store.url` set: Postgres."""
        from utils.store import SqliteStore

        pg = self.settings.store
        if pg.url:
            from utils.store import PostgresStore

            return PostgresStore.open(pg.url, self.clock, migrate=migrate, vectors=pg.vectors,
                                      pool_size=pg.pool_size)  # fmt: skip

        if self.settings.data_path.exists() and not self.settings.data_path.is_dir():
            self.data_dir()  # one line naming it, not a FileExistsError from deep inside
        floor = self.settings.disk.min_free_mb if min_free_mb is None else min_free_mb
        return SqliteStore.open(self.settings.db_path, self.clock, min_free_mb=floor,
                                migrate=migrate)  # fmt: skip

    def open_store_at(self, where: str) -> Store:
        """A migrated store at `where` (a postgresql:// URL, else a SQLite file path), for
        `db copy --to`; the caller closes it."""
        from utils.store import PostgresStore, SqliteStore

        if where.startswith(("postgresql://", "postgres://")):
            return PostgresStore.open(where, self.clock, vectors=self.settings.store.vectors)
        return SqliteStore.open(Path(where).expanduser(), self.clock)

    def llm(self) -> OllamaService:
        if self._llm is None:
            from utils.ollama import OllamaService

            self._llm = OllamaService(self.host, self.settings.ollama, self.clock)
        return self._llm

    def registry(self) -> Registry:
        if self._registry is None:
            from nodes.registry import builtin_registry

            self._registry = builtin_registry()  # the config's `imports` go through the loader
        return self._registry

    def flow_search_path(self) -> list[Path]:
        """Where flows are found by name: the built-in folder, then the person's flows path."""
        from flows.loader import FLOWS_DIR

        return [FLOWS_DIR, *self.settings.flows_folders]

    def extra_imports(self) -> list[str]:
        """The config's `imports:`: node modules for every flow (the loader imports them)."""
        return list(self.settings.imports)

    def host_specs(self) -> list[HostSpec]:
        """`ollama.hosts` parsed (checked when the settings loaded); empty = the one `host`."""
        raw = self.settings.ollama.hosts
        if not raw:
            return []
        from config.settings import SettingsError
        from utils.hosts import parse_hosts

        try:
            return parse_hosts(raw, self.settings.queue.slots)
        except ValueError as exc:
            raise SettingsError(f"{exc} Give each host a URL such as http://gpu1:11434.") from exc

    def gate(self) -> Gate | None:
        """The machine-wide queue for this Ollama host (`<data_dir>/queue.db`); None if off.
        With `queue.url`, the queue in that Redis (several machines; unreachable: one line).
        With `ollama.hosts`, a `HostPool` over one such queue per host."""
        queue = self.settings.queue
        if not queue.enabled:
            return None
        if self._gate is None:
            from utils.queue import host_key

            specs = self.host_specs()
            if specs:
                self._gate = self._host_pool(specs)
            else:
                self._gate = self._queue_gate(host_key(self.host_display), queue.slots)
        return self._gate

    def host_pool(self) -> HostPool | None:
        """The pool of `ollama.hosts` (None with one host or the queue off): for `doctor`,
        `stats` and `/metrics`."""
        from utils.hosts import HostPool

        gate = self.gate() if self.host_specs() else None
        return gate if isinstance(gate, HostPool) else None

    def _queue_gate(self, key: str, slots: int) -> Gate:
        """The line for `key`: in the Redis at `queue.url`, else in `<data_dir>/queue.db`."""
        from utils.queue import SqliteGate, Unqueued

        queue = self.settings.queue
        if queue.url:
            return self._redis_gate(queue.url, key, slots)
        path = self.settings.data_path / "queue.db"
        _check_queue_file(path)  # garbage: one line naming it
        gate = SqliteGate(
            path,
            key,
            self.clock,
            slots=slots,
            ttl=queue.ticket_ttl_seconds,
            heartbeat=queue.heartbeat_seconds,
            poll=queue.poll_seconds,
        )
        return Unqueued(gate, path)  # a broken queue file costs no reply

    def _host_pool(self, specs: list[HostSpec]) -> HostPool:
        """One queue per host (its slots), one line for the pool (`hosts:` + the host keys),
        the cooldowns in `<data_dir>/hosts.db`, a client per host."""
        from utils.hosts import HostHealth, HostPool
        from utils.ollama import OllamaService

        ollama = self.settings.ollama
        line = "hosts:" + ",".join(sorted(s.key for s in specs))
        return HostPool(
            specs,
            gates=lambda spec: self._queue_gate(spec.key, spec.slots),
            line=self._queue_gate(line, 1),
            health=HostHealth(
                self.data_dir() / "hosts.db",
                base=ollama.cooldown_seconds,
                cap=ollama.cooldown_max_seconds,
            ),
            llms=lambda url: OllamaService(url, ollama, self.clock),
            clock=self.clock,
            probe_timeout=min(2.0, ollama.connect_timeout),
            probe_headers=ollama.headers,
            probe_verify=ollama.verify_tls,
        )

    def _redis_gate(self, url: str, key: str, slots: int) -> Gate:
        """`RedisGate` at `url` (checked now: `QueueUnavailable` is one line); a Redis that
        fails later lets requests through, logged once (`Unqueued`)."""
        from utils.queue import RedisGate, Unqueued, describe_url

        queue = self.settings.queue
        gate = RedisGate(url, key, self.clock, slots=slots,
                         ttl=queue.ticket_ttl_seconds, heartbeat=queue.heartbeat_seconds,
                         poll=queue.poll_seconds)  # fmt: skip
        return Unqueued(gate, describe_url(url))

    def turn_limit(self) -> RedisTurnLimit | None:
        """Turns per minute counted in the Redis at `queue.url` (every process and replica
        shares one limit); None = each turn counts the store's replies."""
        url = self.settings.queue.url
        if url and self._turn_limit is None:
            from utils.queue import RedisTurnLimit, connect

            self._turn_limit = RedisTurnLimit(connect(url), url)
        return self._turn_limit

    def deps(self, sink: Sink) -> Deps:
        """The nodes' dependencies; asked for once a flow is loaded, which ends start-up."""
        from nodes.deps import Deps

        start_up_done()

        return Deps(
            settings=self.settings,
            store=self.store(),
            llm=self.llm(),
            sink=sink,
            clock=self.clock,
            gate=self.gate(),
            turn_limit=self.turn_limit(),
        )

    # -- long-term memory (utils/memory, docs/memory.md) ----------------------------------------
    def extractor(self, busy: Callable[[], bool] = lambda: False) -> Extractor:
        """Runs extraction jobs on this App's store, Ollama client and queue (this thread)."""
        from utils.memory import Extractor

        return Extractor(self.store(), self.llm(), self.gate(), self.settings.memory, self.clock,
                         busy)  # fmt: skip

    def memory_background(self, busy: Callable[[], bool], idle_seconds: float = 5.0) -> Background:
        """A started thread that runs pending extraction jobs while the queue is free and
        `busy()` is false, on a sibling App of its own (closed when the thread ends)."""
        from utils.memory import Background, jobs_sql

        def make() -> tuple[Extractor, Callable[[], None]]:
            twin = self.sibling()
            now = twin.clock.now()
            jobs_sql.recover(twin.store(), now - STALE_JOB_SECONDS, now)  # a dead process's
            return twin.extractor(lambda: busy() or thread.stopping()), twin.close

        thread = Background(make, poll_seconds=self.settings.memory.poll_seconds,
                            idle_seconds=idle_seconds)  # fmt: skip
        thread.start()
        return thread

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        if self._turn_limit is not None:
            self._turn_limit.close()
            self._turn_limit = None
        if self._store is not None:
            self._store.close()
            self._store = None
