"""The tamper-evident audit log: keyed, hash-chained records in SQLite or PostgreSQL,
with signed checkpoints kept elsewhere."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from firewall.audit.checkpoint import (
    Checkpoint,
    Checkpointer,
    CheckpointSigner,
    CheckpointVerifier,
    read_checkpoints,
)
from firewall.audit.keys import ChainKey, Keyring, key_from_environment
from firewall.audit.records import GENESIS, StoredRecord
from firewall.audit.scrub import Redactor, Scrubber
from firewall.audit.sink import AuditSink, decision_body
from firewall.audit.store import AuditLogMissing, AuditStore, open_store
from firewall.audit.verify import KeyRequired, Problem, VerifyReport, verify_records


def verify(
    target: str,
    expect_head: str | None = None,
    *,
    keys: Iterable[ChainKey] = (),
    checkpoints: str | Path | None = None,
    verifier: CheckpointVerifier | None = None,
    **options: Any,
) -> VerifyReport:
    """Verify the log at a file path or ``postgresql://`` URL (``table=`` for PostgreSQL).

    ``keys``: the chain keys (current and rotated out). ``checkpoints`` + ``verifier``: a
    file of signed checkpoints and the public key that signed them. A missing log raises
    ``AuditLogMissing``; a keyed log verified without its key raises ``KeyRequired``.
    """
    signed = []
    if checkpoints is not None:
        if verifier is None:
            raise ValueError("checking checkpoints needs the verifier (public) key")
        signed = read_checkpoints(checkpoints, verifier)
    with open_store(target, create=False, **options) as store:
        return verify_records(
            store.records(), expect_head=expect_head, keyring=Keyring(keys), checkpoints=signed
        )


__all__ = [
    "GENESIS",
    "AuditLogMissing",
    "AuditSink",
    "AuditStore",
    "ChainKey",
    "Checkpoint",
    "CheckpointSigner",
    "CheckpointVerifier",
    "Checkpointer",
    "KeyRequired",
    "Keyring",
    "Problem",
    "Redactor",
    "Scrubber",
    "StoredRecord",
    "VerifyReport",
    "decision_body",
    "key_from_environment",
    "open_store",
    "read_checkpoints",
    "verify",
    "verify_records",
]
