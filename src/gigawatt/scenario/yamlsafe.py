"""Read untrusted YAML within bounds: regular files of bounded size, UTF-8 text without control
characters, bounded nesting and alias expansion, only the core YAML tags. Each refusal is a located
ScenarioError (file:line), raised before anything large is built."""

from __future__ import annotations

import math
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

import yaml

from gigawatt.errors import Problem, ScenarioError
from gigawatt.scenario import limits

TITLE = "cannot read scenario"
# What the YAML reader refuses (yaml/reader.py NON_PRINTABLE): C0/C1 controls but tab and line breaks.
_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]")
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp",
                                                 "merge", "value"))


def _fail(what: str, *, path: str = "", location: str | None = None, value: Any = None, expected: str = "",
          fix: str = "") -> ScenarioError:
    return ScenarioError(Problem(what, path=path, value=value, location=location, expected=expected, fix=fix),
                         title=TITLE)


def read_text(path: Path, *, key: str = "", via: str | None = None) -> str:
    """The text of ``path``: a regular file of at most MAX_FILE_BYTES, in UTF-8. ``key`` and ``via`` (the
    importing file:line) say where the file was named."""
    where = via or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail("file not found", path=key or str(path), location=via, value=str(path),
                    expected="an existing YAML file", fix="check the path") from None
    except OSError as exc:
        raise _fail(f"cannot read file ({exc.strerror})", path=key or str(path), location=via, value=str(path)) from None
    if not stat.S_ISREG(st.st_mode):
        raise _fail("not a regular file", path=key or str(path), location=via, value=str(path),
                    expected="a YAML file (not a device, pipe or directory)", fix="name a scenario file")
    if st.st_size > limits.MAX_FILE_BYTES:
        raise _fail("file too large", path=key or str(path), location=via, value=f"{st.st_size:,} bytes",
                    expected=f"at most {limits.MAX_FILE_BYTES:,} bytes", fix="split it with imports: or trim it")
    try:
        with open(path, "rb") as f:
            raw = f.read(limits.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _fail(f"cannot read file ({exc.strerror})", path=key or str(path), location=via) from None
    if len(raw) > limits.MAX_FILE_BYTES:  # grew since stat
        raise _fail("file too large", path=key or str(path), location=where,
                    expected=f"at most {limits.MAX_FILE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise _fail("not UTF-8 text", path="", location=f"{path.name}:{line}",
                    value=f"byte 0x{raw[exc.start]:02x}", expected="a file encoded in UTF-8",
                    fix="save the file as UTF-8") from None
    return text.removeprefix("\ufeff")


def check_text(text: str, name: str) -> None:
    """Refuse control characters (NUL and the like), located by line, without echoing the text."""
    if len(text) > limits.MAX_FILE_BYTES:
        raise _fail("text too large", location=f"{name}:1", value=f"{len(text):,} characters",
                    expected=f"at most {limits.MAX_FILE_BYTES:,}")
    m = _NON_PRINTABLE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise _fail("control character in the text", location=f"{name}:{line}", value=f"U+{ord(m.group()):04X}",
                    expected="printable text (tabs and line breaks are fine)",
                    fix="remove the character (a binary file, or text pasted with a stray control code?)")


class BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing nesting deeper than MAX_DEPTH while it composes (the composer recurses
    per level: 5,000 nested brackets were a RecursionError). Knows the key path it is at."""

    def __init__(self, text: str, *, name: str = "<string>"):
        super().__init__(text)
        self._name = name
        self._path: list[str] = []

    def compose_node(self, parent, index):
        label = str(index.value)[:40] if isinstance(index, yaml.ScalarNode) else "?" if index is None and \
            isinstance(parent, yaml.MappingNode) else str(index) if index is not None else ""
        self._path.append(label)
        try:
            if len(self._path) > limits.MAX_DEPTH + 1:  # the root is not a level of nesting
                mark = self.peek_event().start_mark
                raise _fail("nesting too deep", path=".".join(p for p in self._path[1:9] if p) + " …",
                            location=f"{self._name}:{mark.line + 1}", value=f"more than {limits.MAX_DEPTH} levels",
                            expected=f"at most {limits.MAX_DEPTH} nested mappings or lists",
                            fix="flatten the structure")
            return super().compose_node(parent, index)
        finally:
            self._path.pop()


def check_graph(root: yaml.Node, name: str) -> None:
    """Refuse a node graph whose alias expansion is too large, too deep or recursive. Iterative: no
    recursion, and each node is counted once however many aliases point at it."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    # (node, children done?, key path, line): an alias's target was written earlier, so a child that starts
    # before its parent is an alias, and the line reported is the parent's (where the alias is used)
    stack: list[tuple[yaml.Node, bool, str, int]] = [(root, False, "", root.start_mark.line + 1)]
    while stack:
        node, done, path, line = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            on_path.discard(key)
            if size[key] > limits.MAX_NODES:
                raise _fail("document too large once its aliases are expanded", path=path,
                            location=f"{name}:{line}", value=f"over {limits.MAX_NODES:,} values",
                            expected=f"at most {limits.MAX_NODES:,} values (anchors and aliases included)",
                            fix="write the values out, without aliases of aliases")
            if depth[key] > limits.MAX_DEPTH + 1:  # a subtree's height counts its leaves: one more than nesting
                raise _fail("nesting too deep once aliases are expanded", path=path, location=f"{name}:{line}",
                            expected=f"at most {limits.MAX_DEPTH} levels", fix="flatten the structure")
            continue
        if key in size:
            continue
        if key in on_path:
            raise _fail("recursive alias (a value that contains itself)", path=path, location=f"{name}:{line}",
                        fix="remove the alias")
        on_path.add(key)
        stack.append((node, True, path, line))
        stack.extend((k, False, _join(path, label),
                      line if k.start_mark.index < node.start_mark.index else k.start_mark.line + 1)
                     for k, label in _labelled(node))


def check_tag(node: yaml.Node, *, path: str, name: str) -> None:
    """Refuse any tag but the core ones, on a mapping, a list or a scalar alike (never silently dropped)."""
    if node.tag not in ALLOWED_TAGS:
        raise _fail("unsupported YAML tag", path=path, location=f"{name}:{node.start_mark.line + 1}",
                    value=node.tag, expected="no tag, or a core one (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq)",
                    fix="remove the tag")


def _join(path: str, label: str) -> str:
    return f"{path}.{label}" if path else label


def _labelled(node: yaml.Node) -> list[tuple[yaml.Node, str]]:
    """Children with the key (or index) they sit under."""
    if isinstance(node, yaml.MappingNode):
        out = []
        for k, v in node.value:
            label = str(k.value)[:40] if isinstance(k, yaml.ScalarNode) else "?"
            out += [(k, label), (v, label)]
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(n, str(i)) for i, n in enumerate(node.value)]
    return []


def _children(node: yaml.Node) -> list[yaml.Node]:
    return [n for n, _ in _labelled(node)]


def scalar(constructor: yaml.SafeLoader, node: yaml.Node, *, path: str, name: str) -> Any:
    """Construct one scalar; a value YAML cannot represent, a non-finite float or an integer too large for
    a float is a located problem."""
    location = f"{name}:{node.start_mark.line + 1}"
    try:
        value = constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError, AttributeError, TypeError):  # an explicit tag's bad value
        raise _fail("value cannot be read", path=path, location=location,
                    expected=f"a valid {node.tag.removeprefix(_CORE)}", fix="correct the value") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail("not a finite number", path=path, location=location, value=str(node.value)[:40],
                    expected="a finite number (no .inf, .nan, or exponents beyond 1e308)", fix="write a finite value")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
        raise _fail("integer too large for a number", path=path, location=location,
                    value=f"{len(str(node.value))} digits", expected="a number below 1e308",
                    fix="write a plausible figure (with a unit and a multiplier such as 'billion')")
    return value
