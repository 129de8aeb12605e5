"""Approvals: grants bound to the exact call, expiry, standing grants, built-in approvers."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from firewall import (
    ApprovalGrant,
    ApprovalRequest,
    CallbackApprover,
    ConsolePromptApprover,
    Firewall,
    ToolCall,
    Verdict,
    grant_for,
    policy_from_yaml,
)

POLICY = policy_from_yaml(
    """
name: approvals
default: deny
tools:
  pay: {intents: [payment.send]}
  drop: {intents: [schema.drop]}
rules:
  - id: pay-needs-approval
    match: {tools: [pay]}
    verdict: require_approval
    message: payments need a person
  - id: drop-denied
    match: {tools: [drop]}
    verdict: deny
    message: never
"""
)


def pay(amount: int, to: str = "acme") -> ToolCall:
    return ToolCall(name="pay", arguments={"amount": amount, "to": to})


def test_callback_approval_allows_and_records_who():
    seen: list[ApprovalRequest] = []

    def decide(request: ApprovalRequest) -> bool:
        seen.append(request)
        return request.call.arguments["amount"] < 100

    fw = Firewall(POLICY, approver=CallbackApprover(decide, name="finance-desk"))
    ok = fw.check(pay(5))
    assert ok.verdict is Verdict.ALLOW and ok.approved_by == "finance-desk"
    assert ok.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert ok.reasons[-1].rule_id == "approval"
    refused = fw.check(pay(500))
    assert refused.verdict is Verdict.DENY and refused.approved_by is None
    assert [r.reasons[0].rule_id for r in seen] == ["pay-needs-approval"] * 2
    assert seen[0].fingerprint == pay(5).fingerprint()


def test_approver_is_never_asked_to_override_a_deny():
    asked: list[ApprovalRequest] = []
    fw = Firewall(POLICY, approver=CallbackApprover(lambda r: asked.append(r) or True))
    assert fw.check(ToolCall(name="drop")).verdict is Verdict.DENY
    assert asked == []


def test_grant_for_another_call_is_rejected():
    fw = Firewall(POLICY, approver=CallbackApprover(lambda r: grant_for(pay(1), "sneaky")))
    d = fw.check(pay(999))
    assert d.verdict is Verdict.DENY
    assert "different call" in d.reasons[-1].message


def test_signed_grant_covers_exactly_its_call_until_expiry():
    fw = Firewall(POLICY)
    grant = fw.grant(pay(50), approver="alice", ttl=60)
    assert fw.check(pay(50), grant=grant).verdict is Verdict.ALLOW
    assert fw.check(pay(50), grant=grant).approved_by == "alice"
    other = fw.check(pay(51), grant=grant)
    assert other.verdict is Verdict.DENY and "different call" in other.reasons[-1].message
    other_recipient = fw.check(pay(50, to="mallory"), grant=grant)
    assert other_recipient.verdict is Verdict.DENY


def test_expired_grant_is_rejected():
    fw = Firewall(POLICY)
    grant = fw.grant(pay(50), approver="alice", ttl=0.05)
    time.sleep(0.1)
    d = fw.check(pay(50), grant=grant)
    assert d.verdict is Verdict.DENY and "expired" in d.reasons[-1].message


def test_forged_or_foreign_grant_is_rejected():
    fw = Firewall(POLICY)
    forged = ApprovalGrant(fingerprint=pay(50).fingerprint(), approver="alice", signature="00")
    assert fw.check(pay(50), grant=forged).verdict is Verdict.DENY
    foreign = Firewall(POLICY).grant(pay(50), approver="alice")
    d = fw.check(pay(50), grant=foreign)
    assert d.verdict is Verdict.DENY and "not signed" in d.reasons[-1].message
    tampered = fw.grant(pay(50), approver="alice", ttl=1).model_copy(
        update={"expires_at": datetime.now(UTC) + timedelta(days=365)}
    )
    assert fw.check(pay(50), grant=tampered).verdict is Verdict.DENY


def test_standing_grant_reused_for_same_call_only_within_ttl():
    calls: list[str] = []

    def decide(request: ApprovalRequest) -> bool:
        calls.append(request.call.arguments["to"])
        return True

    fw = Firewall(POLICY, approver=CallbackApprover(decide, ttl=0.2))
    assert fw.check(pay(5)).verdict is Verdict.ALLOW
    assert fw.check(pay(5)).verdict is Verdict.ALLOW
    assert calls == ["acme"]  # asked once: the grant stands for the identical call
    assert fw.check(pay(5, to="other")).verdict is Verdict.ALLOW
    assert calls == ["acme", "other"]  # a different call is asked about again
    time.sleep(0.3)
    fw.check(pay(5))
    assert calls == ["acme", "other", "acme"]  # expired: asked again


def test_crashing_approver_denies():
    def crash(request: ApprovalRequest) -> bool:
        raise RuntimeError("approval service down")

    d = Firewall(POLICY, approver=CallbackApprover(crash)).check(pay(5))
    assert d.verdict is Verdict.DENY
    assert "approval service down" in d.errors[0]


def test_console_prompt_yes_no_and_timeout():
    out = io.StringIO()
    yes = ConsolePromptApprover(input_stream=io.StringIO("y\n"), output_stream=out, timeout=5)
    assert Firewall(POLICY, approver=yes).check(pay(5)).verdict is Verdict.ALLOW
    assert "pay" in out.getvalue() and "payments need a person" in out.getvalue()
    no = ConsolePromptApprover(input_stream=io.StringIO("n\n"), output_stream=io.StringIO())
    assert Firewall(POLICY, approver=no).check(pay(5)).verdict is Verdict.DENY

    class SilentStream(io.StringIO):
        def readline(self, *args):  # a person who never answers
            time.sleep(5)
            return ""

    silent = ConsolePromptApprover(
        input_stream=SilentStream(), output_stream=io.StringIO(), timeout=0.2
    )
    started = time.monotonic()
    d = Firewall(POLICY, approver=silent).check(pay(5))
    assert d.verdict is Verdict.DENY
    assert time.monotonic() - started < 3


def test_async_check_awaits_an_async_approver():
    class AsyncDesk:
        name = "async-desk"

        def request(self, request: ApprovalRequest):
            raise AssertionError("the async path must be used")

        async def arequest(self, request: ApprovalRequest):
            await asyncio.sleep(0)
            return grant_for(request.call, self.name)

    fw = Firewall(POLICY, approver=AsyncDesk())
    d = asyncio.run(fw.acheck(pay(5)))
    assert d.verdict is Verdict.ALLOW and d.approved_by == "async-desk"


def test_async_check_runs_a_blocking_approver_off_the_loop():
    fw = Firewall(POLICY, approver=CallbackApprover(lambda r: True))
    assert asyncio.run(fw.acheck(pay(5))).verdict is Verdict.ALLOW


@pytest.mark.parametrize("answer", [False, None])
def test_callback_false_or_none_refuses(answer):
    fw = Firewall(POLICY, approver=CallbackApprover(lambda r: answer))
    assert fw.check(pay(5)).verdict is Verdict.DENY


def test_an_approval_covers_real_values_not_a_placeholder_that_means_another_thing_elsewhere():
    policy = policy_from_yaml(
        """
name: placeholders
default: deny
redaction: {ner: false}
tools:
  pay: {intents: [payment.send]}
  read_invoice: {intents: [data.read]}
rules:
  - id: pay-needs-approval
    match: {tools: [pay]}
    verdict: require_approval
    message: payments need a person
"""
    )
    asked: list[str] = []

    def desk(request: ApprovalRequest) -> bool:
        asked.append(request.call.arguments["to"])
        return request.call.arguments["to"] == "GB82WEST12345698765432"

    fw = Firewall(policy, approver=CallbackApprover(desk, ttl=600))
    invoice = ToolCall(name="read_invoice")
    seen_a = fw.after(invoice, "Pay GB82WEST12345698765432 please", session="a").output
    seen_b = fw.after(invoice, "Pay GB33BUKB20201555555555 please", session="b").output
    assert "<IBAN_CODE_1>" in seen_a and "<IBAN_CODE_1>" in seen_b

    same_text = ToolCall(name="pay", arguments={"to": "<IBAN_CODE_1>", "amount": 10})
    assert fw.check(same_text, session="a").verdict is Verdict.ALLOW
    # Same text from the model, other session: the placeholder stands for another IBAN.
    # The standing grant of session "a" must not cover it; the person is asked again.
    assert fw.check(same_text, session="b").verdict is Verdict.DENY
    assert asked == ["GB82WEST12345698765432", "GB33BUKB20201555555555"]
    # A signed grant is bound to the real values of the session it was made in.
    grant = fw.grant(same_text, approver="alice", session="a")
    assert fw.check(same_text, session="a", grant=grant).approved_by == "alice"
    refused = fw.check(same_text, session="b", grant=grant)
    assert refused.verdict is Verdict.DENY and "different call" in refused.reasons[-1].message
