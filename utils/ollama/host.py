"""Where Ollama is: parse the configured host the way the `ollama` client does, add the
Docker fallback, pick the first that answers, and show hosts without credentials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import structlog

log = structlog.get_logger()

DEFAULT_PORT = 11434
LOCAL = f"http://127.0.0.1:{DEFAULT_PORT}"
DOCKER_HOST = f"http://host.docker.internal:{DEFAULT_PORT}"


def normalise_host(raw: str) -> str:
    """The `ollama` client's rules: `":56789"` -> `http://127.0.0.1:56789`; a bare host gets
    :11434 and http; an explicit `http://`/`https://` without a port gets 80/443.

    Credentials in the URL (`https://user:pw@proxy`) are kept; see `split_credentials`.
    """
    text = raw.strip()
    if not text:
        return LOCAL
    scheme, _, rest = text.rpartition("://")
    scheme = (scheme or "http").lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"Ollama host must use http or https, got '{display_host(raw)}'.")
    explicit = "://" in text
    default_port = {"http": 80, "https": 443}[scheme] if explicit else DEFAULT_PORT
    split = urlsplit(f"{scheme}://{rest}")
    hostname = split.hostname or "127.0.0.1"
    try:
        port = split.port or default_port
    except ValueError as exc:
        raise ValueError(f"Ollama host has a bad port: '{display_host(raw)}'.") from exc
    if ":" in hostname:  # IPv6
        hostname = f"[{hostname}]"
    userinfo = ""
    if split.username is not None:
        userinfo = split.username + (f":{split.password}" if split.password is not None else "")
        userinfo += "@"
    path = split.path.rstrip("/")
    return urlunsplit((scheme, f"{userinfo}{hostname}:{port}", path, "", ""))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without userinfo, and (user, password) if it had any."""
    split = urlsplit(url)
    if split.username is None:
        return url, None
    return display_host(url), (split.username, split.password or "")


def display_host(url: str) -> str:
    """The URL with any `user:password@` removed, safe for logs and error lines."""
    split = urlsplit(url if "://" in url else f"http://{url}")
    if "@" not in split.netloc:
        return url
    netloc = split.netloc.rpartition("@")[2]
    return urlunsplit((split.scheme, netloc, split.path, split.query, ""))


def in_docker(root: Path = Path("/")) -> bool:
    """True inside a container (/.dockerenv exists, or PID 1's cgroup names docker)."""
    if (root / ".dockerenv").exists():
        return True
    try:
        cgroup = (root / "proc/1/cgroup").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(word in cgroup for word in ("docker", "containerd", "kubepods"))


def resolve_host(
    configured: str | None, env: Mapping[str, str], in_container: bool | None = None
) -> list[str]:
    """The hosts to try, in order: the configured one, else OLLAMA_HOST, else localhost and,
    inside a container, `host.docker.internal` after it."""
    explicit = configured or env.get("OLLAMA_HOST")
    if explicit:
        return [normalise_host(explicit)]
    container = in_docker() if in_container is None else in_container
    return [LOCAL, DOCKER_HOST] if container else [LOCAL]


def pick_reachable(
    candidates: Sequence[str],
    *,
    timeout: float = 0.5,
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
) -> str:
    """The first candidate answering GET / ; the first candidate if none does (so the error
    the person sees names the host they expect)."""
    if not candidates:
        raise ValueError("no Ollama host to try")
    for url in candidates:
        bare, creds = split_credentials(url)
        try:
            with httpx.Client(timeout=timeout, headers=dict(headers or {}), verify=verify) as c:
                response = c.get(f"{bare}/", auth=creds if creds else None)
            if response.status_code < 500:
                log.debug("ollama_host_picked", host=display_host(url))
                return url
        except httpx.HTTPError as exc:
            log.debug("ollama_host_unreachable", host=display_host(url), error=type(exc).__name__)
    return candidates[0]
