"""The secret key of the audit chain: where it comes from, how it is named, how it rotates.

With a key, each record's hash is HMAC-SHA-256 over its canonical body, so someone who can
write the database but does not hold the key cannot rewrite the chain and make it verify.
Each keyed record names its key by ``kid`` (a fingerprint, not the key), so a log can be
verified across a rotation: write with the new key, keep the old one in the verifier's
keyring for the records it sealed.

A key is at least 32 random bytes, given as hex or base64 text in a file or in the
environment variable ``FIREWALL_AUDIT_KEY`` (``FIREWALL_AUDIT_KEY_FILE`` names a file).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

KEY_ENV = "FIREWALL_AUDIT_KEY"
KEY_FILE_ENV = "FIREWALL_AUDIT_KEY_FILE"
MIN_KEY_BYTES = 32


class AuditKeyError(ValueError):
    """A chain key that is missing, unreadable or too short."""


@dataclass(frozen=True)
class ChainKey:
    """An HMAC key for the chain; ``kid`` is its public fingerprint."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise AuditKeyError(
                f"an audit key needs at least {MIN_KEY_BYTES} bytes, got {len(self.secret)}"
            )

    @property
    def kid(self) -> str:
        return hashlib.sha256(b"firewall-audit-kid\n" + self.secret).hexdigest()[:16]

    def mac(self, text: str) -> str:
        """HMAC-SHA-256 of a canonical record body, hex."""
        return hmac.new(self.secret, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def derive(self, purpose: str) -> bytes:
        """A separate key for another use (argument hashes), so one MAC never serves two."""
        return hmac.new(self.secret, f"firewall-audit:{purpose}".encode(), hashlib.sha256).digest()

    @classmethod
    def generate(cls) -> ChainKey:
        return cls(secrets.token_bytes(MIN_KEY_BYTES))

    def to_text(self) -> str:
        return self.secret.hex()

    @classmethod
    def from_text(cls, text: str) -> ChainKey:
        """Hex or base64 text (surrounding whitespace ignored)."""
        value = text.strip()
        try:
            return cls(bytes.fromhex(value))
        except ValueError:
            pass
        try:
            return cls(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise AuditKeyError("an audit key is hex or base64 text") from None

    @classmethod
    def from_file(cls, path: str | Path) -> ChainKey:
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditKeyError(f"cannot read audit key file {path}: {exc}") from None
        return cls.from_text(text)


def key_from_environment(environ: Mapping[str, str] | None = None) -> ChainKey | None:
    """The key named by ``FIREWALL_AUDIT_KEY`` or ``FIREWALL_AUDIT_KEY_FILE``, if any."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return ChainKey.from_text(env[KEY_ENV])
    if env.get(KEY_FILE_ENV):
        return ChainKey.from_file(env[KEY_FILE_ENV])
    return None


class Keyring:
    """The keys a verifier holds, found by ``kid`` (the current one and those rotated out)."""

    def __init__(self, keys: Iterable[ChainKey] = ()) -> None:
        self._by_kid = {key.kid: key for key in keys}

    def __bool__(self) -> bool:
        return bool(self._by_kid)

    def get(self, kid: str) -> ChainKey | None:
        return self._by_kid.get(kid)
