"""Human approval: who may say yes to a held call, and grants bound to that exact call.

An approver answers an ``ApprovalRequest`` with an ``ApprovalGrant`` or ``None`` (refused).
A grant names the call's fingerprint (tool name + canonical arguments hash), so it can
never be used for a different call, and may expire.
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from firewall.model import Principal, Reason, ToolCall, Verdict, canonical_json, trusted


class ApprovalRequest(BaseModel):
    """What an approver is shown: the call, who asks, and why it was held."""

    model_config = ConfigDict(frozen=True)

    call: ToolCall
    principal: Principal
    context: dict[str, Any] = Field(default_factory=dict)
    reasons: tuple[Reason, ...] = ()
    fingerprint: str
    session: str | None = None

    def summary(self) -> str:
        lines = [f"Tool call '{self.call.name}' by {self.principal.kind} '{self.principal.id}'"]
        lines.append(f"  arguments: {canonical_json(self.call.arguments)[:500]}")
        for reason in self.reasons:
            lines.append(f"  held by rule '{reason.rule_id}': {reason.message}")
        return "\n".join(lines)


class ApprovalGrant(BaseModel):
    """A yes for one exact call, optionally until ``expires_at``."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    approver: str
    granted_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    expires_at: datetime | None = None
    note: str = ""
    signature: str = ""

    def problem_with(self, call: ToolCall, now: datetime | None = None) -> str | None:
        """Why this grant does not cover ``call`` now (``None`` when it does)."""
        if not hmac.compare_digest(self.fingerprint, call.fingerprint()):
            return "the approval was granted for a different call"
        if self.expires_at is not None and (now or datetime.now(UTC)) >= self.expires_at:
            return f"the approval expired at {self.expires_at.isoformat()}"
        return None

    def signed_body(self) -> bytes:
        expires = self.expires_at.isoformat() if self.expires_at else ""
        return canonical_json([self.fingerprint, self.approver, expires, self.note]).encode()


def grant_for(
    call: ToolCall, approver: str, ttl: timedelta | float | None = None, note: str = ""
) -> ApprovalGrant:
    """A grant for exactly ``call``; ``ttl`` (seconds or a timedelta) bounds how long it holds."""
    expires = None
    if ttl is not None:
        delta = ttl if isinstance(ttl, timedelta) else timedelta(seconds=ttl)
        expires = datetime.now(UTC) + delta
    return ApprovalGrant(
        fingerprint=call.fingerprint(), approver=approver, expires_at=expires, note=note
    )


class GrantSigner:
    """Signs grants handed to callers, so a grant presented later cannot be forged."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, grant: ApprovalGrant) -> ApprovalGrant:
        digest = hmac.new(self._key, grant.signed_body(), hashlib.sha256).hexdigest()
        return grant.model_copy(update={"signature": digest})

    def verify(self, grant: ApprovalGrant) -> bool:
        expected = hmac.new(self._key, grant.signed_body(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, grant.signature)


@runtime_checkable
class Approver(Protocol):
    """Decides held calls. Return a grant to allow the call, ``None`` to refuse it."""

    def request(self, request: ApprovalRequest) -> ApprovalGrant | None: ...


class DenyAllApprover:
    """The default: nobody is there to approve, so every held call is refused."""

    name = "deny-all"

    def request(self, request: ApprovalRequest) -> ApprovalGrant | None:
        return None


class CallbackApprover:
    """Asks a function. It returns True/False, or a grant of its own making.

    ``ttl`` (seconds) lets a True answer cover the same exact call again for that long.
    """

    def __init__(
        self,
        callback: Callable[[ApprovalRequest], bool | ApprovalGrant | None],
        *,
        name: str = "callback",
        ttl: float | None = None,
    ) -> None:
        self._callback = callback
        self.name = name
        self._ttl = ttl

    def request(self, request: ApprovalRequest) -> ApprovalGrant | None:
        answer = self._callback(request)
        if isinstance(answer, ApprovalGrant):
            return answer
        if answer is True:
            return grant_for(request.call, self.name, self._ttl)
        return None


class ConsolePromptApprover:
    """Asks a person at a terminal; no answer within ``timeout`` seconds means no."""

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        ttl: float | None = None,
        input_stream: TextIO | None = None,
        output_stream: TextIO | None = None,
        name: str = "console",
    ) -> None:
        self._timeout = timeout
        self._ttl = ttl
        self._in = input_stream
        self._out = output_stream
        self.name = name

    def request(self, request: ApprovalRequest) -> ApprovalGrant | None:
        out = self._out or sys.stderr
        out.write(request.summary() + f"\nApprove? [y/N] (auto-deny in {self._timeout:g}s): ")
        out.flush()
        answer = _read_line_with_timeout(self._in or sys.stdin, self._timeout)
        if answer is None:
            out.write("\n(no answer: denied)\n")
            return None
        if answer.strip().lower() in {"y", "yes"}:
            return grant_for(request.call, self.name, self._ttl)
        return None


def _read_line_with_timeout(stream: TextIO, timeout: float) -> str | None:
    answers: queue.Queue[str | None] = queue.Queue(maxsize=1)

    def read() -> None:
        try:
            line = stream.readline()
        except (OSError, ValueError):
            line = ""
        answers.put(line or None)

    threading.Thread(target=read, daemon=True, name="firewall-approval-prompt").start()
    try:
        return answers.get(timeout=timeout)
    except queue.Empty:
        return None


#: What the approval stage decided: the verdict, the reason to report, who approved.
Outcome = tuple[Verdict, Reason, str | None]


class ApprovalDesk:
    """The grants side of approval: signed grants, standing grants, and judging a grant.

    A grant an approver returns with an expiry *stands*: the identical call is allowed
    again until then without asking. Grants presented by callers must carry this desk's
    signature. Every check is against the call as the tool would run it.
    """

    def __init__(self, key: bytes) -> None:
        self._signer = GrantSigner(key)
        self._standing: dict[str, ApprovalGrant] = {}

    def sign(self, grant: ApprovalGrant) -> ApprovalGrant:
        return self._signer.sign(grant)

    def settle(self, call: ToolCall, presented: ApprovalGrant | None) -> Outcome | None:
        """The outcome without asking anyone: a presented grant or a standing one."""
        fingerprint = call.fingerprint()
        if presented is not None:
            if not self._signer.verify(presented):
                return refused("the presented approval is not signed by this firewall")
            return self.judge(call, presented, remember=False)
        standing = self._standing.get(fingerprint)
        if standing is not None:
            if standing.problem_with(call) is None:
                return approved(standing)
            self._standing.pop(fingerprint, None)
        return None

    def judge(self, call: ToolCall, grant: ApprovalGrant | None, remember: bool = True) -> Outcome:
        """Allow when ``grant`` covers exactly ``call`` now; otherwise deny, saying why."""
        if grant is None:
            return refused("the approver refused the call")
        problem = grant.problem_with(call)
        if problem is not None:
            return refused(problem)
        if remember and grant.expires_at is not None:
            self._standing[grant.fingerprint] = grant
        return approved(grant)


def approved(grant: ApprovalGrant) -> Outcome:
    reason = trusted(
        Reason,
        rule_id="approval",
        verdict=Verdict.ALLOW,
        message=f"approved by {grant.approver}",
        matched={},
        monitor_only=False,
    )
    return Verdict.ALLOW, reason, grant.approver


def refused(why: str) -> Outcome:
    reason = trusted(
        Reason,
        rule_id="approval",
        verdict=Verdict.DENY,
        message=why,
        matched={},
        monitor_only=False,
    )
    return Verdict.DENY, reason, None
