"""Settings: config/default.yaml, then a user file, then the environment, then flags.

Every layer is checked against the frozen dataclasses below: an unknown key, a wrong type or
invalid YAML raises `SettingsError`, whose message names the file, the key and what was
expected. Every layer is checked before it raises: `problems` lists each problem once (the
message is the first, with how many more; `doctor` prints them all). The CLI turns it into one
line and exit status 2.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.typecheck import describe, fits

DEFAULT_FILE = Path(__file__).with_name("default.yaml")
DEFAULT_HOST = "http://127.0.0.1:11434"


class SettingsError(Exception):
    """A setting is unreadable or wrong; the message is one line for the person, `problems`
    every problem found (one line each)."""

    def __init__(self, line: str, problems: list[str] | None = None) -> None:
        super().__init__(line)
        self.problems = problems or [line]

    @classmethod
    def of(cls, problems: list[str]) -> SettingsError:
        more = len(problems) - 1
        tail = f" (and {more} more: `pocketchat doctor` lists them all)" if more else ""
        return cls(problems[0] + tail, problems)


@dataclass(frozen=True)
class OllamaSettings:
    connect_timeout: float = 5.0
    first_byte_timeout: float = 300.0
    chunk_timeout: float = 60.0
    keep_alive: str = "30m"
    auto_pull: str = "auto"
    headers: dict[str, str] = field(default_factory=dict)
    verify_tls: bool = True
    docker_fallback: bool = True
    hosts: list[dict[str, Any]] = field(default_factory=list)  # [{url, slots, models?}]
    cooldown_seconds: float = 1.0  # a failing host's first cooldown; doubles per failure
    cooldown_max_seconds: float = 60.0  # the longest cooldown


@dataclass(frozen=True)
class RetrySettings:
    max_retries: int = 4
    backoff: float = 1.0
    jitter: float = 0.1


@dataclass(frozen=True)
class ChatSettings:
    window: int = 40
    stream_min_chars: int = 50
    stream_max_delay_ms: int = 100
    context_mode: str = "shared"


@dataclass(frozen=True)
class ContextSettings:
    reply_reserve: int = 512
    default_num_ctx: int = 4096
    summary: bool = True
    summary_max_tokens: int = 200
    summary_batch: int = 6


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = True
    ttl_seconds: float = 86400.0
    max_entries: int = 1000
    faq: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSettings:
    slots: int = 1
    heartbeat_seconds: float = 1.0
    ticket_ttl_seconds: float = 10.0
    poll_seconds: float = 0.05
    enabled: bool = True
    url: str | None = None  # redis://… or unix://…: queue (RedisGate), rate limit, replicas


@dataclass(frozen=True)
class RateLimitSettings:
    turns_per_minute: int = 0  # off for the local CLI; serve mode turns it on


@dataclass(frozen=True)
class ArchiveSettings:
    idle_days: float = 30.0
    lease_seconds: float = 60.0


@dataclass(frozen=True)
class ServeSettings:
    """`pocketchat serve` (docs/serve.md)."""

    max_queue: int = 100  # runs waiting at once; one more is refused with 503
    drain_seconds: float = 10.0  # on SIGTERM, how long running replies may finish
    on_disconnect: str = "continue"  # continue | cancel: a reply whose client left
    turns_per_minute: int = 30  # per session, unless rate_limit.turns_per_minute is set
    ping_seconds: float = 15.0  # an SSE comment this often keeps proxies from closing
    cors_origins: list[str] = field(default_factory=list)  # empty = CORS off
    events_keep_seconds: float = 3600.0  # a finished run's event log is kept this long
    sweep_seconds: float = 60.0  # how often the server removes the logs kept long enough


@dataclass(frozen=True)
class DiskSettings:
    min_free_mb: float = 100.0


@dataclass(frozen=True)
class StoreSettings:
    url: str | None = None  # postgresql://…: conversations in Postgres; None: SQLite in data_dir
    pool_size: int = 8  # connections per process (Postgres)
    vectors: bool = True  # use pgvector (HNSW) for RAG when the server has it (Postgres)


@dataclass(frozen=True)
class LogSettings:
    level: str = "warning"


@dataclass(frozen=True)
class RagSettings:
    embed_model: str = "nomic-embed-text"
    chunk_size: int = 800
    chunk_overlap: int = 100
    top_k: int = 4
    chunk_boundary: str = "paragraph"
    embed_batch: int = 32
    max_files: int = 500
    max_bytes: int = 50_000_000
    hybrid: bool = False


@dataclass(frozen=True)
class MemorySettings:
    """Long-term memory across conversations (docs/memory.md); off by default."""

    enabled: bool = False  # true: chat, ask and serve use `flow` (recall + extraction)
    flow: str = "chat_memory"  # the turn flow used while memory is on (and `flow` is `chat`)
    embed_model: str = "nomic-embed-text"  # embeds facts and the person's message
    extract_model: str | None = None  # the model that extracts facts; None = the turn's model
    top_k: int = 5  # memories recalled per turn, at most
    min_similarity: float = 0.0  # a memory less similar to the message is not recalled
    recency_weight: float = 0.1  # added to the cosine for a memory stated just now
    recency_half_life_days: float = 30.0  # ...and half of it for one stated this long ago
    dedup_similarity: float = 0.9  # a fact this similar to a memory updates it (no second one)
    max_facts: int = 10  # facts kept from one turn, at most
    ask_wait_seconds: float = 30.0  # `ask` waits this long for its extraction, else leaves it
    poll_seconds: float = 0.05  # how often waiting extraction checks the queue is free


@dataclass(frozen=True)
class Settings:
    model: str = "llama3.2:1b"
    host: str | None = None
    data_dir: str | None = None
    flow: str = "chat"
    imports: list[str] = field(default_factory=list)
    flows_path: list[str] = field(default_factory=list)  # [] = <config dir>/flows
    ollama: OllamaSettings = field(default_factory=OllamaSettings)
    retry: RetrySettings = field(default_factory=RetrySettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    disk: DiskSettings = field(default_factory=DiskSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    log: LogSettings = field(default_factory=LogSettings)
    rag: RagSettings = field(default_factory=RagSettings)
    memory: MemorySettings = field(default_factory=MemorySettings)
    sources: tuple[str, ...] = ()  # the files and layers that made these settings

    @property
    def turn_flow(self) -> str:
        """The turn flow in effect: `memory.flow` while memory is on and `flow` is the default
        `chat` (a flow of the person's own is theirs to give the memory nodes)."""
        if self.memory.enabled and self.flow == "chat":
            return self.memory.flow
        return self.flow

    @property
    def ollama_host(self) -> str:
        """The Ollama URL in effect (explicit host, else the default)."""
        return self.host or DEFAULT_HOST

    @property
    def data_path(self) -> Path:
        """The data directory (not created here; see `utils.paths.ensure_data_dir`)."""
        if self.data_dir:
            return Path(self.data_dir).expanduser()
        xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(xdg) / "pocketchat"

    @property
    def flows_folders(self) -> list[Path]:
        """Folders of a person's flows, searched after the built-in ones: `flows_path`, else
        `$XDG_CONFIG_HOME/pocketchat/flows` (~/.config/pocketchat/flows)."""
        if self.flows_path:
            return [Path(p).expanduser() for p in self.flows_path]
        xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return [Path(xdg) / "pocketchat" / "flows"]

    @property
    def db_path(self) -> Path:
        return self.data_path / "pocketchat.db"


def load_settings(
    user_file: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the layers in order and return frozen settings (raises `SettingsError`)."""
    env = os.environ if env is None else env
    merged: dict[str, Any] = {}
    sources: list[str] = []
    problems: list[str] = []

    def add(layer: Mapping[str, Any], origin: str) -> None:
        problems.extend(_check(Settings, layer, origin, ""))
        _deep_update(merged, layer)

    for path in (DEFAULT_FILE, user_file or env.get("POCKETCHAT_CONFIG")):
        if not path:
            continue
        try:
            add(_read_yaml(Path(path)), str(path))
        except SettingsError as exc:
            problems.append(str(exc))
        sources.append(str(path))
    env_layer: dict[str, Any] = {}
    if env.get("OLLAMA_HOST"):
        env_layer["host"] = env["OLLAMA_HOST"]
    if env.get("POCKETCHAT_DATA_DIR"):
        env_layer["data_dir"] = env["POCKETCHAT_DATA_DIR"]
    if env.get("POCKETCHAT_STORE_URL"):
        env_layer["store"] = {"url": env["POCKETCHAT_STORE_URL"]}
    if env.get("POCKETCHAT_MODEL"):
        env_layer["model"] = env["POCKETCHAT_MODEL"]
    if env.get("POCKETCHAT_FLOWS"):  # folders, separated like PATH
        env_layer["flows_path"] = [p for p in env["POCKETCHAT_FLOWS"].split(os.pathsep) if p]
    if env.get("POCKETCHAT_QUEUE_URL"):
        env_layer["queue"] = {"url": env["POCKETCHAT_QUEUE_URL"]}
    if env_layer:
        add(env_layer, "environment")
        sources.append("environment")
    if overrides:
        flags = {k: v for k, v in overrides.items() if v is not None}
        add(_unflatten(flags), "command line")
        sources.append("command line")
    if problems:
        raise SettingsError.of(problems)
    merged["sources"] = tuple(sources)
    return typing.cast(Settings, _build(Settings, merged, "settings", ""))


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    from utils.yaml_text import safe_load

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file ({exc.strerror}).") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SettingsError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8."
        ) from exc
    try:
        data = safe_load(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        code = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise SettingsError(
            f"{path}: line {line} invalid YAML: the character {code} is not allowed; remove it."
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise SettingsError(f"{path}:{where} invalid YAML: {problem}.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of settings, got {type(data).__name__}.")
    return data


def _unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"ollama.keep_alive": "5m"}` -> `{"ollama": {"keep_alive": "5m"}}`."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return out


def _merge(into: dict[str, Any], layer: Mapping[str, Any], origin: str) -> None:
    """Deep-merge `layer`, checking keys and types against `Settings` first."""
    problems = _check(Settings, layer, origin, "")
    if problems:
        raise SettingsError.of(problems)
    _deep_update(into, layer)


def _deep_update(into: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if (
            isinstance(value, Mapping)
            and isinstance(into.get(key), dict)
            and key
            not in (
                "headers",
                "faq",
            )
        ):
            _deep_update(into[key], value)
        else:
            into[key] = value


def _check(cls: type[Any], data: Mapping[str, Any], origin: str, prefix: str) -> list[str]:
    """Every problem of `data` against `cls`, one line each, in the file's order."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "sources"}
    problems: list[str] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            import difflib

            near = difflib.get_close_matches(str(key), sorted(names), n=1)
            hint = f" (did you mean '{prefix}{near[0]}'?)" if near else ""
            problems.append(f"{origin}: unknown setting '{dotted}'{hint}.")
            continue
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, Mapping):
                problems.append(
                    f"{origin}: '{dotted}' must be a mapping of settings, got {value!r}."
                )
                continue
            problems += _check(typing.cast(type[Any], hint), value, origin, f"{dotted}.")
        elif not fits(hint, value):
            problems.append(f"{origin}: '{dotted}' must be {describe(hint)}, got {value!r}.")
        elif dotted == "ollama.hosts":  # each entry: url, slots, models
            problems += _host_problems(value, origin)
    return problems


def _host_problems(hosts: list[dict[str, Any]], origin: str) -> list[str]:
    """What is wrong with the entries of `ollama.hosts` (the URLs are parsed when used)."""
    problems: list[str] = []
    for n, entry in enumerate(hosts):
        where = f"{origin}: 'ollama.hosts[{n}]'"
        unknown = sorted(str(k) for k in entry if k not in ("url", "slots", "models"))
        if unknown:
            problems.append(f"{where}: unknown key '{unknown[0]}' (known: url, slots, models).")
        url = entry.get("url")
        if not isinstance(url, str) or not url.strip():
            problems.append(f"{where}: 'url' must be an Ollama URL such as http://gpu1:11434.")
        slots = entry.get("slots", 1)
        if not fits(int, slots) or slots < 1:
            problems.append(
                f"{where}: 'slots' must be a whole number of at least 1, got {slots!r}."
            )
        models = entry.get("models")
        if models is not None and not (fits(list[str], models) and all(models)):
            problems.append(f"{where}: 'models' must be a list of model names, got {models!r}.")
    return problems


def _build(cls: type[Any], data: Mapping[str, Any], origin: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            value = _build(typing.cast(type[Any], hint), value, origin, f"{prefix}{f.name}.")
        elif hint is float and isinstance(value, int):
            value = float(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def with_changes(settings: Settings, **flat: Any) -> Settings:
    """A copy with dotted keys replaced (`with_changes(s, **{"chat.window": 10})`)."""
    data = dataclasses.asdict(settings)
    _merge(data, _unflatten(flat), "command line")
    return typing.cast(Settings, _build(Settings, data, "settings", ""))
