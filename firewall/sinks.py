"""Where decisions are recorded. The engine calls every sink for every decision."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from firewall.model import Decision, Principal, ToolCall


@runtime_checkable
class DecisionSink(Protocol):
    """Receives each decision. A sink that raises makes the decision a deny (fail closed)."""

    def record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> None: ...


class MemorySink:
    """Keeps the most recent decisions in memory (thread-safe); the default sink."""

    def __init__(self, maxlen: int | None = 10_000) -> None:
        self._items: deque[tuple[Decision, ToolCall]] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> None:
        with self._lock:
            self._items.append((decision, call))

    @property
    def decisions(self) -> list[Decision]:
        with self._lock:
            return [decision for decision, _ in self._items]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
