"""Where audit records live: a SQLite file by default, PostgreSQL for many hosts."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from firewall.audit.records import StoredRecord


class AuditLogMissing(FileNotFoundError):
    """The log to read does not exist (no file, or no table): never an empty, intact log."""


class AuditStore(ABC):
    """An append-only, hash-chained log. ``append`` is atomic and serialised across
    threads, processes and (for PostgreSQL) hosts: every batch continues the chain.

    Stores take ``key=`` (a ``ChainKey``) to seal with HMAC, and ``create=False`` to open
    an existing log only (``AuditLogMissing`` otherwise), as a verifier must.
    """

    @abstractmethod
    def append(self, bodies: Sequence[Mapping[str, Any]]) -> list[StoredRecord]:
        """Seal and store ``bodies`` in order, in one transaction; all or nothing."""

    @abstractmethod
    def records(self, start: int = 1) -> Iterator[StoredRecord]:
        """Every record from sequence number ``start``, in stored order."""

    @abstractmethod
    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last record; ``(0, GENESIS)`` when empty."""

    def close(self) -> None:  # noqa: B027 - optional for stores without resources
        """Release connections."""

    def __enter__(self) -> AuditStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(target: str | Path, **options: Any) -> AuditStore:
    """A SQLite log at a file path, or a PostgreSQL log for a ``postgresql://`` URL.

    Options: ``key`` (seal with HMAC), ``create`` (``False`` to require an existing log),
    and each store's own (``table``, ``synchronous``, ...).
    """
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from firewall.audit.postgres_store import PostgresStore

        return PostgresStore(text, **options)
    from firewall.audit.sqlite_store import SQLiteStore

    return SQLiteStore(text, **options)
