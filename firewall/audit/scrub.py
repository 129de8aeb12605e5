"""What the audit log may keep of a call's arguments: never a secret in clear.

With a redactor (the redaction engine, or any callable ``value -> (redacted, counts)``)
the log keeps the redacted arguments (placeholders instead of PII and secrets) and the
entity counts; replay then evaluates the redacted values. Without one it keeps only each
argument's name, type and a hash, and replay reports such calls as not replayable.
A hash of a low-entropy value (an amount, a one-time code) can be guessed by trying
values: with ``hash_key`` (the sink derives one from the chain key) it is HMAC-SHA256.
Values under credential-named keys (``password``, ``otp``, ``token``, ...; the list is
``credential_keys.yaml``) are never stored in either form, whatever they look like.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from firewall.audit.credentials import WITHHELD, withhold_credentials
from firewall.model import canonical_json

#: ``redactor(value) -> (redacted value, {entity type: count})``.
Redactor = Callable[[Any], tuple[Any, Mapping[str, int]]]

REDACTED = "redacted"
HASHED = "hashed"


class Scrubber:
    """Turns arguments and context into what the log may store."""

    def __init__(self, redactor: Redactor | None = None, hash_key: bytes | None = None) -> None:
        self.redactor = redactor
        self.hash_key = hash_key

    @property
    def form(self) -> str:
        return REDACTED if self.redactor is not None else HASHED

    def scrub(self, value: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        """(storable form of a mapping, entity counts)."""
        value = withhold_credentials(value)
        if self.redactor is not None:
            redacted, counts = self.redactor(dict(value))
            return dict(redacted), {str(k): int(v) for k, v in counts.items()}
        return {
            name: item if item == WITHHELD else self.fingerprint(item)
            for name, item in value.items()
        }, {}

    def fingerprint(self, value: Any) -> dict[str, Any]:
        """Type and (keyed) hash of one value."""
        text = canonical_json(value).encode()
        if self.hash_key is not None:
            return {
                "type": type(value).__name__,
                "hmac": hmac.new(self.hash_key, text, hashlib.sha256).hexdigest(),
            }
        return {"type": type(value).__name__, "sha256": hashlib.sha256(text).hexdigest()}


def redactor_for(firewall: Any, hash_key: bytes | None = None) -> Redactor:
    """The firewall's own redaction engine as the audit log's redactor.

    A withheld result is stored as ``{"withheld": true}``; when the policy turns
    redaction off, the values are stored as hashes (keyed with ``hash_key``), never in
    clear.
    """
    hashing = Scrubber(hash_key=hash_key)

    def redact(value: Any) -> tuple[Any, Mapping[str, int]]:
        result = firewall._redactor_for_policy().redact(value, session=None, tool="")
        if result.exempt:
            return hashing.scrub(value)
        if result.withheld or not isinstance(result.output, Mapping):
            return {"withheld": True}, dict(result.entities)
        return result.output, dict(result.entities)

    return redact
