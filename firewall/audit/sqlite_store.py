"""The audit log in one SQLite file (WAL mode), safe for many threads and processes.

Appends run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken before the last
record is read, so two writers can never continue the chain from the same record. A
process killed mid-append leaves no partial record: SQLite rolls the transaction back.

``synchronous=NORMAL`` (the default here) survives any process crash; after a power
loss the most recent commits may be missing but the chain stays valid. Pass
``synchronous="FULL"`` to also survive power loss, at some cost in throughput.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from firewall.audit.keys import ChainKey
from firewall.audit.records import GENESIS, StoredRecord, seal
from firewall.audit.store import AuditLogMissing, AuditStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    seq  INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    body TEXT NOT NULL
)
"""


class SQLiteStore(AuditStore):
    """A hash-chained log in a SQLite file; one connection per thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        timeout: float = 60.0,
        key: ChainKey | None = None,
        create: bool = True,
    ) -> None:
        self.path = str(path)
        self.key = key
        self.create = create
        if not create and not Path(self.path).is_file():
            raise AuditLogMissing(f"no audit log at {self.path}")
        self.synchronous = synchronous
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            conn = self._conn()  # create the file and schema now, so errors surface at open
        except sqlite3.DatabaseError as exc:
            if create:
                raise
            raise AuditLogMissing(f"{self.path} is not an audit log ({exc})") from None
        if not create:
            self._require_table(conn)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            if self.create:
                conn.execute(_SCHEMA)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def _require_table(self, conn: sqlite3.Connection) -> None:
        try:
            row = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise AuditLogMissing(f"{self.path} is not an audit log ({exc})") from None
        if row is None:
            self.close()
            raise AuditLogMissing(f"{self.path} has no audit log table")

    def append(self, bodies: Sequence[Mapping[str, Any]]) -> list[StoredRecord]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev = row if row is not None else (0, GENESIS)
            sealed = []
            for body in bodies:
                seq += 1
                record = seal(body, seq, prev, self.key)
                sealed.append(record)
                prev = record.hash
            conn.executemany(
                "INSERT INTO audit_log (seq, hash, body) VALUES (?, ?, ?)",
                [(r.seq, r.hash, r.body) for r in sealed],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return sealed

    def records(self, start: int = 1) -> Iterator[StoredRecord]:
        cursor = self._conn().execute(
            "SELECT seq, hash, body FROM audit_log WHERE seq >= ? ORDER BY seq", (start,)
        )
        for seq, hash_, body in cursor:
            yield StoredRecord(seq=seq, hash=hash_, body=body)

    def head(self) -> tuple[int, str]:
        row = (
            self._conn()
            .execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetchone()
        )
        return (row[0], row[1]) if row is not None else (0, GENESIS)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
