"""Provenance by value: which earlier results and messages each leaf of an argument came from.

Every text a session sees (a user prompt, a tool result) is cut into canonical *keys*
(``firewall.flowkeys``): whole values and lines, addresses, links, accounts, numbers,
identifiers, placeholders, and five-word phrases of untrusted results. A key is stored as
a keyed 64-bit hash (SipHash, random key per process), so the index keeps no value in
clear. An argument is cut the same way, leaf by leaf (list elements and object fields
each on their own), together with its decoded layers (URL-encoding, base64), its lines
joined, and neighbouring leaves joined (a value split in two). Each key is one hash-map
lookup: the cost depends on the size of the argument, never on the length of the session.

Cutting is bounded: a result is indexed up to ``MAX_RESULT_CHARS`` and an argument looked
up to ``MAX_ARGUMENT_CHARS``; what lies beyond is marked ``truncated``, never ignored
silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from firewall.flowkeys import (
    amount_keys,
    clean,
    decoded_layers,
    normalise,
    parts,
    shingles,
    user_phrases,
    values,
    whole_key,
)

__all__ = [
    "MAX_ARGUMENT_CHARS",
    "MAX_RESULT_CHARS",
    "USER",
    "ArgumentFlow",
    "Holder",
    "IndexedText",
    "LeafFlow",
    "ValueIndex",
    "index_text",
    "leaves",
    "lookup_keys",
    "normalise",
    "placeholder_keys",
    "substrings",
]

#: The label a value carries when the user's own messages contain it.
USER = "user"
#: How many holders of one key are remembered by id (the most recent ones).
HOLDERS_PER_KEY = 8
#: Characters of one tool result (all its leaves) that are indexed.
MAX_RESULT_CHARS = 1_000_000
#: Phrase keys indexed per result.
MAX_PHRASES = 100_000
#: Characters of one argument (all its leaves) that are looked up, and leaves per argument.
MAX_ARGUMENT_CHARS = 100_000
MAX_LEAVES = 1_000
#: Phrases of the user's messages: up to this many words, from this many words of text.
MAX_PHRASE_WORDS = 6
MAX_PHRASE_SOURCE_WORDS = 2000
#: Labels whose results are cut into phrases (copied sentences are traced back to them).
PHRASE_LABELS = frozenset({"untrusted"})


def _digest(text: str) -> int:
    # Python's own string hash: SipHash with a per-process random key, 64 bits. Keys are
    # never persisted, a collision only adds a spurious source, and it is ~20x cheaper
    # than a hashlib digest on the check() path.
    return hash(text)


def substrings(text: str) -> Iterator[str]:
    """The identifying parts of ``text`` in canonical form (see ``firewall.flowkeys``)."""
    return parts(clean(text))


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(path, text)`` of every scalar in a JSON-like value (booleans and null skipped).

    Paths read like ``[0]``, ``iban``, ``items[2].name``; a scalar argument has path ``""``.
    """
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield path, repr(value) if isinstance(value, float) else str(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from leaves(item, f"{path}[{i}]")
    else:
        yield path, str(value)


@dataclass
class IndexedText:
    """The keys of a text to remember, and whether the text was longer than the bound."""

    keys: set[int] = field(default_factory=set)
    truncated: bool = False


def index_text(
    value: Any, *, user: bool = False, phrases: bool = False, budget: list[int] | None = None
) -> IndexedText:
    """Digests of everything in ``value`` worth remembering.

    Wholes, lines, identifying parts and those of decoded layers; five-word phrases when
    ``phrases``; for a user's message, also its short runs of words. ``budget`` (a
    one-element list, shared by the parts of one result) caps the characters read.
    """
    budget = budget if budget is not None else [MAX_RESULT_CHARS]
    out = IndexedText()
    keys: set[str] = set()
    phrase_budget = MAX_PHRASES
    for _, raw in leaves(value):
        if budget[0] <= 0:
            out.truncated = True
            break
        if len(raw) > budget[0]:
            raw = raw[: budget[0]]
            out.truncated = True
        budget[0] -= len(raw)
        text = clean(raw)
        key = whole_key(text)
        if key is not None:
            keys.add(key)
        if "\n" in text:
            for line in text.splitlines():
                key = whole_key(line)
                if key is not None:
                    keys.add(key)
        keys.update(parts(text))
        keys.update(amount_keys(text))
        for layer in decoded_layers(text, depth=1):
            layer = clean(layer)
            key = whole_key(layer)
            if key is not None:
                keys.add(key)
            keys.update(parts(layer))
        if phrases and phrase_budget > 0:
            found, cut = shingles(text, phrase_budget)
            phrase_budget -= len(found)
            out.truncated |= cut
            keys |= found
        if user:
            keys |= user_phrases(text, MAX_PHRASE_WORDS, MAX_PHRASE_SOURCE_WORDS)
            found, _ = shingles(text, MAX_PHRASES)
            keys |= found
    out.keys = {_digest(k) for k in keys}
    return out


@dataclass
class LeafKeys:
    """What one leaf of an argument is looked up by.

    ``whole`` and ``values`` (each value's alternative keys) decide whether the user wrote
    it; ``derived`` (a link's host, the blocks of a number) only adds origins; ``hidden``
    (decoded layers, joined lines) and ``phrases`` add origins and, found outside the
    user's messages, mean the leaf is not only the user's.
    """

    path: str
    whole: int | None = None
    values: list[frozenset[int]] = field(default_factory=list)
    derived: set[int] = field(default_factory=set)
    hidden: set[int] = field(default_factory=set)
    phrases: set[int] = field(default_factory=set)
    truncated: bool = False

    def all_keys(self) -> set[int]:
        out = self.derived | self.hidden | self.phrases
        for same in self.values:
            out |= same
        return out


def lookup_keys(path: str, raw: str, limit: int) -> LeafKeys:
    """The keys of one leaf of an argument (at most ``limit`` characters are read)."""
    out = LeafKeys(path, truncated=len(raw) > limit)
    text = clean(raw[:limit])
    whole = whole_key(text, short=True)
    out.whole = None if whole is None else _digest(whole)
    for same, derived in values(text):
        out.values.append(frozenset(_digest(k) for k in same))
        out.derived.update(_digest(k) for k in derived)
    hidden: set[str] = set()
    if "\n" in text or "\r" in text:
        hidden.update(parts(text.replace("\r", "").replace("\n", "")))
    for layer in decoded_layers(text):
        layer = clean(layer)
        key = whole_key(layer)
        if key is not None:
            hidden.add(key)
        hidden.update(parts(layer))
    own = out.all_keys()
    out.hidden = {_digest(k) for k in hidden} - own
    out.phrases = {_digest(k) for k in shingles(text, MAX_PHRASES)[0]} - own - out.hidden
    return out


def placeholder_keys(raw: str, limit: int = MAX_ARGUMENT_CHARS) -> set[int]:
    """Keys of the redaction placeholders in ``raw`` (the text a model wrote, before the
    firewall put the values back): a restored value carries what its placeholder carries."""
    if "<" not in raw:
        return set()
    return {_digest(k) for k in parts(clean(raw[:limit])) if k.startswith("ph:")}


def join_keys(texts: list[str]) -> set[int]:
    """Keys of texts read as one (a value split across two arguments or leaves)."""
    joined = clean("".join(texts))
    return {_digest(k) for k in parts(joined)}


class _Entry:
    """What is known about one key: the latest holders, and how many holders of each kind
    (labels, tool, written by the user) held it. Kinds are shared, so an entry is small."""

    __slots__ = ("holders", "kinds")

    def __init__(self) -> None:
        self.holders: list[str] = []
        self.kinds: dict[_Kind, int] = {}

    @property
    def user(self) -> bool:
        return any(kind[2] for kind in self.kinds)

    def labels(self) -> Iterator[str]:
        for kind in self.kinds:
            yield from kind[0]

    def tools(self) -> Iterator[str]:
        for kind in self.kinds:
            if kind[1] is not None:
                yield kind[1]


#: (labels, tool, written by the user): what an entry counts its holders by.
_Kind = tuple[frozenset[str], str | None, bool]


@dataclass(frozen=True)
class Holder:
    """One indexed text: a node of the graph, its labels and tool, and whether the user wrote it."""

    node: str
    labels: frozenset[str] = frozenset()
    tool: str | None = None
    user: bool = False


@dataclass
class LeafFlow:
    """Where one scalar of an argument came from."""

    path: str = ""
    labels: set[str] = field(default_factory=set)
    #: Labels of the values in the leaf the user did not type (addresses, links, accounts,
    #: numbers, identifiers, paths), leaving out copied text (phrases, whole lines).
    value_labels: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)
    from_user: bool = False
    found: bool = False
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "labels": sorted(self.labels),
            "value_labels": sorted(self.value_labels),
            "tools": sorted(self.tools),
            "from_user": self.from_user,
            "found": self.found,
            "truncated": self.truncated,
        }


@dataclass
class ArgumentFlow:
    """Where one argument came from: each leaf, and what holds for all of them.

    ``from_user`` and ``found`` hold only when they hold for every leaf (an argument with
    no leaf is neither); ``labels``, ``tools`` and ``sources`` gather those of every leaf.
    """

    leaves: list[LeafFlow] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    value_labels: set[str] = field(default_factory=set)
    tools: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)
    from_user: bool = False
    found: bool = False
    truncated: bool = False

    @classmethod
    def of(cls, leaf_flows: list[LeafFlow], truncated: bool = False) -> ArgumentFlow:
        flow = cls(leaves=leaf_flows, truncated=truncated)
        seen: set[str] = set()
        for leaf in leaf_flows:
            flow.labels |= leaf.labels
            flow.value_labels |= leaf.value_labels
            flow.tools |= leaf.tools
            flow.truncated |= leaf.truncated
            for source in leaf.sources:
                if source not in seen:
                    seen.add(source)
                    flow.sources.append(source)
        # What was not looked up is neither the user's nor known: a cut argument never is.
        whole = bool(leaf_flows) and not flow.truncated
        flow.from_user = whole and all(leaf.from_user for leaf in leaf_flows)
        flow.found = whole and all(leaf.found for leaf in leaf_flows)
        return flow

    def foreign_labels(self) -> set[str]:
        """Labels of the leaves the user did not write: what an injection looks like."""
        out: set[str] = set()
        for leaf in self.leaves:
            if not leaf.from_user:
                out |= leaf.labels
        return out - {USER}

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": sorted(self.labels),
            "value_labels": sorted(self.value_labels),
            "tools": sorted(self.tools),
            "sources": list(self.sources),
            "from_user": self.from_user,
            "found": self.found,
            "truncated": self.truncated,
            "leaves": [leaf.as_dict() for leaf in self.leaves],
        }


def argument_keys(value: Any, limit: int = MAX_ARGUMENT_CHARS) -> tuple[list[LeafKeys], bool]:
    """The keys of every leaf of one argument; and whether the argument was cut."""
    out: list[LeafKeys] = []
    left = limit
    truncated = False
    for path, raw in leaves(value):
        if left <= 0 or len(out) >= MAX_LEAVES:
            truncated = True
            break
        keys = lookup_keys(path, raw, left)
        left -= min(len(raw), left)
        out.append(keys)
    return out, truncated


class ValueIndex:
    """Key digest -> what held it. Not thread-safe: the session graph holds the lock."""

    def __init__(self) -> None:
        # A key held once (most keys: phrases, numbers) is a ``(node, kind id)`` pair, which
        # the garbage collector stops tracking; a key held more often is an ``_Entry``. So a
        # large result does not make every later collection walk millions of objects.
        self._entries: dict[int, _Entry | tuple[str, int]] = {}
        self._keys_of: dict[str, list[tuple[int, tuple[int, ...]]]] = {}
        self._kind_ids: dict[_Kind, int] = {}
        self._kind_list: list[_Kind] = []

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, holder: Holder, keys: Iterable[int]) -> None:
        """Remember that ``holder`` contained every key in ``keys``."""
        stored = tuple(keys)
        kind_id = self._kind_id(holder)
        kind = self._kind_list[kind_id]
        entries = self._entries
        node = holder.node
        single = (node, kind_id)
        for key in stored:
            entry = entries.get(key)
            if entry is None:
                entries[key] = single
                continue
            if type(entry) is tuple:
                entry = entries[key] = self._grown(entry)
            holders = entry.holders
            holders.append(node)
            if len(holders) > HOLDERS_PER_KEY:
                del holders[0]
            entry.kinds[kind] = entry.kinds.get(kind, 0) + 1
        self._keys_of.setdefault(node, []).append((kind_id, stored))

    def _kind_id(self, holder: Holder) -> int:
        kind = (holder.labels, holder.tool, holder.user)
        found = self._kind_ids.get(kind)
        if found is None:
            found = self._kind_ids[kind] = len(self._kind_list)
            self._kind_list.append(kind)
        return found

    def _grown(self, single: tuple[str, int]) -> _Entry:
        entry = _Entry()
        entry.holders.append(single[0])
        entry.kinds[self._kind_list[single[1]]] = 1
        return entry

    def _get(self, key: int) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or type(entry) is not tuple:
            return entry
        return self._grown(entry)

    def remove(self, node: str) -> None:
        """Forget everything ``node`` contributed (when the graph evicts it)."""
        entries = self._entries
        for kind_id, keys in self._keys_of.pop(node, ()):
            kind = self._kind_list[kind_id]
            for key in keys:
                entry = entries.get(key)
                if entry is None:
                    continue
                if type(entry) is tuple:
                    if entry[0] == node:
                        del entries[key]
                    continue
                while node in entry.holders:
                    entry.holders.remove(node)
                _decrement(entry.kinds, kind)
                if not entry.kinds:
                    del entries[key]

    def lookup(self, value: Any) -> ArgumentFlow:
        """Where ``value`` (an argument, possibly nested) came from, leaf by leaf."""
        keys, truncated = argument_keys(value)
        return self.lookup_prepared({"": (keys, truncated)}, {})[""]

    def lookup_prepared(
        self,
        prepared: Mapping[str, tuple[list[LeafKeys], bool]],
        joins: Mapping[tuple[tuple[str, int], ...], set[int]],
    ) -> dict[str, ArgumentFlow]:
        """Flows of arguments whose keys were computed beforehand (outside any lock).

        ``joins`` maps groups of leaves (argument name, leaf position) to the keys of
        their texts read together; a key found only there is added to each of them.
        """
        flows: dict[str, list[LeafFlow]] = {}
        for name, (leaf_keys, _) in prepared.items():
            flows[name] = [self._leaf(k) for k in leaf_keys]
        for group, keys in joins.items():
            for key in keys:
                entry = self._get(key)
                if entry is None:
                    continue
                for name, position in group:
                    leaf = flows[name][position]
                    _add(leaf, entry)
                    if not entry.user:
                        leaf.from_user = False
                        leaf.value_labels.update(entry.labels())
        return {
            name: ArgumentFlow.of(flows[name], truncated=prepared[name][1]) for name in prepared
        }

    def _leaf(self, keys: LeafKeys) -> LeafFlow:
        leaf = LeafFlow(path=keys.path, truncated=keys.truncated)
        get = self._get
        foreign: set[str] = set()  # labels of values the user did not type
        whole_user = False
        if keys.whole is not None:
            entry = get(keys.whole)
            if entry is not None:
                _add(leaf, entry)
                whole_user = entry.user
        values_user = bool(keys.values)
        for same in keys.values:
            value_user = False
            labels: set[str] = set()
            for key in same:
                entry = get(key)
                if entry is not None:
                    _add(leaf, entry)
                    value_user = value_user or entry.user
                    labels.update(entry.labels())
            values_user = values_user and value_user
            if not value_user:
                foreign |= labels
        for key in keys.derived:
            entry = get(key)
            if entry is not None:
                _add(leaf, entry)
        hidden_foreign = False
        for group, counts_as_value in ((keys.hidden, True), (keys.phrases, False)):
            for key in group:
                entry = get(key)
                if entry is not None:
                    _add(leaf, entry)
                    if not entry.user:
                        hidden_foreign = True
                        if counts_as_value:
                            foreign.update(entry.labels())
        leaf.from_user = (whole_user or (values_user and not hidden_foreign)) and not keys.truncated
        if leaf.from_user:
            leaf.labels.add(USER)
        else:
            leaf.value_labels = foreign
        return leaf


def _add(leaf: LeafFlow, entry: _Entry) -> None:
    leaf.found = True
    leaf.labels.update(entry.labels())
    leaf.tools.update(entry.tools())
    for node in entry.holders:
        if node not in leaf.sources:
            leaf.sources.append(node)


def _decrement(counts: dict[Any, int], name: Any) -> None:
    left = counts.get(name, 0) - 1
    if left > 0:
        counts[name] = left
    else:
        counts.pop(name, None)
