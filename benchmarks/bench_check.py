"""Latency of ``Firewall.check()`` for declared tools under the default policy.

Prints the median and p99 in microseconds. Run: ``.venv/bin/python benchmarks/bench_check.py``
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from firewall import Firewall, Principal, ToolCall, load_policy

POLICY = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"
ROUNDS = 20_000

CASES = [
    ToolCall(name="search_docs", arguments={"query": "refund policy for annual plans"}),
    ToolCall(name="send_money", arguments={"recipient": "ACME GmbH", "amount": 120}),
    ToolCall(
        name="send_email",
        arguments={"to": "ops@example.com", "subject": "Q3", "body": "Numbers attached." * 5},
    ),
]


def measure(firewall: Firewall, call: ToolCall, principal: Principal) -> list[float]:
    context = {"env": "production", "tenant": "acme"}
    for _ in range(2_000):  # warm caches
        firewall.check(call, principal, context)
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        firewall.check(call, principal, context)
        samples.append((time.perf_counter_ns() - start) / 1_000)
    return samples


def main() -> None:
    firewall = Firewall(load_policy(POLICY))
    firewall.memory = type(firewall.memory)(maxlen=1_000)
    firewall.sinks[0] = firewall.memory
    principal = Principal(id="agent-7", kind="agent", roles=("support", "finance"))
    print(f"check() under {POLICY.name}, {ROUNDS} calls each, microseconds")
    print(f"{'tool (rules that fit / of them with a CEL condition)':<56} {'median':>8} {'p99':>8}")
    for call in CASES:
        intents = firewall.evaluate(call, principal).intents
        fitting = [
            rule
            for rule in firewall.policy.rules
            if rule.matches_tool(call.name) and rule.static_mismatch(intents, principal) is None
        ]
        conditions = sum(rule.condition is not None for rule in fitting)
        label = f"{call.name} ({len(fitting)} / {conditions})"
        samples = sorted(measure(firewall, call, principal))
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"{label:<56} {statistics.median(samples):8.1f} {p99:8.1f}")


if __name__ == "__main__":
    main()
