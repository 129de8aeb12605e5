"""Per-field trust: which parts of a structured tool result carry which labels.

A mail's ``sender`` comes from the mail server's headers, its ``body`` from whoever wrote
the mail; labelling both ``untrusted`` blocks a reply to the sender. A tool declaration
may therefore name fields per label::

    output_labels: {untrusted: [body, subject, "messages[*].body"], directory: [sender], "*": ...}

A pattern names a field at any depth (``body``), a path (``messages[*].body``, ``[*]``
for any list position) or a whole object (``messages``). A leaf no pattern names gets
the labels listed under ``"*"``; when there is no ``"*"`` it gets every declared label
(fail closed), and so does a result that is plain text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firewall.provenance import MAX_RESULT_CHARS, leaves

_POSITION = re.compile(r"\[\d+\]")
REST = "*"


@dataclass(frozen=True)
class FieldLabels:
    """A tool's ``output_labels``: labels for every leaf, or per field pattern."""

    everywhere: frozenset[str] = frozenset()
    patterns: tuple[tuple[str, frozenset[str]], ...] = ()
    rest: frozenset[str] | None = None

    @classmethod
    def parse(cls, spec: list[str] | Mapping[str, list[str]]) -> FieldLabels:
        """From the policy: a list of labels, or ``{label: [field patterns]}``."""
        if not isinstance(spec, Mapping):
            return cls(everywhere=frozenset(spec))
        by_pattern: dict[str, set[str]] = {}
        rest: set[str] | None = None
        for label, patterns in spec.items():
            for pattern in patterns:
                if pattern == REST:
                    rest = (rest or set()) | {label}
                else:
                    by_pattern.setdefault(_dotted(pattern), set()).add(label)
        return cls(
            patterns=tuple((p, frozenset(labels)) for p, labels in by_pattern.items()),
            rest=None if rest is None else frozenset(rest),
        )

    @property
    def per_field(self) -> bool:
        return bool(self.patterns) or self.rest is not None

    def labels(self) -> frozenset[str]:
        """Every label this declaration can give."""
        out = set(self.everywhere) | set(self.rest or ())
        for _, labels in self.patterns:
            out |= labels
        return frozenset(out)

    def groups(self, output: Any, extra: frozenset[str]) -> list[tuple[frozenset[str], Any]]:
        """``output`` split into (labels, texts) groups; ``extra`` labels go to every group."""
        if not self.per_field:
            return [(self.everywhere | extra, output)]
        structured = _structured(output)
        if structured is None:
            return [(self.labels() | extra, output)]
        fallback = self.rest if self.rest is not None else self.labels()
        grouped: dict[frozenset[str], list[str]] = {}
        for path, text in leaves(structured):
            grouped.setdefault(self._labels_of(path, fallback) | extra, []).append(text)
        return list(grouped.items())

    def _labels_of(self, path: str, fallback: frozenset[str]) -> frozenset[str]:
        dotted = "." + _dotted(_POSITION.sub("[*]", path)) + "."
        found: set[str] = set()
        for pattern, labels in self.patterns:
            if "." + pattern + "." in dotted:
                found |= labels
        return frozenset(found) if found else fallback


def _dotted(path: str) -> str:
    return path.replace("[", ".[").lstrip(".")


def _structured(output: Any) -> Any:
    """``output`` as a mapping or list, parsing a JSON text; ``None`` for plain text."""
    if isinstance(output, Mapping | list | tuple):
        return output
    if isinstance(output, str) and len(output) <= MAX_RESULT_CHARS:
        text = output.strip()
        if text[:1] in ("{", "["):
            try:
                value = json.loads(text)
            except ValueError:
                return None
            return value if isinstance(value, dict | list) else None
    return None
