"""The audit log on PostgreSQL, for many agent processes on several hosts.

Appends take a transaction-scoped advisory lock (``pg_advisory_xact_lock``) derived from
the table name before reading the last record, so concurrent writers on any host
continue one chain; the lock is released by the commit or rollback itself. Order comes
from the sequence number assigned under that lock, never from a clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from firewall.audit.keys import ChainKey
from firewall.audit.records import GENESIS, StoredRecord, seal
from firewall.audit.store import AuditLogMissing, AuditStore

_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class PostgresStore(AuditStore):
    """A hash-chained log in a PostgreSQL table; one connection per thread."""

    def __init__(
        self,
        url: str,
        *,
        table: str = "firewall_audit",
        connect_timeout: int = 10,
        key: ChainKey | None = None,
        create: bool = True,
    ):
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the PostgreSQL audit log needs psycopg: pip install 'toolcall-firewall[postgres]'"
            ) from exc
        if not _TABLE.match(table):
            raise ValueError(f"invalid table name {table!r}")
        self._psycopg = psycopg
        self.url = url
        self.table = table
        self.key = key
        self.connect_timeout = connect_timeout
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"firewall-audit:{table}".encode()).digest()[:8], "big", signed=True
        )
        self._local = threading.local()
        self._all: list[Any] = []
        self._guard = threading.Lock()
        conn = self._conn()
        if not create:
            found = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if found is None or found[0] is None:
                raise AuditLogMissing(f"no audit log table {table!r} in that database")
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " seq BIGINT PRIMARY KEY, hash TEXT NOT NULL, body TEXT NOT NULL)"
            )

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=self.connect_timeout
            )
            self._local.conn = conn
            with self._guard:
                self._all.append(conn)
        return conn

    def append(self, bodies: Sequence[Mapping[str, Any]]) -> list[StoredRecord]:
        conn = self._conn()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            row = conn.execute(
                f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            seq, prev = (row[0], row[1]) if row is not None else (0, GENESIS)
            sealed = []
            for body in bodies:
                seq += 1
                record = seal(body, seq, prev, self.key)
                sealed.append(record)
                prev = record.hash
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {self.table} (seq, hash, body) VALUES (%s, %s, %s)",
                    [(r.seq, r.hash, r.body) for r in sealed],
                )
        return sealed

    def records(self, start: int = 1) -> Iterator[StoredRecord]:
        conn = self._conn()
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT seq, hash, body FROM {self.table} WHERE seq >= %s ORDER BY seq",
                (start,),
            )
            for seq, hash_, body in cur:
                yield StoredRecord(seq=seq, hash=hash_, body=body)

    def head(self) -> tuple[int, str]:
        row = (
            self._conn()
            .execute(f"SELECT seq, hash FROM {self.table} ORDER BY seq DESC LIMIT 1")
            .fetchone()
        )
        return (row[0], row[1]) if row is not None else (0, GENESIS)

    def close(self) -> None:
        with self._guard:
            for conn in self._all:
                with contextlib.suppress(Exception):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
