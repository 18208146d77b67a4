"""A light start: a chat turn imports only the node types its flow names, and nothing from RAG.

The registry's name -> module map is checked against what the node modules really define, and
a real `ask` process (against the stand-in) reports what it imported.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import nodes
from flows.source import _parse
from nodes.registry import BUILTIN_TYPES, builtin_registry, node_classes
from tests.standin import StandIn
from utils.yaml_text import FastLoader, SafeLoader, safe_load

ROOT = Path(__file__).resolve().parent.parent
NOT_TYPES = {"nodes.base"}  # PocketNode: the base class the built-ins share, not a type to name
HEAVY = ("numpy", "pypdf", "nodes.retrieve", "nodes.embed_query", "nodes.load_documents",
         "utils.rag.vector_index", "prometheus_client")  # fmt: skip

# Runs the CLI in this process, then prints which of the modules named in argv[1] it imported.
PROBE = """
import json, runpy, sys
watch = json.loads(sys.argv[1])
sys.argv = ["main.py", *sys.argv[2:]]
try:
    runpy.run_path("main.py", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print("\\nPROBE " + json.dumps({"code": code, "loaded": [m for m in watch if m in sys.modules]}))
"""


def test_the_builtin_map_is_what_the_node_modules_define() -> None:
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(nodes.__path__):
        dotted = f"nodes.{info.name}"
        if dotted not in NOT_TYPES:
            for name in node_classes(importlib.import_module(dotted)):
                defined[name] = dotted
    assert defined == BUILTIN_TYPES


def test_every_builtin_name_resolves_to_its_class() -> None:
    registry = builtin_registry()
    for name, dotted in BUILTIN_TYPES.items():
        cls = registry.get(name)
        assert cls is not None and cls.__name__ == name and cls.__module__ == dotted
        assert registry.origin(name) == dotted


def test_a_person_s_class_keeps_its_name_over_a_builtin() -> None:
    import types

    from nodes.base import PocketNode

    mine = types.ModuleType("my_nodes")
    own = type("StreamReply", (PocketNode,), {"__module__": "my_nodes"})
    mine.StreamReply = own  # type: ignore[attr-defined]
    registry = builtin_registry()
    assert registry.add_module(mine) == ["StreamReply"]
    assert registry.get("CallOllama") is not None  # nodes.call_ollama loaded after: no override
    assert registry.get("StreamReply") is own and registry.origin("StreamReply") == "my_nodes"


def _probe(args: list[str], env: dict[str, str], watch: tuple[str, ...]) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(watch)), *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("PROBE "), result.stdout + result.stderr
    found: dict[str, object] = json.loads(line.removeprefix("PROBE "))
    return found


def test_an_ask_imports_nothing_from_rag(tmp_path: Path, standin: StandIn) -> None:
    env = {**os.environ, "OLLAMA_HOST": standin.url, "POCKETCHAT_DATA_DIR": str(tmp_path)}
    watch = (*HEAVY, "nodes.call_ollama", "nodes.stream_reply")
    found = _probe(["ask", "hi"], env, watch)
    assert found == {"code": 0, "loaded": ["nodes.call_ollama", "nodes.stream_reply"]}


def test_flow_validate_still_knows_every_type(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("start: r\nnodes:\n  r: {type: Retreive}\n")
    env = {**os.environ, "POCKETCHAT_DATA_DIR": str(tmp_path / "d")}
    found = _probe(["flow", "validate", str(bad)], env, HEAVY)
    assert found == {"code": 1, "loaded": []}  # the suggestion needs the name, not the module
    out = subprocess.run(
        [sys.executable, "main.py", "flow", "validate", str(bad)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    ).stdout  # fmt: skip
    assert "unknown node type 'Retreive'" in out and "Retrieve" in out


@pytest.mark.parametrize("path", sorted((ROOT / "flows").glob("*.yaml")), ids=lambda p: p.name)
def test_libyaml_reads_a_flow_as_the_python_parser_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast, slow = _parse(text, path.name, FastLoader), _parse(text, path.name, SafeLoader)
    assert (fast.data, fast.lines, fast.duplicates) == (slow.data, slow.lines, slow.duplicates)
    assert fast.lines  # lines were recorded at all


def test_a_yaml_mistake_reads_the_same_with_libyaml() -> None:
    import yaml

    with pytest.raises(yaml.YAMLError) as raised:
        safe_load("model: [a\n")
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load("model: [a\n")
    assert str(raised.value) == str(expected.value)
