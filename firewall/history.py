"""Session history for rules: what a session (and a principal) has done so far.

Rules such as "at most 5 payments per session", "no more than 20 DELETE statements per
hour per agent" or "once a secret was read, every egress needs approval" have no value
link between events, so they read the history instead of the data flow:

- the CEL variable ``session``: counts kept incrementally as calls are decided and
  results recorded (``tools``, ``intents``, ``labels_seen``, ``calls``, ``allowed``,
  ``denied``, ``approved``, ``started``, ``age_seconds``), never rebuilt by rescanning;
- the CEL functions ``calls(selector, seconds)``, ``attempts(selector, seconds)`` and
  ``principal_calls(selector, seconds)``: calls in a sliding window of the last
  ``seconds`` (0: the whole session), kept by an ``EventCounter`` that is in memory by
  default or shared across processes on PostgreSQL.

What counts: ``session.calls`` and ``attempts(...)`` count every decided call, whatever
the verdict; ``calls(...)``, ``principal_calls(...)`` and ``session.tools`` /
``session.intents`` count the calls that were allowed to run (approved ones included).
The call being decided is never counted in its own history.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from firewall.model import Intent

#: The history functions conditions may call, with their arity.
HISTORY_FUNCTIONS = ("calls", "attempts", "principal_calls")
#: Fields of the ``session`` variable.
SESSION_FIELDS = frozenset(
    {
        "tools",
        "intents",
        "labels_seen",
        "calls",
        "allowed",
        "denied",
        "approved",
        "started",
        "age_seconds",
    }
)
#: Timestamps kept per (scope, key) for windows; older ones are dropped, so a window can
#: only count this many recent events (whole-session counts stay exact).
MAX_TIMES_PER_KEY = 100_000
DEFAULT_MAX_SESSIONS = 4096
_SELECTOR = re.compile(r"^(?:\*|tool:[^\s]+|intent:[a-z_]+(?:\.[a-z_]+)*)$")

Clock = Callable[[], float]


class HistoryError(ValueError):
    """A selector or window a history function cannot use."""


def check_selector(selector: str) -> str:
    """``"*"``, ``"tool:<name>"`` or ``"intent:<intent or prefix>"``."""
    if not isinstance(selector, str) or not _SELECTOR.match(selector):
        raise HistoryError(
            f"history selector {selector!r}: use '*', 'tool:<name>' or 'intent:<intent>'"
        )
    return selector


def selectors_of(tool: str, intents: Iterable[str]) -> list[str]:
    """The selector keys one call counts under: ``*``, its tool, each intent and prefix."""
    keys = ["*", f"tool:{tool}"]
    seen: set[str] = set()
    for intent in intents:
        parts = intent.split(".")
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if prefix not in seen:
                seen.add(prefix)
                keys.append(f"intent:{prefix}")
    return keys


class EventCounter(Protocol):
    """Counts events per (scope, key) in a time window; shared stores make it global."""

    def add(self, scopes: Iterable[str], keys: Iterable[str], at: float) -> None: ...

    def count(self, scope: str, key: str, since: float) -> int: ...


class MemoryCounter:
    """Sorted timestamps per (scope, key); a count is one binary search."""

    def __init__(self, max_times: int = MAX_TIMES_PER_KEY, max_scopes: int = 65_536) -> None:
        self.max_times = max_times
        self.max_scopes = max_scopes
        self._times: OrderedDict[str, dict[str, list[float]]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, scopes: Iterable[str], keys: Iterable[str], at: float) -> None:
        keys = list(keys)
        with self._lock:
            for scope in scopes:
                per_key = self._times.get(scope)
                if per_key is None:
                    per_key = self._times[scope] = {}
                    if len(self._times) > self.max_scopes:
                        self._times.popitem(last=False)
                else:
                    self._times.move_to_end(scope)
                for key in keys:
                    times = per_key.setdefault(key, [])
                    if times and at < times[-1]:
                        bisect.insort(times, at)
                    else:
                        times.append(at)
                    if len(times) > 2 * self.max_times:
                        del times[: len(times) - self.max_times]

    def count(self, scope: str, key: str, since: float) -> int:
        with self._lock:
            times = self._times.get(scope, {}).get(key)
            if not times:
                return 0
            return len(times) - bisect.bisect_left(times, since)


class SessionHistory:
    """The counts of one session, updated as events happen (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tools: dict[str, int] = {}
        self.intents: dict[str, int] = {}
        self.labels_seen: set[str] = set()
        self.calls = 0
        self.allowed = 0
        self.denied = 0
        self.approved = 0
        self.started: float | None = None

    def note_call(
        self, tool: str, intents: Iterable[str], verdict: str, approved: bool, at: float
    ) -> None:
        with self._lock:
            self.started = at if self.started is None else self.started
            self.calls += 1
            if verdict == "allow":
                self.allowed += 1
                self.tools[tool] = self.tools.get(tool, 0) + 1
                for intent in intents:
                    self.intents[intent] = self.intents.get(intent, 0) + 1
            elif verdict == "deny":
                self.denied += 1
            if approved:
                self.approved += 1

    def note_event(self, labels: Iterable[str], at: float) -> None:
        with self._lock:
            self.started = at if self.started is None else self.started
            self.labels_seen.update(labels)

    def variable(
        self, now: float, tools: Iterable[str] = (), intents: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The CEL variable ``session``; ``tools`` and ``intents`` are named with a 0 count
        even when never called, so ``session.tools.send_money >= 5`` reads without ``has``."""
        with self._lock:
            return {
                "tools": {**dict.fromkeys(tools, 0), **self.tools},
                "intents": {**dict.fromkeys(intents, 0), **self.intents},
                "labels_seen": sorted(self.labels_seen),
                "calls": self.calls,
                "allowed": self.allowed,
                "denied": self.denied,
                "approved": self.approved,
                "started": self.started if self.started is not None else now,
                "age_seconds": now - self.started if self.started is not None else 0.0,
            }


EMPTY_SESSION = SessionHistory().variable(0.0)
#: Every intent of the taxonomy, named in ``session.intents`` with its count.
ALL_INTENTS = tuple(i.value for i in Intent)


class HistoryStore:
    """Session histories (bounded, least recently used dropped) and the window counter."""

    def __init__(
        self,
        counter: EventCounter | None = None,
        *,
        clock: Clock = time.time,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        self.counter: EventCounter = counter if counter is not None else MemoryCounter()
        self.clock = clock
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str | None, SessionHistory] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str | None) -> SessionHistory:
        with self._lock:
            found = self._sessions.get(session)
            if found is None:
                found = self._sessions[session] = SessionHistory()
                if len(self._sessions) > self.max_sessions:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.move_to_end(session)
            return found

    def find(self, session: str | None) -> SessionHistory | None:
        with self._lock:
            return self._sessions.get(session)

    def note_call(
        self,
        session: str | None,
        principal: str,
        tool: str,
        intents: Iterable[str],
        verdict: str,
        approved: bool = False,
    ) -> None:
        """Count one decided call (after its verdict is final)."""
        now = self.clock()
        intents = tuple(intents)
        self.get(session).note_call(tool, intents, verdict, approved, now)
        keys = selectors_of(tool, intents)
        self.counter.add([_attempt_scope(session)], keys, now)
        if verdict == "allow":
            self.counter.add([_session_scope(session), _principal_scope(principal)], keys, now)

    def note_event(self, session: str | None, labels: Iterable[str]) -> None:
        """A result or message the session read, with its labels."""
        self.get(session).note_event(labels, self.clock())

    def view(self, session: str | None, principal: str, tools: tuple[str, ...] = ()) -> HistoryView:
        """The history as a call by ``principal`` in ``session`` sees it; ``tools`` are the
        declared tool names, listed in ``session.tools`` even before their first call."""
        return HistoryView(self, session, principal, self.clock(), tools)


class HistoryView:
    """The history as one call sees it: the ``session`` variable and the functions."""

    __slots__ = ("_now", "_principal", "_session", "_store", "_tools")

    def __init__(
        self,
        store: HistoryStore,
        session: str | None,
        principal: str,
        now: float,
        tools: tuple[str, ...] = (),
    ):
        self._store = store
        self._session = session
        self._principal = principal
        self._now = now
        self._tools = tools

    def variable(self) -> dict[str, Any]:
        found = self._store.find(self._session) or SessionHistory()
        return found.variable(self._now, self._tools, ALL_INTENTS)

    def functions(self) -> dict[str, Callable[..., int]]:
        return {
            "calls": lambda selector, seconds: self._count(
                _session_scope(self._session), selector, seconds
            ),
            "attempts": lambda selector, seconds: self._count(
                _attempt_scope(self._session), selector, seconds
            ),
            "principal_calls": lambda selector, seconds: self._count(
                _principal_scope(self._principal), selector, seconds
            ),
        }

    def _count(self, scope: str, selector: str, seconds: Any) -> int:
        check_selector(selector)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise HistoryError(f"a history window is a number of seconds >= 0, not {seconds!r}")
        since = 0.0 if seconds == 0 else self._now - float(seconds)
        return self._store.counter.count(scope, selector, since)


def _session_scope(session: str | None) -> str:
    return f"s:{session or ''}"


def _attempt_scope(session: str | None) -> str:
    return f"a:{session or ''}"


def _principal_scope(principal: str) -> str:
    return f"p:{principal}"


class PostgresCounter:
    """Window counts in a PostgreSQL table, so several agent processes see one count.

    One row per (scope, key, time); a count is an index range scan. Rows older than
    ``retention_seconds`` are deleted now and then, so a window (or a whole-session count)
    reaches back at most that far. Two processes deciding at the same instant can both see
    the count before the other's call: a limit of N may let N + (calls in flight) through.
    """

    def __init__(
        self,
        url: str,
        *,
        table: str = "firewall_events",
        retention_seconds: float = 7 * 24 * 3600,
        connect_timeout: int = 10,
    ) -> None:
        import psycopg

        if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", table):
            raise ValueError(f"invalid table name {table!r}")
        self._psycopg = psycopg
        self.url = url
        self.table = table
        self.retention_seconds = retention_seconds
        self.connect_timeout = connect_timeout
        self._local = threading.local()
        self._adds = 0
        conn = self._conn()
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " scope TEXT NOT NULL, key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_lookup ON {table} (scope, key, at)")

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(
                self.url, autocommit=True, connect_timeout=self.connect_timeout
            )
            self._local.conn = conn
        return conn

    def add(self, scopes: Iterable[str], keys: Iterable[str], at: float) -> None:
        rows = [(scope, key, at) for scope in scopes for key in keys]
        conn = self._conn()
        with conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.table} (scope, key, at) VALUES (%s, %s, %s)", rows
            )
        self._adds += 1
        if self._adds % 10_000 == 0:
            conn.execute(f"DELETE FROM {self.table} WHERE at < %s", (at - self.retention_seconds,))

    def count(self, scope: str, key: str, since: float) -> int:
        row = (
            self._conn()
            .execute(
                f"SELECT count(*) FROM {self.table} WHERE scope = %s AND key = %s AND at >= %s",
                (scope, key, since),
            )
            .fetchone()
        )
        return int(row[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
