"""Provenance by value: which earlier results and messages an argument's values came from.

Every text a session sees (a user prompt, a tool result) is cut into *keys*: each whole
leaf value and each line, whitespace-normalised and case-folded, plus the meaningful
substrings inside it (emails, URLs and their hosts, IBANs, long numbers, identifiers,
redaction placeholders). A key is stored as a keyed 64-bit hash (SipHash, random key per
process), so the index keeps no value in clear. An argument is cut the same way and each
of its keys is one hash-map lookup: the cost of a lookup depends on the size of the
argument, never on how many events the session has seen. Each key keeps counts (labels,
tools, user) rather than a list of every holder, so a value seen a million times costs
no more to look up.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: The label a value carries when the user's own messages contain it.
USER = "user"
#: How many holders of one key are remembered by id (the most recent ones).
HOLDERS_PER_KEY = 8
#: Shortest whole value (after normalisation) that counts as a match on its own.
MIN_VALUE_CHARS = 3
#: Fewest digits a number needs to identify something (an account, a phone, a card).
MIN_NUMBER_DIGITS = 6
#: Longest line or value indexed as a whole; longer texts still yield their substrings.
MAX_WHOLE_CHARS = 2000

#: Phrases of the user's messages: up to this many words, at least this many characters.
MAX_PHRASE_WORDS = 6
MIN_PHRASE_CHARS = 3
MAX_PHRASE_SOURCE_WORDS = 2000
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}<>"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\bhttps?://[^\s<>\"'`)\]}]+", re.IGNORECASE)
_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#:@\s]+)", re.IGNORECASE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_NUMBER = re.compile(r"(?<![\w])\+?\d(?:[ .\-/]?\d){" + str(MIN_NUMBER_DIGITS - 1) + r",}(?![\w])")
# Identifiers worth tracing hold both a digit and a letter (``INV-2024-0042``, ``a1b2c3``);
# the lookaheads keep that test inside the regex engine instead of a Python loop.
_IDENTIFIER = re.compile(
    r"(?<![\w@.-])(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])"
    r"[A-Za-z0-9][A-Za-z0-9_\-]{5,}(?![\w@])"
)
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_\d+>")
_HAS_DIGIT = re.compile(r"\d")
_NON_DIGIT = re.compile(r"\D")


def _digest(text: str) -> int:
    # Python's own string hash: SipHash with a per-process random key, 64 bits. Keys are
    # never persisted, a collision only adds a spurious source, and it is ~20x cheaper
    # than a hashlib digest on the check() path.
    return hash(text)


def normalise(text: str) -> str:
    """Collapse whitespace and case-fold: ``"  Bob\\n Smith "`` -> ``"bob smith"``."""
    return " ".join(text.split()).casefold()


def substrings(text: str) -> Iterator[str]:
    """The meaningful substrings of ``text``, each in a canonical form with a kind prefix.

    Numbers and identifiers inside an email, URL or IBAN are not yielded again: the same
    IBAN written with or without spaces must give the same keys.
    """
    # Cheap membership tests first: most texts hold no email, URL or digit at all.
    covered: list[tuple[int, int]] = []
    if "@" in text:
        for m in _EMAIL.finditer(text):
            covered.append(m.span())
            yield "email:" + m.group().casefold()
    if "://" in text:
        for m in _URL.finditer(text):
            covered.append(m.span())
            url = m.group().rstrip(".,;:!?")
            yield "url:" + url.casefold()
            host = _HOST.match(url)
            if host:
                yield "host:" + host.group(1).casefold()
    if "<" in text:
        for m in _PLACEHOLDER.finditer(text):
            yield "ph:" + m.group()
    if _HAS_DIGIT.search(text) is None:
        return
    for m in _IBAN.finditer(text):
        iban = _valid_iban(m.group().replace(" ", ""))
        if iban is not None:
            covered.append(m.span())
            yield "iban:" + iban
    for m in _NUMBER.finditer(text):
        if not _inside(m.span(), covered):
            yield "num:" + _NON_DIGIT.sub("", m.group())
    for m in _IDENTIFIER.finditer(text):
        if not _inside(m.span(), covered):
            yield "id:" + m.group().casefold()


def _inside(span: tuple[int, int], covered: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in covered)


def _valid_iban(compact: str) -> str | None:
    """The longest prefix of ``compact`` that passes the IBAN checksum (ISO 13616)."""
    for length in range(min(len(compact), 34), 14, -1):
        candidate = compact[:length]
        digits = "".join(str(int(c, 36)) for c in candidate[4:] + candidate[:4])
        if int(digits) % 97 == 1:
            return candidate
    return None


def leaves(value: Any) -> Iterator[str]:
    """The strings in a JSON-like value (numbers as text; booleans and null skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield repr(value) if isinstance(value, float) else str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from leaves(item)
    else:
        yield str(value)


def _whole(text: str) -> str | None:
    norm = normalise(text)
    if len(norm) < MIN_VALUE_CHARS or len(norm) > MAX_WHOLE_CHARS:
        return None
    if norm.isdigit() and len(norm) < MIN_NUMBER_DIGITS:
        return None
    return "v:" + norm


def value_keys(value: Any) -> tuple[set[int], set[int]]:
    """Digests of ``value``: (whole-value keys, substring keys), as used by a lookup."""
    wholes: set[int] = set()
    parts: set[int] = set()
    for text in leaves(value):
        key = _whole(text)
        if key is not None:
            wholes.add(_digest(key))
        parts.update(_digest(s) for s in substrings(text))
    return wholes, parts


def content_keys(value: Any) -> set[int]:
    """Digests of everything in ``value`` worth remembering: wholes, lines and substrings."""
    keys: set[int] = set()
    for text in leaves(value):
        key = _whole(text)
        if key is not None:
            keys.add(_digest(key))
        if "\n" in text:
            for line in text.splitlines():
                key = _whole(line)
                if key is not None:
                    keys.add(_digest(key))
        keys.update(_digest(s) for s in substrings(text))
    return keys


def phrase_keys(value: Any) -> set[int]:
    """Digests of every run of up to ``MAX_PHRASE_WORDS`` words in ``value``.

    Used for the user's own messages only, so a name the user typed ("pay Bob") marks
    the argument ``Bob`` as coming from the user. Results are not cut this finely: a
    common word in a web page must not count as the source of an argument.
    """
    keys: set[int] = set()
    for text in leaves(value):
        words = [w.strip(_EDGE_PUNCTUATION) for w in text.split()[:MAX_PHRASE_SOURCE_WORDS]]
        words = [w for w in words if w]
        for start in range(len(words)):
            for end in range(start + 1, min(start + MAX_PHRASE_WORDS, len(words)) + 1):
                phrase = " ".join(words[start:end]).casefold()
                if len(phrase) >= MIN_PHRASE_CHARS:
                    keys.add(_digest("v:" + phrase))
    return keys


class _Entry:
    """What is known about one key: who held it, with which labels, from which tools."""

    __slots__ = ("holders", "labels", "tools", "user")

    def __init__(self) -> None:
        self.holders: deque[str] = deque(maxlen=HOLDERS_PER_KEY)
        self.labels: dict[str, int] = {}
        self.tools: dict[str, int] = {}
        self.user = 0

    def empty(self) -> bool:
        return not (self.user or self.labels or self.tools or self.holders)


@dataclass(frozen=True)
class Holder:
    """One indexed text: a node of the graph, its labels and tool, and whether the user wrote it."""

    node: str
    labels: frozenset[str] = frozenset()
    tool: str | None = None
    user: bool = False


@dataclass
class ArgumentFlow:
    """Where one argument's value came from."""

    labels: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)
    from_user: bool = False
    found: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": sorted(self.labels),
            "tools": sorted(self.tools),
            "sources": list(self.sources),
            "from_user": self.from_user,
            "found": self.found,
        }


class ValueIndex:
    """Key digest -> what held it. Not thread-safe: the session graph holds the lock."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._keys_of: dict[str, tuple[Holder, tuple[int, ...]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, holder: Holder, keys: Iterable[int]) -> None:
        """Remember that ``holder`` contained every key in ``keys``."""
        stored = tuple(keys)
        entries = self._entries
        for key in stored:
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = _Entry()
            entry.holders.append(holder.node)
            for label in holder.labels:
                entry.labels[label] = entry.labels.get(label, 0) + 1
            if holder.tool is not None:
                entry.tools[holder.tool] = entry.tools.get(holder.tool, 0) + 1
            if holder.user:
                entry.user += 1
        previous = self._keys_of.get(holder.node)
        if previous is not None:
            stored = previous[1] + stored
        self._keys_of[holder.node] = (holder, stored)

    def remove(self, node: str) -> None:
        """Forget everything ``node`` contributed (when the graph evicts it)."""
        found = self._keys_of.pop(node, None)
        if found is None:
            return
        holder, keys = found
        for key in keys:
            entry = self._entries.get(key)
            if entry is None:
                continue
            if node in entry.holders:
                entry.holders.remove(node)
            for label in holder.labels:
                _decrement(entry.labels, label)
            if holder.tool is not None:
                _decrement(entry.tools, holder.tool)
            if holder.user:
                entry.user -= 1
            if entry.empty():
                del self._entries[key]

    def lookup(self, value: Any) -> ArgumentFlow:
        """Where ``value`` (an argument, possibly nested) came from."""
        wholes, parts = value_keys(value)
        flow = ArgumentFlow()
        entries = self._entries
        whole_from_user = False
        parts_seen = 0
        parts_from_user = 0
        seen_sources: set[str] = set()
        for key in (*wholes, *parts):
            is_whole = key in wholes
            if not is_whole:
                parts_seen += 1
            entry = entries.get(key)
            if entry is None:
                continue
            flow.found = True
            flow.labels.update(entry.labels)
            flow.tools.update(entry.tools)
            for node in entry.holders:
                if node not in seen_sources:
                    seen_sources.add(node)
                    flow.sources.append(node)
            if entry.user:
                if is_whole:
                    whole_from_user = True
                else:
                    parts_from_user += 1
        flow.from_user = whole_from_user or (parts_seen > 0 and parts_from_user == parts_seen)
        if flow.from_user:
            flow.labels.add(USER)
        return flow


def _decrement(counts: dict[str, int], name: str) -> None:
    left = counts.get(name, 0) - 1
    if left > 0:
        counts[name] = left
    else:
        counts.pop(name, None)
