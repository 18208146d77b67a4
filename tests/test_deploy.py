"""deploy/compose.yaml agrees with pocketchat: the environment and config file it gives the
replicas load through the real settings (store in Postgres, queue in Redis, every Ollama host
with `slots` equal to that host's OLLAMA_NUM_PARALLEL), the load balancer points at the
replicas' port, and the image copies every package pocketchat installs."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from config.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def _replicas(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in compose["services"].items() if k.startswith("serve-")}


def _env(service: dict[str, Any]) -> dict[str, str]:
    """The service's environment with `${VAR:?…}` filled in, as compose would."""
    filled = {}
    for key, value in service["environment"].items():
        text = re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", r"${\1}", str(value))
        filled[key] = string.Template(text).substitute(POSTGRES_PASSWORD="secret")
    return filled


def test_two_replicas_share_one_postgres_and_one_redis() -> None:
    compose = _compose()
    replicas = _replicas(compose)
    assert len(replicas) >= 2
    urls = {(e["POCKETCHAT_STORE_URL"], e["POCKETCHAT_QUEUE_URL"])
            for e in map(_env, replicas.values())}  # fmt: skip
    assert len(urls) == 1
    store, queue = urls.pop()
    assert urlsplit(store).hostname == "postgres" and store.startswith("postgresql://")
    assert urlsplit(queue).hostname == "redis" and queue.startswith("redis://")
    assert "pgvector" in compose["services"]["postgres"]["image"]
    for service in replicas.values():
        assert {"postgres", "redis"} <= set(service["depends_on"])


def test_the_replicas_settings_load_and_each_hosts_slots_match_its_server(
    tmp_path: Path,
) -> None:
    compose = _compose()
    service = next(iter(_replicas(compose).values()))
    env = _env(service)
    config = DEPLOY / "config.yaml"
    mounted = [v.split(":") for v in service["volumes"]]
    assert [str(DEPLOY / src.removeprefix("./")) for src, dst, *_ in mounted
            if dst == env["POCKETCHAT_CONFIG"]] == [str(config)]  # fmt: skip
    settings = load_settings(env={**env, "POCKETCHAT_CONFIG": str(config), "HOME": str(tmp_path)})
    assert settings.store.url == env["POCKETCHAT_STORE_URL"]
    assert settings.queue.url == env["POCKETCHAT_QUEUE_URL"]
    hosts = settings.ollama.hosts
    assert len(hosts) >= 2
    for host in hosts:
        name = urlsplit(host["url"]).hostname
        server = compose["services"][name]
        assert int(server["environment"]["OLLAMA_NUM_PARALLEL"]) == host["slots"], name


def test_the_load_balancer_reaches_every_replica_on_its_port() -> None:
    compose = _compose()
    replicas = _replicas(compose)
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    targets = re.search(r"reverse_proxy ([^{]+)\{", caddy)
    assert targets is not None
    for name, service in replicas.items():
        command = service["command"]
        port = command[command.index("--port") + 1]
        assert f"{name}:{port}" in targets.group(1).split()
    assert "flush_interval -1" in caddy  # server-sent events pass through unbuffered


def test_the_image_copies_every_package_pocketchat_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tops = {p.split(".")[0] for p in project["tool"]["setuptools"]["packages"]}
    tops |= {f"{m}.py" for m in project["tool"]["setuptools"]["py-modules"]}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert tops <= copied, tops - copied


def test_every_package_is_installed() -> None:
    """pyproject's `packages` lists every package of the product (a missing one works in the
    editable dev install and breaks `pip install .`, the image and a person's install)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(project["tool"]["setuptools"]["packages"])
    tops = {p.split(".")[0] for p in listed}
    found = {".".join(init.parent.relative_to(ROOT).parts)
             for top in tops for init in (ROOT / top).rglob("__init__.py")}  # fmt: skip
    assert found == listed, (found - listed, listed - found)
