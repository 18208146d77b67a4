"""Model quirks from `config/models.yaml`: how a family takes its system prompt, default
temperature and stop tokens, a note for `/show`. Checked at load with one clear line."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from utils.yaml_text import safe_load

QUIRKS_FILE = Path(__file__).resolve().parents[2] / "config" / "models.yaml"
SYSTEM_ROLES = ("system", "prepend_to_first_user")
_KEYS = {"name", "match", "families", "system_role", "temperature", "stop", "chat", "note"}


class QuirksError(ValueError):
    """config/models.yaml is wrong; the message is one line naming the entry and key."""


@dataclass(frozen=True)
class Quirks:
    name: str = "default"
    match: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    system_role: str = "system"
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    chat: bool = True
    note: str = ""


DEFAULT = Quirks()


def load_quirks(path: Path = QUIRKS_FILE) -> tuple[Quirks, ...]:
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QuirksError(f"{path}: cannot read model quirks ({exc}).".replace("\n", " ")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("families"), list):
        raise QuirksError(f"{path}: expected a 'families:' list.")
    return tuple(_entry(path, i, e) for i, e in enumerate(data["families"]))


def _entry(path: Path, index: int, raw: Any) -> Quirks:
    where = f"{path}: families[{index}]"
    if not isinstance(raw, dict):
        raise QuirksError(f"{where} must be a mapping.")
    where = f"{path}: family '{raw.get('name', index)}'"
    unknown = set(raw) - _KEYS
    if unknown:
        raise QuirksError(f"{where}: unknown key '{sorted(unknown)[0]}'.")
    if not isinstance(raw.get("name"), str):
        raise QuirksError(f"{where}: 'name' must be text.")
    for key in ("match", "families", "stop"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise QuirksError(f"{where}: '{key}' must be a list of texts, got {value!r}.")
    role = raw.get("system_role", "system")
    if role not in SYSTEM_ROLES:
        raise QuirksError(f"{where}: 'system_role' must be one of {SYSTEM_ROLES}, got {role!r}.")
    temp = raw.get("temperature")
    if temp is not None and (isinstance(temp, bool) or not isinstance(temp, int | float)):
        raise QuirksError(f"{where}: 'temperature' must be a number or null, got {temp!r}.")
    if not isinstance(raw.get("chat", True), bool) or not isinstance(raw.get("note", ""), str):
        raise QuirksError(f"{where}: 'chat' must be true/false and 'note' text.")
    return Quirks(
        name=raw["name"],
        match=tuple(m.lower() for m in raw.get("match", [])),
        families=tuple(f.lower() for f in raw.get("families", [])),
        system_role=role,
        temperature=float(temp) if temp is not None else None,
        stop=tuple(raw.get("stop", [])),
        chat=raw.get("chat", True),
        note=raw.get("note", ""),
    )


@functools.cache
def _default_table() -> tuple[Quirks, ...]:
    return load_quirks()


def quirks_for(
    model_name: str, family: str | None = None, table: Sequence[Quirks] | None = None
) -> Quirks:
    """The first entry whose name prefix matches the model (namespace dropped), else the
    first whose families include `family`, else `DEFAULT`."""
    entries = _default_table() if table is None else table
    base = model_name.lower().rsplit("/", 1)[-1]
    for q in entries:
        if any(base.startswith(prefix) for prefix in q.match):
            return q
    if family:
        for q in entries:
            if family.lower() in q.families:
                return q
    return DEFAULT


def apply_quirks(
    messages: Sequence[Mapping[str, Any]],
    options: Mapping[str, object],
    quirks: Quirks,
    overrides: Mapping[str, object] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, object]]:
    """New messages and options: quirk defaults, then `options`, then session `overrides`.
    With `prepend_to_first_user`, system messages are folded into the first user message."""
    merged: dict[str, object] = {}
    if quirks.temperature is not None:
        merged["temperature"] = quirks.temperature
    if quirks.stop:
        merged["stop"] = list(quirks.stop)
    merged.update(options)
    merged.update(overrides or {})
    out = [dict(m) for m in messages]
    if quirks.system_role == "prepend_to_first_user":
        system = "\n\n".join(m["content"] for m in out if m.get("role") == "system")
        out = [m for m in out if m.get("role") != "system"]
        first_user = next((m for m in out if m.get("role") == "user"), None)
        if system and first_user is not None:
            first_user["content"] = f"{system}\n\n{first_user['content']}"
        elif system:
            out.insert(0, {"role": "user", "content": system})
    return out, merged
