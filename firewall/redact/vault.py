"""Per-session placeholder vaults: the same value gets the same placeholder, and back.

The model sees ``<EMAIL_ADDRESS_1>`` instead of an address; when it later writes that
placeholder into a tool argument, the firewall puts the address back before the tool runs.
A vault belongs to one session: a placeholder from another session means nothing here and
is flagged, never resolved.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from firewall.redact.entities import KNOWN_ENTITIES

#: An exact placeholder as the vault writes it.
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*?)_(\d+)>")
# Anything a model may have made of a placeholder: other case, spaces, lost brackets.
_ENTITY_NAMES = "|".join(sorted(KNOWN_ENTITIES, key=len, reverse=True))
_UNDERSCORE_DIGIT = re.compile(r"_\d")
# Two scans instead of one alternation: the first starts with a literal "<", which the
# regex engine finds fast; the second only runs where an "_<digit>" occurs at all.
_ANGLE_LIKE = re.compile(
    r"<(?:\s*[A-Za-z][A-Za-z0-9_ \-]*?[_ \-]?\d+\s*>|\s*(?:" + _ENTITY_NAMES + r")[^<>]{0,12}>)",
    re.IGNORECASE,
)
_BARE_LIKE = re.compile(r"\b(?:" + _ENTITY_NAMES + r")_\d+\b", re.IGNORECASE)


class SessionVault:
    """Placeholders of one session. Thread-safe; holds at most ``max_values`` values."""

    def __init__(self, max_values: int = 50_000) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()
        self.max_values = max_values

    def placeholder(self, entity: str, value: str) -> str:
        """The placeholder for ``value`` found as ``entity``; a new one on first sight."""
        key = (entity, value)
        with self._lock:
            found = self._by_value.get(key)
            if found is not None:
                return found
            if len(self._by_placeholder) >= self.max_values:
                raise OverflowError("the session's placeholder vault is full")
            number = self._counters.get(entity, 0) + 1
            self._counters[entity] = number
            found = f"<{entity}_{number}>"
            self._by_value[key] = found
            self._by_placeholder[found] = key
            return found

    def lookup(self, placeholder: str) -> tuple[str, str] | None:
        """``(entity, value)`` behind an exact placeholder, or ``None``."""
        with self._lock:
            return self._by_placeholder.get(placeholder)

    def __len__(self) -> int:
        return len(self._by_placeholder)


class VaultStore:
    """The vaults of a firewall, one per session id; the least recently used are evicted."""

    def __init__(self, max_sessions: int = 1024, max_values: int = 50_000) -> None:
        self._vaults: OrderedDict[str | None, SessionVault] = OrderedDict()
        self._lock = threading.Lock()
        self.max_sessions = max_sessions
        self.max_values = max_values

    def get(self, session: str | None) -> SessionVault:
        """The vault of ``session``, created on first use (``None`` is one shared session)."""
        with self._lock:
            vault = self._vaults.get(session)
            if vault is None:
                vault = self._vaults[session] = SessionVault(self.max_values)
                while len(self._vaults) > self.max_sessions:
                    self._vaults.popitem(last=False)
            else:
                self._vaults.move_to_end(session)
            return vault

    def peek(self, session: str | None) -> SessionVault | None:
        """The vault of ``session`` if it exists; never creates one."""
        with self._lock:
            return self._vaults.get(session)

    def __len__(self) -> int:
        return len(self._vaults)


@dataclass
class Restoration:
    """Arguments with placeholders put back, and what was found doing it."""

    arguments: Any
    #: Argument path (``to``, ``recipients.0``) -> entity types restored in it.
    restored: dict[str, list[str]] = field(default_factory=dict)
    #: Placeholder-looking text the vault does not know (mangled, invented, foreign).
    unknown: list[str] = field(default_factory=list)
    #: ``(value, placeholder)`` pairs restored, to scrub values out of anything recorded.
    pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.restored)

    @property
    def found_any(self) -> bool:
        return bool(self.restored or self.unknown)

    def facts(self) -> dict[str, Any]:
        """What a policy condition reads as ``facts.redaction``: entity types, never values."""
        return {"restored": self.restored, "unknown_placeholders": self.unknown}


def restore(arguments: Any, vault: SessionVault | None) -> Restoration:
    """Replace known placeholders in every string of ``arguments`` by their real values."""
    result = Restoration(arguments=None)
    result.arguments = _restore(arguments, vault, (), result)
    return result


def _restore(
    value: Any, vault: SessionVault | None, path: tuple[str, ...], out: Restoration
) -> Any:
    if isinstance(value, str):
        return _restore_text(value, vault, ".".join(path) or "$", out)
    if isinstance(value, dict):
        return {k: _restore(v, vault, (*path, str(k)), out) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [_restore(v, vault, (*path, str(i)), out) for i, v in enumerate(value)]
        return type(value)(items) if isinstance(value, tuple) else items
    return value


def _restore_text(text: str, vault: SessionVault | None, path: str, out: Restoration) -> str:
    if "<" not in text and "_" not in text:
        return text
    entities: list[str] = []

    def replace(match: re.Match[str]) -> str:
        found = vault.lookup(match.group(0)) if vault is not None else None
        if found is None:
            return match.group(0)
        entity, real = found
        entities.append(entity)
        out.pairs.append((real, match.group(0)))
        return real

    restored = PLACEHOLDER.sub(replace, text)
    for candidate in _unknown_in(text, vault):
        if candidate not in out.unknown:
            out.unknown.append(candidate)
    if entities:
        out.restored[path] = sorted(set(entities))
    return restored


def _unknown_in(text: str, vault: SessionVault | None) -> Iterator[str]:
    # Every placeholder-like form holds "<" or an "_<digit>": most texts (SQL full of
    # snake_case names) hold neither, and the scan below is the costly part.
    matches = list(_ANGLE_LIKE.finditer(text)) if "<" in text else []
    if _UNDERSCORE_DIGIT.search(text) is not None:
        spans = [m.span() for m in matches]
        matches += [
            m
            for m in _BARE_LIKE.finditer(text)
            if not any(start <= m.start() < end for start, end in spans)
        ]
        matches.sort(key=lambda m: m.start())
    for match in matches:
        token = match.group(0)
        if PLACEHOLDER.fullmatch(token) and vault is not None and vault.lookup(token):
            continue
        yield token


def scrub(value: Any, pairs: list[tuple[str, str]]) -> Any:
    """``value`` with every restored real value written back as its placeholder."""
    if not pairs:
        return value
    if isinstance(value, str):
        for real, placeholder in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
            if real:
                value = value.replace(real, placeholder)
        return value
    if isinstance(value, dict):
        return {k: scrub(v, pairs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [scrub(v, pairs) for v in value]
        return type(value)(items) if isinstance(value, tuple) else items
    return value
