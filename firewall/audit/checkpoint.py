"""Signed checkpoints of the audit chain, kept somewhere the log's writers cannot rewrite.

A checkpoint says "this log had N records and its head hash was H at time T", in the C2SP
``tlog-checkpoint`` text format inside a C2SP ``signed-note``, signed with Ed25519. The
verifier needs only the public key. Someone who can rewrite the database (even one who
holds the chain's HMAC key) cannot change, delete or cut any record up to the last
checkpoint without ``verify --checkpoints`` noticing; only records written after it are
exposed. How often a checkpoint is written (every N records or T seconds) is that window.

Key texts follow the signed-note conventions:
``PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>`` for the signer and
``<name>+<key id>+<base64(0x01 || public key)>`` for the verifier, where the key id is the
first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key), in hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DEFAULT_ORIGIN = "toolcall-firewall/audit"
_DASH = "\u2014"  # the em dash that starts a signature line


class CheckpointError(ValueError):
    """A key text or checkpoint note that cannot be read."""


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise CheckpointError("a key name is non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class CheckpointVerifier:
    """A public key that checks checkpoint signatures."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_text(cls, text: str) -> CheckpointVerifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise CheckpointError("a verifier key is NAME+KEYID+BASE64")
        name, key_id, encoded = parts
        raw = _b64(encoded)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise CheckpointError("a verifier key holds an Ed25519 public key")
        verifier = cls(_check_name(name), raw[1:])
        if verifier.key_id.hex() != key_id.lower():
            raise CheckpointError("the verifier key's id does not match its key")
        return verifier

    def verify(self, body: str, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, body.encode())
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class CheckpointSigner:
    """A private key that signs checkpoints."""

    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> CheckpointSigner:
        key = Ed25519PrivateKey.generate()
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(_check_name(name), seed)

    @property
    def verifier(self) -> CheckpointVerifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return CheckpointVerifier(self.name, public)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    @classmethod
    def from_text(cls, text: str) -> CheckpointSigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("a signer key is PRIVATE+KEY+NAME+KEYID+BASE64")
        raw = _b64(parts[4])
        if len(raw) != 33 or raw[:1] != ED25519:
            raise CheckpointError("a signer key holds an Ed25519 seed")
        signer = cls(_check_name(parts[2]), raw[1:])
        if signer.verifier.key_id.hex() != parts[3].lower():
            raise CheckpointError("the signer key's id does not match its key")
        return signer

    def sign(self, body: str) -> str:
        """The signed note: the body, a blank line, one signature line."""
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(body.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{body}\n{_DASH} {self.name} {encoded}\n"


@dataclass(frozen=True)
class Checkpoint:
    """The log's size and head hash at one moment."""

    origin: str
    size: int
    head: str  # hex, as stored in the log
    time: str = ""

    def body(self) -> str:
        """The checkpoint text: origin, size, base64 head hash, then a time extension line."""
        encoded = base64.b64encode(bytes.fromhex(self.head)).decode()
        extra = f"time {self.time}\n" if self.time else ""
        return f"{self.origin}\n{self.size}\n{encoded}\n{extra}"

    @classmethod
    def from_body(cls, body: str) -> Checkpoint:
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("a checkpoint has an origin, a size and a hash line")
        origin, size, encoded = lines[0], lines[1], lines[2]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise CheckpointError(f"bad checkpoint size {size!r}")
        stamp = ""
        for line in lines[3:-1]:
            if line.startswith("time "):
                stamp = line[5:]
        return cls(origin=origin, size=int(size), head=_b64(encoded).hex(), time=stamp)


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint read from a note, and whether the given key signed it."""

    checkpoint: Checkpoint | None
    note: str
    valid: bool
    problem: str = ""


def read_notes(text: str) -> Iterator[str]:
    """Split concatenated signed notes (each: body, blank line, signature lines)."""
    lines = text.split("\n")
    current: list[str] = []
    in_signatures = False
    for line in lines:
        if in_signatures:
            if line.startswith(_DASH + " "):
                current.append(line)
                continue
            yield "\n".join(current) + "\n"
            current, in_signatures = [], False
            if line == "":
                continue
        if line == "" and current:
            current.append(line)
            in_signatures = True
            continue
        if line == "" and not current:
            continue
        current.append(line)
    if current:
        yield "\n".join(current) + ("\n" if in_signatures else "")


def open_note(note: str, verifier: CheckpointVerifier) -> SignedCheckpoint:
    """Check one note's signature by ``verifier`` and read its checkpoint."""
    body, sep, signatures = note.partition("\n\n")
    if not sep:
        return SignedCheckpoint(None, note, False, "not a signed note")
    body += "\n"
    signed = False
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH or parts[1] != verifier.name:
            continue
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            continue
        if raw[:4] == verifier.key_id and verifier.verify(body, raw[4:]):
            signed = True
    try:
        checkpoint = Checkpoint.from_body(body)
    except CheckpointError as exc:
        return SignedCheckpoint(None, note, False, str(exc))
    if not signed:
        return SignedCheckpoint(checkpoint, note, False, "no valid signature by the given key")
    return SignedCheckpoint(checkpoint, note, True)


def read_checkpoints(path: str | Path, verifier: CheckpointVerifier) -> list[SignedCheckpoint]:
    """Every note in a checkpoints file, each checked against ``verifier``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoints {path}: {exc}") from None
    return [open_note(note, verifier) for note in read_notes(text)]


# -- writing ---------------------------------------------------------------------------

#: Where signed notes go: called with the note text; raises when it cannot be kept.
Destination = Callable[[str], None]


def file_destination(path: str | Path) -> Destination:
    """Append each note to a file (on another disk or host than the log, ideally)."""
    lock = threading.Lock()

    def write(note: str) -> None:
        with lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(note + "\n")
            handle.flush()

    return write


def stream_destination(stream: TextIO | None = None) -> Destination:
    """Print each note (stdout by default), for a log collector to keep."""

    def write(note: str) -> None:
        out = stream or sys.stdout
        out.write(note + "\n")
        out.flush()

    return write


def http_destination(url: str, timeout: float = 5.0) -> Destination:
    """POST each note as ``text/plain`` to a witness endpoint."""

    def write(note: str) -> None:
        request = urllib.request.Request(
            url, data=note.encode(), headers={"Content-Type": "text/plain"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                raise OSError(f"witness answered {response.status}")

    return write


class Checkpointer:
    """Signs a checkpoint every ``every_records`` records or ``every_seconds`` seconds.

    The sink calls ``observe`` after each committed append; a checkpoint is written from
    the last record of that append, which is a prefix of the chain whatever other writers
    do. ``flush`` writes one for the latest head now (the sink calls it on close).
    """

    def __init__(
        self,
        signer: CheckpointSigner,
        destination: Destination | str | Path,
        *,
        origin: str = DEFAULT_ORIGIN,
        every_records: int = 1000,
        every_seconds: float = 60.0,
    ) -> None:
        if every_records < 1 or every_seconds <= 0:
            raise ValueError("checkpoints need every_records >= 1 and every_seconds > 0")
        self.signer = signer
        self.destination = destination if callable(destination) else file_destination(destination)
        self.origin = origin
        self.every_records = every_records
        self.every_seconds = every_seconds
        self._lock = threading.Lock()
        self._since = 0
        self._last_time = time.monotonic()
        self._latest: tuple[int, str] | None = None
        self._written: tuple[int, str] | None = None

    def observe(self, seq: int, head: str, count: int) -> None:
        with self._lock:
            self._since += count
            if self._latest is None or seq > self._latest[0]:
                self._latest = (seq, head)
            due = (
                self._since >= self.every_records
                or time.monotonic() - self._last_time >= self.every_seconds
            )
            if due:
                self._write_locked()

    def flush(self) -> None:
        with self._lock:
            if self._latest is not None and self._latest != self._written:
                self._write_locked()

    def _write_locked(self) -> None:
        assert self._latest is not None
        seq, head = self._latest
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        note = self.signer.sign(Checkpoint(self.origin, seq, head, stamp).body())
        self.destination(note)
        self._written = self._latest
        self._since = 0
        self._last_time = time.monotonic()


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("not valid base64") from None
