"""Run the ``tests:`` a policy carries: each names a call and the verdict it must get."""

from __future__ import annotations

from dataclasses import dataclass

from firewall.engine import Firewall
from firewall.model import ToolCall, Verdict
from firewall.policy import Policy, PolicyTestSpec


@dataclass(frozen=True)
class PolicyTestResult:
    """One policy test: what was expected, what the policy decided, and whether they agree."""

    name: str
    expected: Verdict
    got: Verdict
    rules: tuple[str, ...]
    missing_rules: tuple[str, ...]
    errors: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.expected is self.got and not self.missing_rules


def run_policy_tests(policy: Policy) -> list[PolicyTestResult]:
    """Evaluate every test of ``policy`` (its verdict before any approval is asked for)."""
    firewall = Firewall(policy)
    return [_run_one(firewall, index, test) for index, test in enumerate(policy.tests)]


def _run_one(firewall: Firewall, index: int, test: PolicyTestSpec) -> PolicyTestResult:
    call = ToolCall(name=test.call.name, arguments=test.call.arguments)
    session = f"policy-test-{index + 1}"
    for event in test.history:
        event.replay_into(firewall, session)
    evaluation = firewall.evaluate(
        call, test.principal.to_principal(), test.context, session=session
    )
    rules = tuple(r.rule_id for r in evaluation.reasons)
    missing = tuple(r for r in (test.expect_rules or ()) if r not in rules)
    return PolicyTestResult(
        name=test.name or f"test #{index + 1} ({test.call.name})",
        expected=Verdict.parse(test.expect),
        got=evaluation.policy_verdict,
        rules=rules,
        missing_rules=missing,
        errors=tuple(evaluation.errors),
    )
