"""``AuditSink``: the engine's sink that appends one chained record per decision.

Fail closed: ``record`` returns only once the record is committed, and raises when it
cannot be, which makes the engine turn the decision into a deny. With ``group_commit``
a writer thread commits the records of all threads waiting at that moment in one
transaction (more decisions per second under concurrency); each caller still waits for
its own commit, so no decision takes effect unrecorded. The cost is latency: a caller
waits for the batch in progress. A single-threaded agent gains nothing from it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firewall.audit.checkpoint import Checkpointer
from firewall.audit.keys import ChainKey
from firewall.audit.records import FORMAT_VERSION, StoredRecord
from firewall.audit.scrub import Redactor, Scrubber
from firewall.audit.store import AuditStore, open_store
from firewall.model import Decision, Principal, ToolCall

_BATCH_LIMIT = 512


def decision_body(
    decision: Decision,
    call: ToolCall,
    principal: Principal,
    context: Mapping[str, Any],
    scrubber: Scrubber,
) -> dict[str, Any]:
    """The record of one decision, with arguments and context scrubbed."""
    arguments, counts = scrubber.scrub(call.arguments)
    ctx: dict[str, Any] = {}
    if context:
        ctx, ctx_counts = scrubber.scrub(context)
        for name, count in ctx_counts.items():
            counts[name] = counts.get(name, 0) + count
    return {
        "v": FORMAT_VERSION,
        "kind": "decision",
        "time": decision.time.isoformat(),
        "elapsed_ms": round(decision.elapsed_ms, 3),
        "session": decision.session,
        "principal": {"id": principal.id, "kind": principal.kind, "roles": list(principal.roles)},
        "tool": call.name,
        "call_id": call.id,
        "call_hash": decision.call_hash,
        "arguments_form": scrubber.form,
        "arguments": arguments,
        "raw_arguments": None if call.raw_arguments is None else scrubber.form,
        "context": ctx,
        "intents": list(decision.intents),
        "verdict": decision.verdict.label,
        "policy_verdict": decision.policy_verdict.label,
        "rules": [
            {"id": r.rule_id, "verdict": r.verdict.label, "monitor": r.monitor_only}
            for r in decision.reasons
        ],
        "mode": decision.mode,
        "policy": decision.policy,
        "policy_version": decision.policy_version,
        "approved_by": decision.approved_by,
        "errors": len(decision.errors),
        "entities": counts,
    }


class AuditSink:
    """Appends every decision (and every redaction reported to it) to a chained log.

    ``key`` seals the chain with HMAC (and keys the argument hashes); ``checkpoints``
    signs the head every N records or T seconds to a place outside the log.
    """

    def __init__(
        self,
        store: AuditStore | str | Path,
        *,
        redactor: Redactor | None = None,
        hash_key: bytes | None = None,
        group_commit: bool = False,
        key: ChainKey | None = None,
        checkpoints: Checkpointer | None = None,
    ) -> None:
        if isinstance(store, AuditStore):
            if key is not None and getattr(store, "key", None) != key:
                raise ValueError("pass the key to the store, or a path here, not both")
            self.store = store
        else:
            self.store = open_store(store, key=key)
        if hash_key is None and key is not None:
            hash_key = key.derive("argument-hash")
        self.scrubber = Scrubber(redactor, hash_key)
        self.checkpoints = checkpoints
        self._queue: queue.SimpleQueue[_Pending | None] | None = None
        self._writer: threading.Thread | None = None
        if group_commit:
            self._queue = queue.SimpleQueue()
            self._writer = threading.Thread(target=self._write_loop, daemon=True)
            self._writer.start()

    # -- DecisionSink -------------------------------------------------------------------

    def record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> None:
        self.append(decision_body(decision, call, principal, context, self.scrubber))

    # -- other events -------------------------------------------------------------------

    def record_redaction(
        self,
        *,
        session: str | None,
        tool: str,
        call_id: str | None,
        entities: Mapping[str, int],
        labels: Iterable[str] = (),
        withheld: bool = False,
    ) -> None:
        """One record per redaction of a tool's output: what was found, never the values."""
        self.append(
            {
                "v": FORMAT_VERSION,
                "kind": "redaction",
                "time": datetime.now(UTC).isoformat(),
                "session": session,
                "tool": tool,
                "call_id": call_id,
                "entities": {str(k): int(v) for k, v in entities.items()},
                "labels": sorted(labels),
                "withheld": withheld,
            }
        )

    def append(self, body: Mapping[str, Any]) -> StoredRecord:
        """Append one body; returns once it is committed (raises when it cannot be)."""
        if self._queue is None:
            return self._commit([body])[0]
        pending = _Pending(body)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def checkpoint(self) -> None:
        """Sign a checkpoint of the latest head now (also done on ``close``)."""
        if self.checkpoints is not None:
            self.checkpoints.flush()

    def close(self) -> None:
        if self._queue is not None and self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=30)
        self.checkpoint()
        self.store.close()

    def _commit(self, bodies: list[Mapping[str, Any]]) -> list[StoredRecord]:
        sealed = self.store.append(bodies)
        if self.checkpoints is not None and sealed:
            self.checkpoints.observe(sealed[-1].seq, sealed[-1].hash, len(sealed))
        return sealed

    def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < _BATCH_LIMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                sealed = self._commit([p.body for p in batch])
                for pending, record in zip(batch, sealed, strict=True):
                    pending.result = record
            except BaseException as exc:
                for pending in batch:
                    pending.error = exc
            for pending in batch:
                pending.done.set()
            if stop:
                return


class _Pending:
    __slots__ = ("body", "done", "error", "result")

    def __init__(self, body: Mapping[str, Any]) -> None:
        self.body = body
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.result: StoredRecord | None = None
