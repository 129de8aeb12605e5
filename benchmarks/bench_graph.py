"""Benchmark: check() latency against session history length, and audit log throughput.

Prints the median ``check()`` latency with 10, 1,000 and 100,000 earlier events in the
session (the default policy, whose flow rules look up provenance on every payment and
mail), and decisions per second through the hash-chained audit log on SQLite and, when
reachable, PostgreSQL (``FIREWALL_TEST_POSTGRES``).

    .venv/bin/python benchmarks/bench_graph.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from firewall import Firewall, Principal, ToolCall, load_policy, policy_from_yaml
from firewall.audit import (
    AuditSink,
    ChainKey,
    Checkpointer,
    CheckpointSigner,
    open_store,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("FIREWALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
WHO = Principal(id="bench", roles=("finance",))


def fill(fw: Firewall, session: str, events: int) -> None:
    graph = fw.graph(session)
    graph.add_message("user", "Please pay the invoices in my inbox; mail me a summary.")
    for i in range(events - 1):
        if i % 3 == 0:
            graph.add_message("assistant", f"Reading mail number {i}.")
        else:
            graph.add_result(
                f"Invoice INV-{i:07d} from vendor{i}@shop.test: pay to account {10_000_000 + i}",
                tool="read_email",
                labels={"untrusted"},
            )


def median_check_us(events: int, repeat: int = 3000) -> float:
    fw = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
    session = f"bench-{events}"
    fill(fw, session, events)
    calls = [
        ToolCall(
            name="send_email",
            arguments={"to": "me@example.com", "body": f"Summary {i} INV-0000004"},
        )
        for i in range(repeat)
    ]
    for call in calls[:200]:
        fw.check(call, WHO, session=session)
    samples = []
    for call in calls:
        start = time.perf_counter_ns()
        fw.check(call, WHO, session=session)
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def median_history_check_us(events: int, repeat: int = 2000) -> float:
    """``check()`` of a payment under the default pack, whose history rules read
    ``calls("intent:payment.send", 0)`` and ``session.labels_seen``, after ``events``
    earlier events recorded in the session history."""
    fw = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
    session = f"history-{events}"
    for i in range(events):
        if i % 2:
            fw.history.note_event(session, ("untrusted",))
        else:
            fw.history.note_call(session, WHO.id, "search_docs", ("data.read",), "allow")
    call = ToolCall(name="send_money", arguments={"recipient": "ACME", "amount": 5})
    samples = []
    for _ in range(repeat):
        start = time.perf_counter_ns()
        fw.evaluate(call, WHO, session=session)
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def memory_per_10k_events() -> tuple[float, float]:
    """MB held after 10,000 events (5,000 checked calls and their results) in one session:
    with the in-memory decision record, and without it (graph, history, indexes only)."""
    import gc
    import tracemalloc

    results = []
    for keep_record in (True, False):
        fw = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
        if not keep_record:
            fw.sinks.remove(fw.memory)
        call = ToolCall(name="search_docs", arguments={"query": "refund policy"})
        gc.collect()
        tracemalloc.start()
        for i in range(5_000):
            fw.check(call, WHO, session="memory")
            fw.record_result(call, f"result {i}: order ORD-{i:06d}", session="memory")
        gc.collect()
        results.append(tracemalloc.get_traced_memory()[0] / 2**20)
        tracemalloc.stop()
    return results[0], results[1]


def audit_rate(
    target: str,
    n: int,
    threads: int = 1,
    group_commit: bool = False,
    checkpoints: Checkpointer | None = None,
    **options,
) -> float:
    sink = AuditSink(
        open_store(target, **options), group_commit=group_commit, checkpoints=checkpoints
    )
    fw = Firewall(policy_from_yaml("name: b\ndefault: allow\n"), sinks=[sink])
    call = ToolCall(name="send_money", arguments={"recipient": "ACME", "amount": 5})
    per = n // threads

    def work() -> None:
        for _ in range(per):
            if not fw.check(call, WHO, session="audit").allowed:
                raise RuntimeError("a decision was not recorded")

    start = time.perf_counter()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    sink.close()
    return per * threads / elapsed


def main() -> None:
    print("check() median latency, default policy (flow rules on), by earlier session events:")
    median_check_us(10, repeat=1000)  # warm up: imports, caches, CPU frequency
    base = None
    for events in (10, 1_000, 100_000):
        us = median_check_us(events)
        base = base or us
        print(f"  {events:>7,} events: {us:7.1f} us   ({us / base:.2f}x of 10)")

    print("check() median latency with history rules (default pack), by earlier events:")
    median_history_check_us(10, repeat=500)
    base = None
    for events in (10, 1_000, 100_000):
        us = median_history_check_us(events)
        base = base or us
        print(f"  {events:>7,} events: {us:7.1f} us   ({us / base:.2f}x of 10; target <= 1.2x)")
    with_record, without = memory_per_10k_events()
    print(
        f"memory held per 10,000 events: {with_record:.1f} MB with the in-memory decision"
        f" record, {without:.1f} MB without it"
    )

    print("audit log throughput (hash chain, one record per decision, fail-closed commit):")
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "audit.db")
        print(
            f"  SQLite, 1 thread:                    {audit_rate(path, 10_000):8,.0f} decisions/s"
        )
        print(
            f"  SQLite, 4 threads, group commit:     "
            f"{audit_rate(path, 10_000, threads=4, group_commit=True):8,.0f} decisions/s"
        )
        report = verify(path)
        print(f"  chain verified: {report.ok}, {report.records:,} records")
        key, signer = ChainKey.generate(), CheckpointSigner.generate("bench")
        keyed, notes = str(Path(tmp) / "keyed.db"), Path(tmp) / "checkpoints.txt"
        plain = audit_rate(str(Path(tmp) / "plain.db"), 10_000)
        rate = audit_rate(
            keyed, 10_000, checkpoints=Checkpointer(signer, notes, every_records=1000), key=key
        )
        print(
            f"  SQLite, 1 thread, keyed + signed checkpoint every 1,000: {rate:8,.0f} decisions/s"
            f" ({rate / plain:.2f}x of unkeyed {plain:,.0f}/s in the same run; target >= 5,000)"
        )
        report = verify(keyed, keys=[key], checkpoints=notes, verifier=signer.verifier)
        print(
            f"  keyed chain verified: {report.ok}, {report.records:,} records,"
            f" {report.checkpointed:,} under a signed checkpoint"
        )
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as exc:
        print(f"  PostgreSQL: not reachable ({exc})")
        return
    table = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        one = audit_rate(POSTGRES_URL, 3_000, table=table)
        many = audit_rate(POSTGRES_URL, 10_000, threads=4, group_commit=True, table=table)
        print(f"  PostgreSQL, 1 thread:                {one:8,.0f} decisions/s")
        print(f"  PostgreSQL, 4 threads, group commit: {many:8,.0f} decisions/s")
        print(f"  chain verified: {verify(POSTGRES_URL, table=table).ok}")
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")


if __name__ == "__main__":
    main()
