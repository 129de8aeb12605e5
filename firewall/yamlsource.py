"""Read YAML while remembering where every value stood, so policy errors can name a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from firewall.errors import PolicyError

Path = tuple[str | int, ...]

#: How many values a document may hold once anchors and aliases are expanded. A policy
#: needs a few thousand; a "billion laughs" document needs billions, and is refused here
#: in time linear in this bound, before anything walks the expanded tree.
MAX_EXPANDED_VALUES = 100_000


@dataclass
class YamlDocument:
    """A parsed YAML document and the 1-based line of each value, keyed by its path."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document; syntax errors and duplicate keys become ``PolicyError``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None)
        lines: dict[Path, int] = {}
        _check_expansion(node, source)
        _collect_lines(node, (), lines, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise PolicyError(f"invalid YAML: {problem}", file=source, line=line) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {exc}", file=source) from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, lines=lines)


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse documents whose aliases expand past ``MAX_EXPANDED_VALUES`` values.

    Each node's expanded size is computed once (aliases share node objects), so the check
    costs the number of distinct nodes, not the size of the expansion.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                children += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not children_done and any(id(c) not in sizes for c in children):
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        sizes[id(node)] = 1 + sum(sizes.get(id(c), 0) for c in children)
        if sizes[id(node)] > MAX_EXPANDED_VALUES:
            raise PolicyError(
                f"the document expands to more than {MAX_EXPANDED_VALUES:,} values through"
                " anchors and aliases",
                file=source,
                line=node.start_mark.line + 1,
            )


def _collect_lines(node: yaml.Node, path: Path, lines: dict[Path, int], source: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                raise PolicyError(
                    f"duplicate key '{key}'", file=source, line=key_node.start_mark.line + 1
                )
            seen.add(key)
            _collect_lines(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines, source)
