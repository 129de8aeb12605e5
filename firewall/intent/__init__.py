"""The classifier registry: named, pure functions that turn an argument into intents and facts.

A policy's tool declaration says which classifier reads which argument, e.g.
``{classifier: sql, argument: query, dialect: postgres}``. The built-in classifiers live
in the modules of this package and are imported the first time a policy names them, so
a policy that uses no shell tool never loads the shell grammar.

A classifier is ``func(value, options) -> Classification``. It must not raise on any
input (what it cannot read is intent ``unknown``); the engine still treats an exception
as a deny. Besides the tool declaration's options, the engine passes ``_arguments``: all
arguments of the call, so an option may name another argument that completes the value
(``method_argument`` for HTTP, ``operation_argument`` for paths).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from firewall.model import Classification

ClassifyFunc = Callable[[Any, Mapping[str, Any]], Classification]


@dataclass(frozen=True)
class Classifier:
    """A registered classifier.

    ``facts`` names the facts it produces (``facts.<name>.<fact>`` in conditions), so a
    policy that misspells one is rejected at load time. ``options`` names the options a
    tool declaration may pass (``dialect`` for SQL); anything else is a policy error.
    """

    name: str
    func: ClassifyFunc
    facts: frozenset[str] = frozenset()
    options: frozenset[str] = frozenset()
    description: str = ""
    validate_options: Callable[[Mapping[str, Any]], None] | None = field(default=None)


_BUILTIN_MODULES = {
    "sql": "firewall.intent.sql",
    "shell": "firewall.intent.shell",
    "http": "firewall.intent.http",
    "path": "firewall.intent.path",
}
_registry: dict[str, Classifier] = {}
_lock = threading.Lock()


def register(classifier: Classifier) -> Classifier:
    """Add (or replace) a classifier under its name."""
    with _lock:
        _registry[classifier.name] = classifier
    return classifier


def get_classifier(name: str) -> Classifier:
    """The classifier called ``name``; raises ``KeyError`` when there is none."""
    found = _registry.get(name)
    if found is not None:
        return found
    module = _BUILTIN_MODULES.get(name)
    if module is None:
        raise KeyError(name)
    importlib.import_module(module)  # registers itself on import
    return _registry[name]


def available() -> list[str]:
    """Names of every classifier a policy may use."""
    return sorted(set(_registry) | set(_BUILTIN_MODULES))


def merge_facts(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    """Combine the facts of several readings by one classifier (several arguments, or
    several SQL texts in one command line): lists join, flags OR, errors concatenate, the
    rest keeps the latest."""
    for key, value in new.items():
        old = into.get(key)
        if isinstance(old, list) and isinstance(value, list):
            into[key] = old + [v for v in value if v not in old]
        elif isinstance(old, bool) and isinstance(value, bool):
            into[key] = old or value
        elif isinstance(old, str) and isinstance(value, str) and key == "error":
            into[key] = "; ".join(e for e in (old, value) if e)
        else:
            into[key] = value
