"""Explain a decision: every rule of the policy, whether it matched, and if not, why not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firewall.conditions import Projection
from firewall.engine import Evaluation, Firewall
from firewall.model import Principal, ToolCall, Verdict
from firewall.variables import CallVariables


@dataclass(frozen=True)
class RuleTrace:
    """One rule's outcome for one call."""

    rule_id: str
    verdict: Verdict
    matched: bool
    why: str
    monitor_only: bool


@dataclass(frozen=True)
class Explanation:
    evaluation: Evaluation
    rules: tuple[RuleTrace, ...]


def explain(
    firewall: Firewall,
    call: ToolCall,
    principal: Principal | None = None,
    context: Mapping[str, Any] | None = None,
) -> Explanation:
    """Evaluate ``call`` and trace every rule (slower than ``check``; for people, not agents)."""
    evaluation = firewall.evaluate(call, principal, context)
    variables = CallVariables(
        call,
        evaluation.principal,
        evaluation.context,
        evaluation.intents,
        evaluation.facts,
        evaluation.flow,
        evaluation.history,
    )
    # One activation holding what every condition reads (explain traces them all).
    projections = firewall._projections_for(list(firewall.policy.rules))
    traces = [
        _trace(rule, call, evaluation, variables, projections) for rule in firewall.policy.rules
    ]
    return Explanation(evaluation=evaluation, rules=tuple(traces))


def _trace(
    rule: Any,
    call: ToolCall,
    evaluation: Evaluation,
    variables: CallVariables,
    projections: Mapping[str, Projection],
) -> RuleTrace:
    def outcome(matched: bool, why: str) -> RuleTrace:
        return RuleTrace(rule.id, rule.verdict, matched, why, rule.monitor_only)

    if not rule.matches_tool(call.name):
        return outcome(False, f"tool '{call.name}' is not one of {list(rule.tool_patterns)}")
    mismatch = rule.static_mismatch(evaluation.intents, evaluation.principal)
    if mismatch == "intents":
        return outcome(
            False, f"intents {list(evaluation.intents)} miss {list(rule.intent_patterns)}"
        )
    if mismatch == "only intents":
        allowed = sorted(rule.only_intents or ())
        return outcome(False, f"intents {list(evaluation.intents)} are not all within {allowed}")
    if mismatch is not None:
        return outcome(False, f"{mismatch} does not match")
    if rule.condition is None:
        return outcome(True, "match fits and there is no condition")
    try:
        result = rule.condition.evaluate(variables.activation(projections))
    except Exception as exc:
        applies = rule.verdict is not Verdict.ALLOW
        return outcome(
            applies, f"condition failed ({exc}); counted as {'a match' if applies else 'no match'}"
        )
    if result:
        return outcome(True, f"condition is true: {rule.condition.source}")
    return outcome(False, f"condition is false: {rule.condition.source}")
