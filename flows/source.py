"""Reading a flow file: safe YAML with the line of every key and list item.

`yaml.safe_load` forgets where things were; this composes the node tree with the safe loader and
converts it itself, so that each mapping key and sequence item keeps its line, and duplicate keys
(which `safe_load` silently merges) are reported instead of lost. Keys are kept as the text
written: `yes:` is the node id "yes", not the boolean true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from utils.yaml_text import FastLoader, SafeLoader

Path_ = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed flow file: plain data plus where each piece came from."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)

    def line(self, *path: str | int) -> int | None:
        """The line of the deepest known prefix of `path` (1-based)."""
        key: Path_ = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)


class YamlProblem(Exception):
    """Invalid YAML; `line` is 1-based or None."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def parse_source(text: str, file: str) -> Source:
    """Parse `text` as YAML (safe tags only); raises `YamlProblem`.

    libyaml parses when it can; what it refuses is parsed again by the pure-Python loader, so a
    mistake is reported the same way with or without it (see utils/yaml_text.py)."""
    try:
        return _parse(text, file, FastLoader)
    except YamlProblem:
        return _parse(text, file, SafeLoader)


def _parse(text: str, file: str, loader_class: Any) -> Source:
    try:
        loader = loader_class(text)  # the reader refuses NUL and other non-printable characters
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from exc
    try:
        root = loader.get_single_node()
        source = Source(file=file, data=None)
        if root is not None:
            source.lines[()] = root.start_mark.line + 1
            source.data = _convert(loader, root, (), source)
        return source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlProblem(f"invalid YAML: {exc.problem or exc.context}", line) from exc
    except yaml.reader.ReaderError as exc:
        raise _reader_problem(text, exc) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", None) from exc
    finally:
        loader.dispose()


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """A character YAML does not allow (NUL, other control characters), with its line."""
    line = text[: exc.position].count("\n") + 1 if isinstance(exc.position, int) else None
    char = exc.character
    code = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    return YamlProblem(
        f"invalid YAML: the character {code} is not allowed in YAML; remove it", line
    )


def _convert(loader: Any, node: yaml.Node, path: Path_, source: Source) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            # keys are text as written: a node may be called `yes`, `no` or `on` (YAML 1.1 bools)
            key = (
                key_node.value
                if isinstance(key_node, yaml.ScalarNode)
                else str(loader.construct_object(key_node, deep=True))
            )
            line = key_node.start_mark.line + 1
            sub = (*path, key)
            if key in out:
                source.duplicates.append((sub, line))
                continue
            source.lines[sub] = line
            out[key] = _convert(loader, value_node, sub, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            sub = (*path, index)
            source.lines[sub] = item.start_mark.line + 1
            items.append(_convert(loader, item, sub, source))
        return items
    return loader.construct_object(node, deep=True)
