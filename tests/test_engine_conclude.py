"""Firewall.evaluate + conclude: approval asked outside check (a paused graph, a queue)."""

from __future__ import annotations

from firewall import CallbackApprover, Firewall, ToolCall, Verdict, load_policy
from tests.conftest import POLICIES

BULK = ToolCall(name="run_sql", arguments={"query": "DELETE FROM users"}, id="c1")


def firewall(asked: list) -> Firewall:
    return Firewall(
        load_policy(POLICIES / "default.yaml"),
        approver=CallbackApprover(lambda r: asked.append(r) or True),
    )


def test_a_grant_from_this_firewall_allows_exactly_the_held_call() -> None:
    asked: list = []
    fw = firewall(asked)
    evaluation = fw.evaluate(BULK, session="s")
    assert fw.needs_approval(evaluation)
    decision = fw.conclude(evaluation, fw.grant(BULK, approver="alice"))
    assert decision.allowed and decision.approved_by == "alice"
    assert asked == []  # the configured approver is not asked
    assert [d.verdict for d in fw.memory.decisions] == [Verdict.ALLOW]


def test_no_grant_or_a_grant_for_another_call_denies() -> None:
    fw = firewall([])
    refused = fw.conclude(fw.evaluate(BULK), refusal="rejected by bob: too broad")
    assert refused.verdict is Verdict.DENY
    assert "rejected by bob: too broad" in refused.message_for_model()
    other = ToolCall(name="run_sql", arguments={"query": "DELETE FROM orders"})
    wrong = fw.conclude(fw.evaluate(BULK), fw.grant(other, approver="alice"))
    assert wrong.verdict is Verdict.DENY and "different call" in wrong.message_for_model()


def test_a_grant_not_signed_by_this_firewall_denies() -> None:
    fw, elsewhere = firewall([]), firewall([])
    decision = fw.conclude(fw.evaluate(BULK), elsewhere.grant(BULK, approver="mallory"))
    assert decision.verdict is Verdict.DENY


def test_calls_that_are_not_held_are_decided_as_check_would() -> None:
    fw = firewall([])
    read = ToolCall(name="run_sql", arguments={"query": "SELECT 1"})
    drop = ToolCall(name="run_sql", arguments={"query": "DROP TABLE users"})
    assert fw.conclude(fw.evaluate(read)).allowed
    assert fw.conclude(fw.evaluate(drop), fw.grant(drop, approver="a")).verdict is Verdict.DENY
