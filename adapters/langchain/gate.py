"""One decision per tool call, asked of the firewall; approval by its approver or by a pause.

Shared by the agent middleware and the guarded tools. With ``approval="interrupt"`` a held
call pauses the LangGraph run with ``interrupt()``: the call is evaluated first, the graph
pauses outside ``Firewall.check`` (which would turn LangGraph's interrupt into a deny), and
the answer given on resume becomes a grant (or a refusal) the firewall decides with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from firewall import Decision, Firewall, Principal, ToolCall
from firewall.engine import Evaluation
from firewall.model import Verdict, canonical_json

Approval = Literal["approver", "interrupt"]
APPROVALS: tuple[str, ...] = ("approver", "interrupt")

#: The ``kind`` of every approval request this adapter pauses a graph with.
REQUEST_KIND = "firewall.approval"
#: Who approved, when the answer on resume does not say (``{"by": "alice"}`` does).
DEFAULT_APPROVER = "langgraph-interrupt"


@dataclass(frozen=True)
class Ruling:
    """The firewall's decision, and the call to run when it allows (placeholders restored)."""

    decision: Decision
    call: ToolCall
    #: The held call was answered through an interrupt (the task may run again on resume).
    interrupted: bool = False

    @property
    def arguments(self) -> dict[str, Any]:
        return self.decision.arguments_for(self.call)


def tool_call_of(name: str, arguments: Any, call_id: str | None) -> ToolCall:
    """The firewall's view of a LangChain tool call; arguments that are no object stay raw."""
    if isinstance(arguments, Mapping):
        return ToolCall(name=name, arguments=dict(arguments), id=call_id)
    return ToolCall(name=name, raw_arguments=canonical_json(arguments), id=call_id)


def session_of(runtime: Any = None, config: Mapping[str, Any] | None = None) -> str | None:
    """The LangGraph thread of this run (or, without a checkpointer, the run itself)."""
    info = getattr(runtime, "execution_info", None)
    thread = getattr(info, "thread_id", None)
    if thread:
        return str(thread)
    if config is None:
        config = getattr(runtime, "config", None)
    if config is None:
        try:
            from langgraph.config import get_config

            config = get_config()
        except RuntimeError:  # not inside a graph
            config = {}
    thread = (config.get("configurable") or {}).get("thread_id")
    if thread:
        return str(thread)
    run = getattr(info, "run_id", None)
    return str(run) if run else None


class Gate:
    """Asks ``firewall`` about each call for one principal and context."""

    def __init__(
        self,
        firewall: Firewall,
        *,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        approval: Approval = "approver",
        session: str | None = None,
    ) -> None:
        if approval not in APPROVALS:
            raise ValueError(f"approval must be one of {APPROVALS}, not {approval!r}")
        self.firewall = firewall
        self.principal = principal
        self.context = dict(context or {})
        self.approval = approval
        self.session = session

    def decide(self, call: ToolCall, session: str | None) -> Ruling:
        """Decide ``call``; may pause the graph (``approval="interrupt"``)."""
        if self.approval == "approver":
            return Ruling(self._check(call, session), call)
        return self._decide_with_interrupt(call, session)

    async def adecide(self, call: ToolCall, session: str | None) -> Ruling:
        """Async ``decide``: a blocking approver runs in a worker thread."""
        if self.approval == "approver":
            decision = await self.firewall.acheck(
                call, self.principal, self.context, session=session
            )
            return Ruling(decision, call)
        return self._decide_with_interrupt(call, session)

    # -- approval by interrupt -----------------------------------------------------------

    def _check(self, call: ToolCall, session: str | None) -> Decision:
        return self.firewall.check(call, self.principal, self.context, session=session)

    def _evaluate(self, call: ToolCall, session: str | None) -> Evaluation | None:
        try:
            return self.firewall.evaluate(call, self.principal, self.context, session=session)
        except Exception:
            return None  # ``check`` records the failure as the deny it is

    def _decide_with_interrupt(self, call: ToolCall, session: str | None) -> Ruling:
        from langgraph.errors import GraphBubbleUp
        from langgraph.types import interrupt

        evaluation = self._evaluate(call, session)
        if evaluation is None:
            return Ruling(self._check(call, session), call)
        if not self.firewall.needs_approval(evaluation):
            return Ruling(self.firewall.conclude(evaluation), call)
        # Outside ``Firewall.check``: LangGraph's interrupt is an exception that must reach
        # the graph. On resume the task runs again and ``interrupt`` returns the answer.
        try:
            answer = interrupt(approval_request(evaluation))
        except GraphBubbleUp:
            raise
        except Exception:  # not inside a graph run: there is nobody to ask
            refusal = "approval by interrupt needs a LangGraph run with a checkpointer"
            return Ruling(self.firewall.conclude(evaluation, refusal=refusal), call)
        return self._answer(evaluation, answer)

    def _answer(self, evaluation: Evaluation, answer: Any) -> Ruling:
        firewall, call, session = self.firewall, evaluation.call, evaluation.session
        try:
            kind, arguments, message, by = read_answer(answer)
            if kind == "approve":
                grant = firewall.grant(call, approver=by, session=session)
                return Ruling(firewall.conclude(evaluation, grant), call, interrupted=True)
            if kind == "edit":
                return self._edited(call, arguments, by, session)
            refusal = f"rejected by {by}" + (f": {message}" if message else "")
            return Ruling(firewall.conclude(evaluation, refusal=refusal), call, interrupted=True)
        except Exception as exc:
            refusal = f"the answer to the approval request was not accepted: {exc}"
            return Ruling(firewall.conclude(evaluation, refusal=refusal), call, interrupted=True)

    def _edited(
        self, call: ToolCall, arguments: dict[str, Any], by: str, session: str | None
    ) -> Ruling:
        """The arguments a person wrote, checked again; their answer approves only them."""
        edited = ToolCall(name=call.name, arguments=arguments, id=call.id)
        evaluation = self._evaluate(edited, session)
        if evaluation is None:
            return Ruling(self._check(edited, session), edited, interrupted=True)
        grant = None
        if self.firewall.needs_approval(evaluation):
            grant = self.firewall.grant(edited, approver=by, note="edited", session=session)
        return Ruling(self.firewall.conclude(evaluation, grant), edited, interrupted=True)


def approval_request(evaluation: Evaluation) -> dict[str, Any]:
    """The JSON document a paused graph carries: the call as the model wrote it.

    Arguments keep the model's placeholders (the checkpoint stores this document); the
    rules and messages say why the call is held. Answer on resume with ``"approve"``,
    ``{"decision": "edit", "arguments": {...}}`` or ``{"decision": "reject", "message": ...}``
    (``"by"`` names the person).
    """
    call = evaluation.call
    held = [r for r in evaluation.reasons if r.verdict is Verdict.REQUIRE_APPROVAL]
    request: dict[str, Any] = {
        "kind": REQUEST_KIND,
        "tool_call_id": call.id,
        "tool": call.name,
        "arguments": json.loads(canonical_json(call.arguments)),
        "intents": list(evaluation.intents),
        "rules": [r.rule_id for r in held],
        "messages": [r.message for r in held if r.message],
        "session": evaluation.session,
        "answers": ["approve", "edit", "reject"],
    }
    if call.raw_arguments is not None:
        request["raw_arguments"] = call.raw_arguments
    return request


def read_answer(answer: Any) -> tuple[str, dict[str, Any], str, str]:
    """``(kind, arguments, message, by)`` from a resume value; anything else is a refusal."""
    if answer is True or answer is False:
        return ("approve" if answer else "reject"), {}, "", DEFAULT_APPROVER
    if isinstance(answer, str):
        answer = {"decision": answer}
    if not isinstance(answer, Mapping):
        raise ValueError(f"expected 'approve', 'reject' or a mapping, got {type(answer).__name__}")
    kind = answer.get("decision", answer.get("type"))
    if kind not in ("approve", "edit", "reject"):
        raise ValueError(f"unknown decision {kind!r} (approve, edit or reject)")
    by = answer.get("by", answer.get("approver", DEFAULT_APPROVER))
    message = answer.get("message", "")
    if not isinstance(by, str) or not by or not isinstance(message, str):
        raise ValueError("'by' and 'message' must be text")
    if kind != "edit":
        return kind, {}, message, by
    arguments = answer.get("arguments", answer.get("args"))
    if not isinstance(arguments, Mapping):
        raise ValueError("an edit needs 'arguments', a JSON object")
    return kind, dict(arguments), message, by
