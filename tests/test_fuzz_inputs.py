"""Fuzzed flow files and config files (hypothesis), through the real command line in-process:
random bytes, NULs and control characters, bad UTF-8, and random structures of each schema.
Whatever the input, no traceback and no "internal error": a valid file passes, an invalid one
exits non-zero with one line per problem (`file:line: …` for flows, one `Error:` line for a
config). Kept fast: a few hundred examples in all, no example database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from main import cli
from nodes.registry import BUILTIN_TYPES

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# imports only of modules that do not exist or are harmless: a fuzzer must not run code
SAFE_IMPORTS = st.sampled_from(["no_such_module_zz", "nodes.base", "", "a.b.c", "1x"])
WORDS = st.sampled_from(["load", "call", "persist", "x", "node_1", "a-b", "", "yes", "null"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    WORDS,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)

NODE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from([*BUILTIN_TYPES, "Nope", "loadsession"]), SCALARS),
        "flow": st.one_of(st.sampled_from(["retrieve", "nope", "../x.yaml"]), SCALARS),
        "params": st.one_of(st.dictionaries(st.text(max_size=10), VALUES, max_size=4), VALUES),
        "retry": st.one_of(
            st.booleans(),
            st.dictionaries(
                st.sampled_from(["max_retries", "backoff", "jitter", "wait"]), SCALARS, max_size=3
            ),
            VALUES,
        ),
    },
)
EDGE = st.one_of(
    st.builds(
        lambda parts, actions: " >> ".join(
            f"{p} - {a}" if a else p for p, a in zip(parts, actions, strict=False)
        ),
        st.lists(WORDS, min_size=1, max_size=4),
        st.lists(st.sampled_from(["", "hit", "miss", "failed", "default"]), max_size=4),
    ),
    SCALARS,
)
FLOW = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=10), SCALARS),
        "description": SCALARS,
        "imports": st.one_of(st.lists(SAFE_IMPORTS, max_size=2), SCALARS),
        "start": st.one_of(WORDS, SCALARS),
        "nodes": st.one_of(st.dictionaries(WORDS, st.one_of(NODE, VALUES), max_size=5), VALUES),
        "edges": st.one_of(st.lists(EDGE, max_size=5), VALUES),
        "ends": st.one_of(st.lists(st.one_of(EDGE, WORDS), max_size=3), VALUES),
        "extra": VALUES,
    },
)

SETTINGS_SECTIONS = {
    "ollama": ["connect_timeout", "keep_alive", "auto_pull", "headers", "verify_tls"],
    "retry": ["max_retries", "backoff", "jitter"],
    "chat": ["window", "context_mode"],
    "cache": ["enabled", "ttl_seconds", "faq"],
    "queue": ["slots", "poll_seconds"],
    "archive": ["idle_days"],
    "disk": ["min_free_mb"],
    "log": ["level"],
    "rag": ["top_k", "chunk_size"],
}
SECTION = st.sampled_from(sorted(SETTINGS_SECTIONS)).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.one_of(
            st.dictionaries(
                st.sampled_from([*SETTINGS_SECTIONS[name], "nope"]), VALUES, max_size=3
            ),
            VALUES,
        ),
    )
)
CONFIG = st.one_of(
    st.lists(SECTION, max_size=4).map(dict),
    st.fixed_dictionaries(
        {},
        optional={
            "model": SCALARS,
            "flow": SCALARS,
            "imports": st.lists(SAFE_IMPORTS, max_size=2),
            "host": st.sampled_from(["http://127.0.0.1:9", "::::", "ftp://x", ""]),
            "modle": SCALARS,
        },
    ),
    VALUES,
)

GARBAGE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\x00\x07\x1b\x7f\ufeff\u2028:-[]{}>&*!|#'\"\n\t ")),
        st.characters(codec="utf-8"),
    ),
    max_size=80,
)


def dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, ValueError):
        return repr(data)


def mutate(text: str, noise: bytes, where: int) -> bytes:
    """`text` as UTF-8 with `noise` (possibly a NUL or bad UTF-8) spliced in."""
    raw = text.encode("utf-8")
    at = where % (len(raw) + 1)
    return raw[:at] + noise + raw[at:]


def invoke(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])


def clean(result: Result) -> str:
    out = result.output
    assert "Traceback" not in out and "internal error" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return out


def check_flow_file(tmp_path: Path, content: bytes, *extra: str) -> None:
    path = tmp_path / "fuzzed.yaml"
    path.write_bytes(content)
    result = invoke(tmp_path, "flow", "validate", *extra, str(path))
    out = clean(result)
    lines = out.strip().splitlines()
    if result.exit_code == 0:
        assert lines[-1].startswith(f"ok: {path}"), out
        return
    assert result.exit_code == 1, out
    assert lines and all(line.startswith(str(path)) for line in lines), out


@FUZZ
@given(noise=st.binary(max_size=6), where=st.integers(0, 400), data=FLOW)
def test_fuzzed_flow_structures(tmp_path: Path, noise: bytes, where: int, data: Any) -> None:
    text = dump(data)
    check_flow_file(tmp_path, text.encode("utf-8"))  # safe imports only: may run
    check_flow_file(tmp_path, mutate(text, noise, where), "--no-imports")


@FUZZ
@given(content=st.one_of(st.binary(max_size=120), GARBAGE_TEXT.map(lambda t: t.encode())))
def test_fuzzed_flow_bytes_and_text(tmp_path: Path, content: bytes) -> None:
    check_flow_file(tmp_path, content, "--no-imports")


def check_config(tmp_path: Path, content: bytes) -> None:
    config = tmp_path / "fuzzed-config.yaml"
    config.write_bytes(content)
    result = invoke(tmp_path, "--config", str(config), "sessions", "list")
    out = clean(result)
    if result.exit_code == 0:
        return
    assert result.exit_code in (1, 2), out
    errors = [line for line in out.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and len(out.strip().splitlines()) == 1, out


@FUZZ
@given(data=CONFIG, noise=st.binary(max_size=4), where=st.integers(0, 300))
def test_fuzzed_config_files(tmp_path: Path, data: Any, noise: bytes, where: int) -> None:
    text = dump(data)
    check_config(tmp_path, text.encode("utf-8"))
    check_config(tmp_path, mutate(text, noise, where))


@FUZZ
@given(content=st.one_of(st.binary(max_size=100), GARBAGE_TEXT.map(lambda t: t.encode())))
def test_fuzzed_config_bytes(tmp_path: Path, content: bytes) -> None:
    check_config(tmp_path, content)


@pytest.mark.parametrize(
    "content",
    [b"a: b\x00", b"\xff\xfe\x00", b"chat:\n  window: .nan\n", b"archive: {idle_days: .inf}\n"],
)
def test_known_bad_configs_are_one_line_exit_2(tmp_path: Path, content: bytes) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(content)
    result = invoke(tmp_path, "--config", str(config), "sessions", "list")
    assert result.exit_code == 2
    assert clean(result).strip().splitlines()[0].startswith(f"Error: {config}")
