"""Checking what the model proposed in a whole (non-streamed) reply.

Each check is a generator that yields ``Ask(calls)`` and receives the decisions, so one
body of logic serves the sync client (``firewall.check``) and the async one (``acheck``).
A denied call is removed, allowed calls carry their restored arguments, and the decisions go
into a ``firewall`` field on the returned object.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from adapters.openai.guard import Denial, Guard, restored_arguments, summary
from firewall import Decision, FirewallError, ToolCall

#: Output items the client itself carries out (the API only proposes them): each is checked.
#: Items the API runs itself (web search, file search, code interpreter, its own MCP calls)
#: have already happened when the reply arrives.
SERVER_SIDE_ITEMS = frozenset(
    {
        "web_search_call",
        "file_search_call",
        "code_interpreter_call",
        "image_generation_call",
        "mcp_call",
        "mcp_list_tools",
        "tool_search_call",
    }
)


@dataclass
class Ask:
    """A request from a check to its driver: decide these calls (in order)."""

    calls: list[ToolCall]


Check = Generator[Any, list[Decision], Any]


def chat_call(entry: dict[str, Any]) -> ToolCall:
    """A chat ``tool_calls`` entry (function or custom tool) as a firewall call."""
    kind = entry.get("type") or "function"
    if kind == "custom":
        custom = entry.get("custom") or {}
        return ToolCall(
            name=str(custom.get("name") or ""),
            arguments={"input": custom.get("input") or ""},
            id=entry.get("id"),
        )
    function = entry.get("function") or {}
    return ToolCall.from_json(
        str(function.get("name") or ""), _text(function.get("arguments")), id=entry.get("id")
    )


def item_call(item: dict[str, Any]) -> ToolCall | None:
    """A responses output item the client would carry out, as a firewall call (else ``None``)."""
    kind = item.get("type")
    call_id = item.get("call_id") or item.get("id")
    if kind == "function_call":
        return ToolCall.from_json(
            str(item.get("name") or ""), _text(item.get("arguments")), id=call_id
        )
    if kind == "mcp_approval_request":
        # The API asks whether it may run an MCP tool: the firewall answers first.
        return ToolCall.from_json(
            str(item.get("name") or ""), _text(item.get("arguments")), id=item.get("id")
        )
    if kind == "custom_tool_call":
        return ToolCall(
            name=str(item.get("name") or ""),
            arguments={"input": item.get("input") or ""},
            id=call_id,
        )
    if isinstance(kind, str) and kind.endswith("_call") and kind not in SERVER_SIDE_ITEMS:
        # local_shell_call, shell_call, computer_call, apply_patch_call, ...: checked as a
        # tool named by its type with the action as arguments (the policy decides).
        arguments = {k: v for k, v in item.items() if k not in ("type", "id", "call_id", "status")}
        return ToolCall(name=kind, arguments=arguments, id=call_id)
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _restore_chat_entry(entry: dict[str, Any], call: ToolCall, decision: Decision) -> dict:
    function = entry.get("function")
    if not isinstance(function, dict) or decision.arguments is None:
        return entry
    original = _text(function.get("arguments"))
    restored = restored_arguments(decision, call, original)
    return {**entry, "function": {**function, "arguments": restored}}


def check_chat(guard: Guard, body: dict[str, Any]) -> Check:
    """A chat completion: check every tool call of every choice."""
    choices = body.get("choices")
    if not isinstance(choices, list):
        return body
    proposed: list[tuple[dict, dict, ToolCall]] = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        for entry in message.get("tool_calls") or ():
            if not isinstance(entry, dict):
                raise FirewallError("a tool call in the reply cannot be read; it was not passed on")
            proposed.append((choice, entry, chat_call(entry)))
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            proposed.append((choice, legacy, _legacy_call(legacy)))
    if not proposed:
        return body
    decisions: list[Decision] = yield Ask([call for _, _, call in proposed])
    by_choice: dict[int, list[tuple[dict, ToolCall, Decision]]] = {}
    for (choice, entry, call), decision in zip(proposed, decisions, strict=True):
        by_choice.setdefault(id(choice), []).append((entry, call, decision))
    for choice in choices:
        found = by_choice.get(id(choice))
        if found is None:
            continue
        message = choice["message"]
        kept, denied, notes = [], [], []
        for entry, call, decision in found:
            notes.append(summary(decision))
            if entry is message.get("function_call"):
                if decision.allowed:
                    message["function_call"] = _restore_legacy(entry, call, decision)
                else:
                    del message["function_call"]
                continue
            if decision.allowed:
                restored = _restore_chat_entry(entry, call, decision)
                function = restored.get("function")
                if call.id and isinstance(function, dict):
                    original = _text((entry.get("function") or {}).get("arguments"))
                    guard.ledger.echoes[call.id] = (_text(function.get("arguments")), original)
                kept.append(restored)
            else:
                denied.append(Denial(call.id or "", call.name, entry, decision.message_for_model()))
        if "tool_calls" in message:
            if kept:
                message["tool_calls"] = kept
            else:
                del message["tool_calls"]
        if (
            not kept
            and "function_call" not in message
            and choice.get("finish_reason")
            in (
                "tool_calls",
                "function_call",
            )
        ):
            choice["finish_reason"] = "stop"
        remember_chat(guard, kept, message.get("content"), denied, found)
        message["firewall"] = {
            "decisions": notes,
            "denied": [{**d.raw, "message": d.message} for d in denied],
        }
    return body


def remember_chat(
    guard: Guard,
    kept: list[dict[str, Any]],
    content: Any,
    denied: list[Denial],
    found: list[tuple[Any, ToolCall, Decision]],
) -> None:
    """Note names of the calls, and the denials to put back into the next request."""
    ledger = guard.ledger
    for _, call, _ in found:
        if call.id:
            ledger.names[call.id] = call.name
    if denied:
        ledger.chat_denials[chat_key(kept, content)] = denied


def chat_key(tool_calls: list[Any], content: Any) -> tuple:
    """How an assistant message is recognised when the caller sends it back."""
    ids = tuple(str(e.get("id")) for e in tool_calls if isinstance(e, dict) and e.get("id"))
    if ids:
        return ("ids", ids)
    return ("content", content if isinstance(content, str) else "")


def _legacy_call(entry: dict[str, Any]) -> ToolCall:
    return ToolCall.from_json(str(entry.get("name") or ""), _text(entry.get("arguments")))


def _restore_legacy(entry: dict[str, Any], call: ToolCall, decision: Decision) -> dict:
    if decision.arguments is None:
        return entry
    return {**entry, "arguments": restored_arguments(decision, call, _text(entry["arguments"]))}


def check_response(guard: Guard, body: dict[str, Any]) -> Check:
    """A responses object: check every item the client would carry out."""
    output = body.get("output")
    if not isinstance(output, list):
        return body
    proposed = [(item, call) for item in output if (call := _item_call(item)) is not None]
    if not proposed:
        return body
    decisions: list[Decision] = yield Ask([call for _, call in proposed])
    apply_response(guard, body, list(zip(proposed, decisions, strict=True)))
    return body


def _item_call(item: Any) -> ToolCall | None:
    return item_call(item) if isinstance(item, dict) else None


def apply_response(
    guard: Guard,
    body: dict[str, Any],
    decided: list[tuple[tuple[dict, ToolCall], Decision]],
) -> None:
    """Remove denied items from ``body['output']``, restore arguments, add ``firewall``."""
    ledger = guard.ledger
    verdicts = {id(item): (call, decision) for (item, call), decision in decided}
    kept, denied = [], []
    for item in body.get("output") or ():
        found = verdicts.get(id(item))
        if found is None:
            kept.append(item)
            continue
        call, decision = found
        if call.id:
            ledger.names[call.id] = call.name
        if decision.allowed:
            kept.append(restore_item(guard, item, call, decision))
        else:
            denied.append(Denial(call.id or "", call.name, item, decision.message_for_model()))
    body["output"] = kept
    response_id = body.get("id")
    if denied and isinstance(response_id, str):
        ledger.response_denials[response_id] = denied
        for item in kept:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                ledger.item_response[item["id"]] = response_id
    body["firewall"] = {
        "decisions": [summary(decision) for _, decision in decided],
        "denied": [{**d.raw, "message": d.message} for d in denied],
    }


def restore_item(guard: Guard, item: dict, call: ToolCall, decision: Decision) -> dict:
    """An allowed function call item with the placeholders the model wrote put back."""
    if item.get("type") != "function_call":
        return item
    original = _text(item.get("arguments"))
    restored = restored_arguments(decision, call, original)
    if call.id:
        guard.ledger.echoes[call.id] = (restored, original)
    return item if restored == original else {**item, "arguments": restored}


def drive(check: Check, decide: Any) -> Any:
    """Run a check synchronously; ``decide`` maps one call to its decision."""
    try:
        request = next(check)
        while True:
            request = check.send([decide(call) for call in request.calls])
    except StopIteration as stop:
        return stop.value


async def adrive(check: Check, adecide: Any) -> Any:
    """Run a check with an async ``adecide``."""
    try:
        request = next(check)
        while True:
            request = check.send([await adecide(call) for call in request.calls])
    except StopIteration as stop:
        return stop.value
