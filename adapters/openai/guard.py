"""What the drop-in client knows: the firewall, who asks, and what each session has seen.

The client hands every proposed call to ``Guard.decide`` and every outgoing request body to
``adapters.openai.hook.outgoing``; the guard keeps, per session, what the model must be
told on its next turn (denied calls and their reasons) and what was already redacted, so a
history that is re-sent on every request is not analysed again.
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firewall import ApprovalGrant, Decision, Firewall, Principal, Reason, ToolCall, Verdict

#: Rule id of the deny the adapter gives a call whose arguments are not a JSON object.
INVALID_ARGUMENTS = "openai.invalid_arguments"

_LIMIT = 4096


class Bounded(OrderedDict):
    """A dict that forgets its oldest entries past ``limit`` (memory per session is bounded)."""

    def __init__(self, limit: int = _LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        if len(self) > self.limit:
            self.popitem(last=False)


@dataclass
class Denial:
    """A call the caller never saw: what the model proposed, and why it was stopped."""

    call_id: str
    name: str
    #: The call as the API returned it (chat ``tool_calls`` entry or responses item).
    raw: dict[str, Any]
    message: str


@dataclass
class Ledger:
    """What one session remembers between requests."""

    #: Chat: assistant message key -> the denied calls to put back into it.
    chat_denials: Bounded = field(default_factory=Bounded)
    #: Responses: response id -> denied items; item id -> its response id.
    response_denials: Bounded = field(default_factory=Bounded)
    item_response: Bounded = field(default_factory=Bounded)
    #: Call id -> tool name (to redact an output by its tool's settings).
    names: Bounded = field(default_factory=Bounded)
    #: Call id -> (arguments given to the caller, arguments the model wrote).
    echoes: Bounded = field(default_factory=Bounded)
    #: (call id, text) -> redacted text, for outputs and echoed arguments.
    redacted: Bounded = field(default_factory=Bounded)
    #: User messages already recorded.
    recorded: Bounded = field(default_factory=Bounded)


_LEDGERS: weakref.WeakKeyDictionary[Firewall, dict[str | None, Ledger]] = (
    weakref.WeakKeyDictionary()
)


def ledger_for(firewall: Firewall, session: str | None) -> Ledger:
    """The session's ledger; shared by every client of the same firewall."""
    sessions = _LEDGERS.setdefault(firewall, Bounded(1024))
    found = sessions.get(session)
    if found is None:
        found = sessions[session] = Ledger()
    return found


class Guard:
    """One client's firewall binding: firewall, principal, context and session."""

    def __init__(
        self,
        firewall: Firewall,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        session: str | None = None,
    ) -> None:
        if not isinstance(firewall, Firewall):
            raise TypeError(f"firewall= must be a firewall.Firewall, not {type(firewall).__name__}")
        self.firewall = firewall
        self.principal = principal
        self.context = dict(context or {})
        self.session = session

    @property
    def ledger(self) -> Ledger:
        return ledger_for(self.firewall, self.session)

    # -- decisions ------------------------------------------------------------------------

    def decide(self, call: ToolCall, grant: ApprovalGrant | None = None) -> Decision:
        if not call.arguments_valid:
            return self._invalid(call)
        return self.firewall.check(
            call, self.principal, self.context, session=self.session, grant=grant
        )

    async def adecide(self, call: ToolCall, grant: ApprovalGrant | None = None) -> Decision:
        if not call.arguments_valid:
            return self._invalid(call)
        return await self.firewall.acheck(
            call, self.principal, self.context, session=self.session, grant=grant
        )

    def _invalid(self, call: ToolCall) -> Decision:
        """A call whose arguments cannot be read is denied here, and recorded as such."""
        message = "its arguments are not a JSON object; send them again as valid JSON"
        decision = Decision(
            verdict=Verdict.DENY,
            reasons=(Reason(rule_id=INVALID_ARGUMENTS, verdict=Verdict.DENY, message=message),),
            intents=("unknown",),
            tool=call.name,
            call_id=call.id,
            call_hash=call.fingerprint(),
            policy=self.firewall.policy.name,
            policy_version=self.firewall.policy.version,
            mode="enforce",
            policy_verdict=Verdict.DENY,
            session=self.session,
        )
        principal = self.principal or Principal()
        for sink in self.firewall.sinks:
            try:
                sink.record(decision, call, principal, self.context)
            except Exception:  # the call is denied either way
                continue
        return decision

    # -- redaction of what leaves -----------------------------------------------------------

    def redact_output(self, call_id: str | None, text: str) -> str:
        """A tool output as the model may see it; each output is analysed (and recorded) once."""
        ledger = self.ledger
        key = ("output", call_id, text)
        found = ledger.redacted.get(key)
        if found is None:
            name = ledger.names.get(call_id, "") if call_id else ""
            call = ToolCall(name=name, id=call_id)
            result = self.firewall.after(call, text, session=self.session)
            found = _as_text(result.output)
            ledger.redacted[key] = found
        return found

    def redact_echo(self, call_id: str | None, text: str) -> str:
        """Arguments the caller sends back: the model's own text, or redacted again."""
        ledger = self.ledger
        echo = ledger.echoes.get(call_id) if call_id else None
        if echo is not None and echo[0] == text:
            return echo[1]
        key = ("echo", call_id, text)
        found = ledger.redacted.get(key)
        if found is None:
            name = ledger.names.get(call_id, "") if call_id else ""
            found = _as_text(self.firewall.redact(text, session=self.session, tool=name).output)
            ledger.redacted[key] = found
        return found

    def record_user(self, text: str) -> None:
        """Record a user message once (the whole history is re-sent on every request)."""
        if not text:
            return
        ledger = self.ledger
        if text in ledger.recorded:
            return
        ledger.recorded[text] = True
        self.firewall.record_message(self.session, "user", text)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def summary(decision: Decision, **where: Any) -> dict[str, Any]:
    """One decision as the caller sees it in the ``firewall`` field (plain JSON)."""
    data = decision.model_dump(mode="json")
    data["verdict"] = decision.verdict.label
    data["policy_verdict"] = decision.policy_verdict.label
    for reason in data.get("reasons", ()):
        reason["verdict"] = Verdict(reason["verdict"]).label
    data["allowed"] = decision.allowed
    data["message"] = decision.message_for_model()
    data.update(where)
    return data


def restored_arguments(decision: Decision, call: ToolCall, text: str) -> str:
    """The argument text the caller runs: placeholders the model wrote put back."""
    if decision.arguments is None or not call.arguments_valid:
        return text
    return json.dumps(decision.arguments_for(call), ensure_ascii=False)
