"""Safe, strict YAML reading for catalogue files.

PyYAML's safe loader still accepts things a hand-written catalogue never needs and a hostile pull
request could abuse: anchors and aliases (billion-laughs bombs), duplicate keys (silently keeps the
last one), arbitrary tags, a BOM, NUL bytes, tabs. We compose the document into nodes with the C
parser when available (fast), then build plain Python values ourselves so that every key keeps its
line number for error messages and every rule above is enforced in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the C parser is ~10x faster; fall back to pure Python where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader

MAX_BYTES = 64 * 1024  # a paper record is ~2 KB; anything near this limit is not a hand-written record
MAX_DEPTH = 8  # deepest legitimate structure is a mapping inside a list inside a mapping
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:timestamp",
}
# Cheap pre-check: only documents containing these characters can hold anchors or aliases, so only
# those pay for the slower event-level scan.
_MAYBE_ANCHOR = re.compile(r"[&*]")


class YamlError(Exception):
    """A problem that stops a file from being read at all; `line` is 1-based (0 = whole file)."""

    def __init__(self, message: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Document:
    """A parsed YAML file: its plain value and the line of every key path (for error messages)."""

    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, loc: tuple) -> int:
        """Line of the deepest known prefix of `loc` (pydantic error locations can be deeper)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1


def read_text(path: Path) -> str:
    """Read a catalogue file as UTF-8 text, refusing encodings and bytes YAML editors hide."""
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise YamlError(f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,}: split or shorten it")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlError("file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM", 1)
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise YamlError("file contains a NUL byte; remove it", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlError(f"file is not valid UTF-8 (byte {exc.start}); save it as UTF-8", line) from None
    if "\t" in text:
        line = text[: text.index("\t")].count("\n") + 1
        raise YamlError("tab character; indent with spaces and write no tabs in values", line)
    return text


def parse(text: str) -> Document:
    """Parse one YAML document into plain values, refusing anchors, aliases, odd tags, duplicate keys."""
    if _MAYBE_ANCHOR.search(text):
        _refuse_anchors(text)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:
        raise YamlError("YAML nesting is too deep") from None
    doc = Document(data=None)
    if node is not None:
        doc.data = _build(node, (), doc.lines, 0)
    return doc


def load(path: Path) -> Document:
    """read_text + parse."""
    return parse(read_text(path))


def _refuse_anchors(text: str) -> None:
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                raise YamlError("YAML aliases (*name) are not allowed; write the value out", event.start_mark.line + 1)
            if getattr(event, "anchor", None):
                raise YamlError("YAML anchors (&name) are not allowed; write the value out", event.start_mark.line + 1)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None


def _syntax_error(exc: yaml.YAMLError, text: str) -> YamlError:
    """A YamlError with the line PyYAML points at, whatever kind of error it raised."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        return YamlError(f"YAML syntax error: {exc.problem or exc.context}", mark.line + 1 if mark else 0)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML forbids (control characters...)
        line = text[: exc.position].count("\n") + 1
        return YamlError(f"character {exc.character!r} is not allowed in YAML; delete it", line)
    return YamlError(f"YAML syntax error: {exc}")


def _build(node: yaml.Node, loc: tuple, lines: dict[tuple, int], depth: int) -> Any:
    line = node.start_mark.line + 1
    lines.setdefault(loc, line)
    if depth > MAX_DEPTH:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels; catalogue records are flat", line)
    if node.tag not in _STANDARD_TAGS:
        raise YamlError(f"YAML tag {node.tag!r} is not allowed; remove it", line)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("mapping keys must be plain strings", key_node.start_mark.line + 1)
            key = _scalar(key_node)
            key_line = key_node.start_mark.line + 1
            if key in out:
                raise YamlError(
                    f"duplicate key {key!r} (first on line {lines[loc + (key,)]}); keep only one",
                    key_line,
                )
            lines[loc + (key,)] = key_line
            out[key] = _build(value_node, loc + (key,), lines, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (i,), lines, depth + 1) for i, item in enumerate(node.value)]
    return _scalar(node)


_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used, so one instance suffices


def _scalar(node: yaml.Node) -> Any:
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    if node.tag == "tag:yaml.org,2002:null":
        return None
    return _CONSTRUCTOR.construct_object(node, deep=True)
