"""The provenance of one call: its arguments leaf by leaf, values split across them, and
every recipient address, looked up in a session's value index.

Preparing (cutting the arguments into keys) is the costly part and touches no shared
state, so it runs before the session's lock; the lookup itself is hash-map reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firewall.provenance import (
    MAX_ARGUMENT_CHARS,
    MAX_LEAVES,
    ArgumentFlow,
    LeafKeys,
    ValueIndex,
    argument_keys,
    join_keys,
    leaves,
    lookup_keys,
    placeholder_keys,
)
from firewall.recipients import Recipient
from firewall.recipients import recipients as split_recipients

#: Leaves of at most this many characters, up to this many per call, are also joined
#: pairwise in both orders, to find a value split across two arguments.
MAX_SPLIT_PART = 64
MAX_SPLIT_LEAVES = 16


@dataclass
class PreparedCall:
    """The lookup keys of one call's arguments, computed outside the session's lock."""

    arguments: dict[str, tuple[list[LeafKeys], bool]]
    joins: dict[tuple[tuple[str, int], ...], set[int]]
    recipients: list[Recipient]
    addresses: dict[str, tuple[list[LeafKeys], bool]]


def prepare_call(
    arguments: Mapping[str, Any],
    recipient_arguments: tuple[str, ...] = (),
    written: Mapping[str, Any] | None = None,
) -> PreparedCall:
    """Every key the lookup of one call needs: cut before the session's lock is taken.

    ``written`` is the arguments as the model wrote them when the firewall restored
    placeholders in them: a restored leaf also carries what its placeholders carry (a
    name put back into a sentence has no key of its own).
    """
    prepared = {name: argument_keys(value) for name, value in arguments.items()}
    if written:
        _add_placeholders(prepared, arguments, written)
    # A value split in two: each pair of neighbouring leaves, and all of them, read as one.
    texts: list[tuple[tuple[str, int], str]] = []
    for name, value in arguments.items():
        for position, (_, text) in enumerate(_leaf_texts(value)):
            texts.append(((name, position), text))
    joins: dict[tuple[tuple[str, int], ...], set[int]] = {}
    own: set[int] = set()
    for keys, _ in prepared.values():
        for leaf in keys:
            own |= leaf.all_keys()
    # Short leaves: every ordered pair (a value split into two fields in any order);
    # all leaves: each neighbouring pair, and everything read as one.
    short = [(where, text) for where, text in texts if len(text) <= MAX_SPLIT_PART][
        :MAX_SPLIT_LEAVES
    ]
    pairs = set(itertools.permutations(short, 2)) | set(itertools.pairwise(texts))
    for (a, first), (b, second) in pairs:
        found = join_keys([first, second]) - own
        if found:
            joins.setdefault((a, b), set()).update(found)
    if len(texts) > 2:
        found = join_keys([t for _, t in texts]) - own
        for pair in joins.values():
            found -= pair
        if found:
            joins[tuple(where for where, _ in texts)] = found
    found_recipients = split_recipients(arguments, recipient_arguments)
    addresses = {
        str(i): ([lookup_keys("", r.written, 1024)], False) for i, r in enumerate(found_recipients)
    }
    return PreparedCall(prepared, joins, found_recipients, addresses)


def _add_placeholders(
    prepared: dict[str, tuple[list[LeafKeys], bool]],
    arguments: Mapping[str, Any],
    written: Mapping[str, Any],
) -> None:
    """Add the placeholder keys of ``written`` to the leaves restored from them."""
    for name, value in written.items():
        found = prepared.get(name)
        if found is None or arguments.get(name) == value:
            continue
        for keys, (path, text) in zip(found[0], leaves(value), strict=False):
            if keys.path == path:
                keys.hidden |= placeholder_keys(text) - keys.all_keys()


def _leaf_texts(value: Any) -> list[tuple[str, str]]:
    """The leaves ``argument_keys`` looked up, in the same order (so positions match)."""
    out, left = [], MAX_ARGUMENT_CHARS
    for path, text in leaves(value):
        if left <= 0 or len(out) >= MAX_LEAVES:
            break
        out.append((path, text[:left]))
        left -= len(text)
    return out


def lookup_call(
    index: ValueIndex, prepared: PreparedCall
) -> tuple[dict[str, ArgumentFlow], list[dict[str, Any]]]:
    """Each argument's flow, and one record per recipient address (``flow.recipients``)."""
    flows = index.lookup_prepared(prepared.arguments, prepared.joins)
    addresses = index.lookup_prepared(prepared.addresses, {})
    records = []
    for i, recipient in enumerate(prepared.recipients):
        record = addresses[str(i)].as_dict()
        del record["leaves"]
        record.update(
            address=recipient.address,
            argument=recipient.argument,
            domain=recipient.domain,
            registered_domain=recipient.registered_domain,
        )
        records.append(record)
    return flows, records
