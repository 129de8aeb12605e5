"""The firewall in the OpenAI Agents SDK: guardrails, approvals, and a function-tool wrapper.

The SDK's tool input guardrail can reject a call (the model gets the reason) but cannot
change its arguments, and an output guardrail cannot change what a tool returned; so
``FirewallGuardrails.tool`` wraps a function tool to restore placeholders the model wrote and
redact its output. ``needs_approval`` turns a ``require_approval`` verdict into the SDK's
interruption; a call approved there (``RunState.approve``) is checked with a grant for
exactly that call, one rejected there never runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from agents import (
    FunctionTool,
    GuardrailFunctionOutput,
    InputGuardrail,
    ToolGuardrailFunctionOutput,
    ToolInputGuardrail,
    ToolOutputGuardrail,
)
from agents.tool_guardrails import ToolInputGuardrailData, ToolOutputGuardrailData

from adapters.openai.guard import Bounded, Guard, summary
from firewall import Decision, Firewall, Principal, ToolCall, Verdict

#: Who a grant names when a person approved the call through the SDK's ``RunState.approve``.
SDK_APPROVER = "openai-agents approval"


class FirewallGuardrails:
    """Everything the Agents SDK needs to put one firewall in front of an agent's tools."""

    def __init__(
        self,
        firewall: Firewall,
        *,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        session: str | None = None,
    ) -> None:
        self.guard = Guard(firewall, principal, context, session)
        #: Decisions of the input guardrail, by call id, for the tool wrapper to use.
        self._decisions: Bounded = Bounded()
        self.input = ToolInputGuardrail(guardrail_function=self._check_input, name="firewall")
        self.output = ToolOutputGuardrail(guardrail_function=self._check_output, name="firewall")
        self.user_input = InputGuardrail(guardrail_function=self._record_input, name="firewall")

    @property
    def firewall(self) -> Firewall:
        return self.guard.firewall

    # -- approval -------------------------------------------------------------------------

    def needs_approval(
        self, tool_name: str
    ) -> Callable[[Any, dict[str, Any], str], Awaitable[bool]]:
        """A ``needs_approval`` callable for ``tool_name``: true when the policy says so."""

        async def needs_approval(run_context: Any, arguments: dict[str, Any], call_id: str) -> bool:
            guard = self.guard
            try:
                evaluation = guard.firewall.evaluate(
                    ToolCall(name=tool_name, arguments=dict(arguments), id=call_id),
                    guard.principal,
                    guard.context,
                    session=guard.session,
                )
            except Exception:
                return True  # a person decides what the firewall could not evaluate
            return (
                evaluation.policy_verdict is Verdict.REQUIRE_APPROVAL
                and guard.firewall.policy.mode == "enforce"
            )

        return needs_approval

    # -- guardrails -----------------------------------------------------------------------

    async def decide(self, tool_context: Any, name: str, arguments: str) -> Decision:
        """Check one call; a call the SDK's approval flow approved carries a grant."""
        call_id = getattr(tool_context, "tool_call_id", None)
        call = ToolCall.from_json(name, arguments or "", id=call_id)
        grant = None
        approved = _approved(tool_context, name, call_id)
        if approved and call.arguments_valid:
            grant = self.firewall.grant(call, SDK_APPROVER, session=self.guard.session)
        decision = await self.guard.adecide(call, grant=grant)
        if call_id:
            self._decisions[call_id] = (call.fingerprint(), decision)
        return decision

    async def _check_input(self, data: ToolInputGuardrailData) -> ToolGuardrailFunctionOutput:
        context = data.context
        decision = await self.decide(context, context.tool_name, context.tool_arguments)
        if decision.allowed:
            return ToolGuardrailFunctionOutput.allow(output_info=summary(decision))
        return ToolGuardrailFunctionOutput.reject_content(
            decision.message_for_model(), output_info=summary(decision)
        )

    async def _check_output(self, data: ToolOutputGuardrailData) -> ToolGuardrailFunctionOutput:
        """For tools that cannot be wrapped (MCP): a redacted output replaces the original."""
        context = data.context
        call = ToolCall(name=context.tool_name, id=context.tool_call_id)
        redacted = await self.firewall.aafter(call, _plain(data.output), session=self.guard.session)
        if redacted.exempt or (not redacted.found and not redacted.withheld):
            return ToolGuardrailFunctionOutput.allow()
        info = {"entities": dict(redacted.entities), "withheld": redacted.withheld}
        return ToolGuardrailFunctionOutput.reject_content(_text(redacted.output), output_info=info)

    async def _record_input(
        self, run_context: Any, agent: Any, user_input: Any
    ) -> GuardrailFunctionOutput:
        """An agent input guardrail that records the user's words (never trips)."""
        for text in _user_texts(user_input):
            self.guard.record_user(text)
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    # -- function tools -------------------------------------------------------------------

    def tool(self, tool: FunctionTool) -> FunctionTool:
        """``tool`` behind the firewall: checked, approved, placeholders restored, redacted."""
        if not isinstance(tool, FunctionTool):
            raise TypeError(f"only function tools can be wrapped, not {type(tool).__name__}")
        original = tool.on_invoke_tool

        async def on_invoke_tool(tool_context: Any, arguments: str) -> Any:
            call_id = getattr(tool_context, "tool_call_id", None)
            call = ToolCall.from_json(tool.name, arguments or "", id=call_id)
            found = self._decisions.pop(call_id, None) if call_id else None
            if found is not None and found[0] == call.fingerprint():
                decision = found[1]
            else:  # no input guardrail ran for this exact call: check here
                decision = await self.decide(tool_context, tool.name, arguments)
                self._decisions.pop(call_id, None)
            if not decision.allowed:
                return decision.message_for_model()
            if decision.arguments is not None:
                arguments = json.dumps(decision.arguments_for(call), ensure_ascii=False)
            output = await original(tool_context, arguments)
            redacted = await self.firewall.aafter(call, _plain(output), session=self.guard.session)
            return redacted.output

        guardrails = [g for g in tool.tool_input_guardrails or () if g is not self.input]
        return dataclasses.replace(
            tool,
            on_invoke_tool=on_invoke_tool,
            needs_approval=self.needs_approval(tool.name),
            tool_input_guardrails=[self.input, *guardrails],
        )

    def tools(self, tools: Iterable[Any]) -> list[Any]:
        """Every function tool wrapped; other tools (hosted, MCP) are returned unchanged."""
        return [self.tool(t) if isinstance(t, FunctionTool) else t for t in tools]

    def mcp_options(self) -> dict[str, Any]:
        """Keyword arguments for an Agents SDK MCP server: its tools checked and redacted."""
        return {"tool_input_guardrails": [self.input], "tool_output_guardrails": [self.output]}


def firewall_guardrails(
    firewall: Firewall,
    *,
    principal: Principal | None = None,
    context: Mapping[str, Any] | None = None,
    session: str | None = None,
) -> FirewallGuardrails:
    """The guardrails, approval hook and tool wrapper of one firewall for the Agents SDK."""
    return FirewallGuardrails(firewall, principal=principal, context=context, session=session)


def guard_function_tool(tool: FunctionTool, firewall: Firewall, **binding: Any) -> FunctionTool:
    """One function tool behind ``firewall`` (see ``FirewallGuardrails.tool``)."""
    return FirewallGuardrails(firewall, **binding).tool(tool)


def _approved(tool_context: Any, name: str, call_id: str | None) -> bool:
    if not call_id:
        return False
    try:
        return tool_context.is_tool_approved(name, call_id) is True
    except Exception:
        return False


def _plain(output: Any) -> Any:
    """An output the redactor can walk: JSON-like values as they are, anything else as text."""
    if output is None or isinstance(output, str | int | float | bool | dict | list):
        return output
    dump = getattr(output, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            pass
    return str(output)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _user_texts(user_input: Any) -> list[str]:
    if isinstance(user_input, str):
        return [user_input]
    texts = []
    for item in user_input or ():
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list):
                texts += [
                    p["text"]
                    for p in content
                    if isinstance(p, dict) and isinstance(p.get("text"), str)
                ]
    return texts
