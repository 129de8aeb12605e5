"""The tamper-evident audit log: hash-chained records in SQLite or PostgreSQL."""

from typing import Any

from firewall.audit.records import GENESIS, StoredRecord
from firewall.audit.scrub import Redactor, Scrubber
from firewall.audit.sink import AuditSink, decision_body
from firewall.audit.store import AuditStore, open_store
from firewall.audit.verify import Problem, VerifyReport, verify_records


def verify(target: str, expect_head: str | None = None, **options: Any) -> VerifyReport:
    """Verify the log at a file path or ``postgresql://`` URL (``table=`` for PostgreSQL)."""
    with open_store(target, **options) as store:
        return verify_records(store.records(), expect_head=expect_head)


__all__ = [
    "GENESIS",
    "AuditSink",
    "AuditStore",
    "Problem",
    "Redactor",
    "Scrubber",
    "StoredRecord",
    "VerifyReport",
    "decision_body",
    "open_store",
    "verify",
    "verify_records",
]
