"""A real `pocketchat serve` process for tests: uvicorn on an ephemeral loopback port, the
stand-in behind it, its own data dir; stopped (SIGTERM, then kill) when the test ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"https?://127\.0\.0\.1:(\d+)")


class Server:
    def __init__(self, proc: subprocess.Popen[str], url: str, data: Path, log: Path) -> None:
        self.proc, self.url, self.data, self.log = proc, url, data, log

    def pocketchat(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another pocketchat process on the same data dir (e.g. `keys create`)."""
        return pocketchat(self.data, *args)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def isolated(data: Path) -> dict[str, str]:
    """The environment with HOME and the XDG dirs under `data` and no Ollama/pocketchat vars
    (a module-scoped server starts before the per-test isolation applies)."""
    env = {k: v for k, v in os.environ.items()
           if k != "OLLAMA_HOST" and not k.startswith("POCKETCHAT_")}  # fmt: skip
    home = data / "home"
    for sub in (".local/share", ".config"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CONFIG_HOME=str(home / ".config"))  # fmt: skip
    return env


def pocketchat(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A pocketchat command on `data` (e.g. `keys create` before the server starts)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=isolated(data),
    )  # fmt: skip


@contextmanager
def serving(
    data: Path, ollama: str | None, *args: str, config: str | None = None, name: str = "serve"
) -> Iterator[Server]:
    """`pocketchat serve --port 0`, up and answering /healthz (its output in `data/{name}.out`:
    replicas sharing a data dir get a name each). `ollama` None: no `--host`, the config's
    hosts (`ollama.hosts`) are used."""
    data.mkdir(parents=True, exist_ok=True)
    extra: list[str] = []
    if config is not None:
        (data / "config.yaml").write_text(config)
        extra = ["--config", str(data / "config.yaml")]
    log = data / f"{name}.out"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), *extra, "--data-dir", str(data),
             *(["--host", ollama] if ollama else []), "serve", "--port", "0", *args],
            stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=isolated(data),
        )  # fmt: skip
    try:
        url = _wait_up(proc, log)
        yield Server(proc, url, data, log)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _wait_up(proc: subprocess.Popen[str], log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}: {log.read_text()}")
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            url = f"http://127.0.0.1:{found.group(1)}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"serve did not come up: {log.read_text()}")
