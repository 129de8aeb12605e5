"""The audit record: canonical JSON, its hash, and the hash of the record before it.

A record's hash is computed over ``canonical_json(body)`` where the body holds its
sequence number and the previous record's hash (``prev``), so changing, removing,
inserting or moving any record breaks the chain at that point. The first record's
``prev`` is ``GENESIS``. Ordering comes from the sequence number assigned under the
store's write lock, never from clocks: ``time`` is informational.

Unkeyed, the hash is SHA-256, which anyone can recompute after an edit. Keyed (see
``firewall.audit.keys``), it is HMAC-SHA-256 and the body names the key (``kid``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firewall.audit.keys import ChainKey
from firewall.model import canonical_json

FORMAT_VERSION = 1
GENESIS = "0" * 64


@dataclass(frozen=True)
class StoredRecord:
    """One row of a log as stored: position, hash column and the canonical body text."""

    seq: int
    hash: str
    body: str

    def data(self) -> dict[str, Any]:
        """The parsed body."""
        return json.loads(self.body)


def seal(body: Mapping[str, Any], seq: int, prev: str, key: ChainKey | None = None) -> StoredRecord:
    """Give ``body`` its place in the chain: sequence number, previous hash, own hash."""
    full = dict(body)
    full["seq"] = seq
    full["prev"] = prev
    if key is not None:
        full["kid"] = key.kid
    text = canonical_json(full)
    return StoredRecord(seq=seq, hash=digest(text, key), body=text)


def digest(text: str, key: ChainKey | None = None) -> str:
    """The hash of a canonical body, hex: HMAC-SHA-256 with a key, SHA-256 without."""
    if key is not None:
        return key.mac(text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
