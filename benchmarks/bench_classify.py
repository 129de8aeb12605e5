"""Latency of ``Firewall.check()`` on classified tools, next to one bare sqlglot parse.

Rows: a ~200-character SELECT, a ~2 KB TPC-DS query, and a shell pipeline (when the
shell classifier is installed). For SQL, ``check`` is measured with the classifier's
result cache cleared before every call (a new text: parse + walk + rules) and with the
cache warm (the same text again), next to ``sqlglot.parse_one`` of the same text and
``check`` of a tool with declared intents (the engine's own share).

Run: ``.venv/bin/python benchmarks/bench_classify.py [rounds]``
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlglot

from firewall import Firewall, ToolCall, load_policy, policy_from_yaml
from firewall.intent import sql as sql_classifier

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000
DIALECT = "postgres"

SELECT_200 = (
    "SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
    "WHERE o.created_at > now() - interval '7 days' AND c.country = 'DE' "
    "ORDER BY o.total DESC LIMIT 50"
)
PIPELINE = (
    "cat access.log | grep -v healthz | awk '{print $1}' | sort | uniq -c | sort -rn | head -20"
)

HAS_SHELL = importlib.util.find_spec("firewall.intent.shell") is not None

POLICY = f"""
name: bench
default: require_approval
tools:
  run_sql:
    classify: {{classifier: sql, argument: query, dialect: {DIALECT}}}
  search_docs:
    intents: [data.read]
{"  run_shell:" if HAS_SHELL else ""}
{"    classify: {classifier: shell, argument: command}" if HAS_SHELL else ""}
rules:
  - id: reads
    match: {{intents: [data.read]}}
    verdict: allow
  - id: bulk
    match: {{tools: [run_sql], intents: [data.write, data.delete]}}
    when: facts.sql.unbounded_write
    verdict: require_approval
    message: bulk change
  - id: drops
    match: {{intents: [schema.drop, data.truncate]}}
    verdict: deny
    message: no drops
  - id: exports
    match: {{tools: [run_sql], intents: [data.export]}}
    when: facts.sql.exports.exists(e, e != "STDOUT")
    verdict: deny
    message: no exports
"""


def tpcds_query(target: int = 2_000) -> str:
    """The TPC-DS query (from tests/data/tpc) whose length is closest to ``target``."""
    text = (ROOT / "tests" / "data" / "tpc" / "tpc-ds.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if line and not line.startswith("--"))
    queries = []
    for part in body.split(";"):
        lines = [line for line in part.strip().split("\n") if not line.startswith("#")]
        if lines:
            queries.append("\n".join(lines).strip())
    return min(queries, key=lambda q: abs(len(q) - target))


def sample(func: Callable[[], object], before: Callable[[], object] | None = None) -> list[float]:
    for _ in range(min(200, ROUNDS)):
        if before:
            before()
        func()
    samples = []
    for _ in range(ROUNDS):
        if before:
            before()
        start = time.perf_counter_ns()
        func()
        samples.append((time.perf_counter_ns() - start) / 1_000)
    return samples


def interleaved(
    funcs: list[Callable[[], object]], before: Callable[[], object]
) -> list[list[float]]:
    """Samples of several functions taken in turn, so that a shared machine's load, which
    changes from second to second, weighs on each the same; ``before`` runs untimed."""
    samples: list[list[float]] = [[] for _ in funcs]
    for round_ in range(ROUNDS + min(200, ROUNDS)):
        for index, func in enumerate(funcs):
            before()
            start = time.perf_counter_ns()
            func()
            if round_ >= min(200, ROUNDS):
                samples[index].append((time.perf_counter_ns() - start) / 1_000)
    return samples


def row(label: str, samples: list[float], reference: float | None = None) -> None:
    median = statistics.median(samples)
    p99 = statistics.quantiles(samples, n=100)[98]
    ratio = f"{median / reference:5.2f}x parse" if reference else ""
    print(f"  {label:<34} median {median:8.1f} us   p99 {p99:8.1f} us   {ratio}")


#: Targets: the classifier alone and ``check()`` with a cold cache, as multiples of one
#: bare ``sqlglot.parse_one`` of the same text, measured in the same run.
CLASSIFIER_TARGET = 1.3
CHECK_TARGET = 1.5


def main() -> None:
    firewall = Firewall(policy_from_yaml(POLICY))
    clear = sql_classifier._classify_cached.cache_clear
    print(f"sqlglot {sqlglot.__version__}, dialect {DIALECT}, {ROUNDS} rounds per row")
    summary = []
    engine = sample(lambda: firewall.check(ToolCall(name="search_docs", arguments={"q": "x"})))
    row("engine only (declared intents)", engine)
    for name, sql in (("SELECT", SELECT_200), ("TPC-DS", tpcds_query())):
        call = ToolCall(name="run_sql", arguments={"query": sql})
        decision = firewall.check(call)
        verdict, intents = decision.verdict.label, list(decision.intents)
        print(f"{name} ({len(sql)} chars): {verdict}, intents {intents}")
        parse = sample(lambda sql=sql: sqlglot.parse_one(sql, read=DIALECT))
        reference = statistics.median(parse)
        row("sqlglot.parse_one (bare)", parse)
        alone = sample(lambda sql=sql: sql_classifier.classify_sql(sql, DIALECT), clear)
        row("classify_sql, cache cleared", alone, reference)
        cold = sample(lambda call=call: firewall.check(call), clear)
        row("check(), cache cleared", cold, reference)
        row("check(), cache warm", sample(lambda call=call: firewall.check(call)), reference)
        parse_i, alone_i, cold_i = (
            statistics.median(samples)
            for samples in interleaved(
                [
                    lambda sql=sql: sqlglot.parse_one(sql, read=DIALECT),
                    lambda sql=sql: sql_classifier.classify_sql(sql, DIALECT),
                    lambda call=call: firewall.check(call),
                ],
                clear,
            )
        )
        summary.append((name, alone_i / parse_i, cold_i / parse_i))
    print("ratios to one bare parse, sampled in turn in this run (the machine may be shared):")
    for name, alone, cold in summary:
        print(
            f"  {name:<8} classifier alone {alone:4.2f}x (target {CLASSIFIER_TARGET}x)"
            f"   check() cold {cold:4.2f}x (target {CHECK_TARGET}x)"
        )
    if HAS_SHELL:
        call = ToolCall(name="run_shell", arguments={"command": PIPELINE})
        decision = firewall.check(call)
        verdict, intents = decision.verdict.label, list(decision.intents)
        print(f"shell pipeline ({len(PIPELINE)} chars): {verdict}, intents {intents}")
        from firewall.intent import shell as shell_classifier

        clear_shell = shell_classifier._classify_text.cache_clear
        row(
            "shell classify, cache cleared",
            sample(lambda: shell_classifier.classify(PIPELINE, {}), clear_shell),
        )
        row("check(), cache cleared", sample(lambda: firewall.check(call), clear_shell))
        row("check(), cache warm", sample(lambda: firewall.check(call)))
        default = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
        print(f"default policy: {default.check(call).verdict.label} (target: median < 100 us)")
        row(
            "check(), default policy, cache cleared",
            sample(lambda: default.check(call), clear_shell),
        )
    else:
        print("shell pipeline: the shell classifier (firewall.intent.shell) is absent")


if __name__ == "__main__":
    main()
