"""Benchmark: check() latency against session history length, and audit log throughput.

Prints the median ``check()`` latency with 10, 1,000 and 100,000 earlier events in the
session (the default policy, whose flow rules look up provenance on every payment and
mail); ``after()`` + the next ``check()`` on a 20 KB untrusted page (ordinary and
attacker-shaped), a 1 MB and a 5 MB output (the assistant pack); and decisions per second
through the hash-chained audit log on SQLite and, when reachable, PostgreSQL
(``FIREWALL_TEST_POSTGRES``).

    .venv/bin/python benchmarks/bench_graph.py
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
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


ASSISTANT = ROOT / "policies" / "assistant.yaml"
# The provenance email pattern this project used before its linear scanner: it backtracks
# over a long run of word characters, once per starting position.
OLD_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_VOCABULARY = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "have",
    "not",
    "which",
    "you",
    "were",
    "all",
    "we",
    "when",
    "there",
    "can",
    "been",
    "has",
    "more",
    "if",
    "will",
    "one",
    "about",
    "up",
    "out",
    "so",
    "invoice",
    "payment",
    "meeting",
    "account",
    "review",
    "travel",
    "hotel",
    "flight",
    "booking",
    "report",
    "team",
]
_VALUES = (
    "billing@shop.test",
    "https://news.test/a/b?c=1",
    "GB82 WEST 1234 5698 7654 32",
    "INV-2024-0042",
    "+49 30 1234567",
    "www.example.org/path",
)


def page(chars: int, seed: int = 7) -> str:
    """Text like a web page or a mail thread: words, with an address or link now and then."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(_VALUES) if rng.random() < 0.02 else rng.choice(_VOCABULARY)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:chars]


def after_then_check_ms(fw: Firewall, output: str, repeat: int) -> float:
    """Median of ``after()`` on ``output`` plus the next ``check()`` in the same session."""
    samples = []
    fetch = ToolCall(name="fetch_web_page", arguments={"url": "https://news.test/a"})
    send = ToolCall(
        name="send_email",
        arguments={"to": "me@example.com", "subject": "Summary", "body": output[:400]},
    )
    for i in range(repeat):
        session = f"page-{len(output)}-{i}"
        fw.record_message(
            session, "user", "Summarise https://news.test/a and mail it to me@example.com"
        )
        start = time.perf_counter()
        fw.after(fetch, output, session=session)
        fw.check(send, WHO, session=session)
        samples.append(time.perf_counter() - start)
        fw.graphs.drop(session)
    return statistics.median(samples) * 1000


def pages() -> None:
    policy = load_policy(ASSISTANT)
    no_redaction = policy.redaction.model_copy(update={"enabled": False})
    fast = Firewall(dataclasses.replace(policy, redaction=no_redaction))
    print("after() + next check(), assistant pack, provenance only (redaction off):")
    after_then_check_ms(fast, page(2_000), 3)  # warm up
    rows = [
        ("20 KB page", page(20_000), 21),
        ("20 KB attacker page (a...a@)", "a" * 20_000 + "@", 21),
        ("1 MB output", page(1_000_000), 3),
        ("5 MB output", page(5_000_000), 1),
    ]
    for name, text, repeat in rows:
        ms = after_then_check_ms(fast, text, repeat)
        per_kb = ms / (len(text) / 1000)
        print(f"  {name:<30} {ms:9.1f} ms   ({per_kb:.3f} ms per KB)")
    start = time.perf_counter()
    OLD_EMAIL.findall("a" * 20_000 + "@")
    print(
        f"  the replaced email pattern alone on the attacker page: "
        f"{(time.perf_counter() - start) * 1000:.0f} ms"
    )
    withheld = Firewall(policy)
    after_then_check_ms(withheld, page(2_000), 1)  # loads the redaction engine
    ms = after_then_check_ms(withheld, page(5_000_000), 1)
    print(f"  5 MB output with redaction on (withheld, not indexed): {ms:.1f} ms")


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

    pages()

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
