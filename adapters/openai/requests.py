"""What leaves the process: request bodies rewritten before they are sent.

Tool outputs (``role: "tool"`` messages, ``*_output`` items) are redacted; arguments the
caller echoes back are the model's own text again (or redacted); calls the firewall removed
are put back with a tool message giving the reason, so the model learns why; user messages
are recorded as the user's words.
"""

from __future__ import annotations

from typing import Any

from adapters.openai.guard import Denial, Guard
from adapters.openai.replies import chat_key
from firewall import FirewallError

_NOTICE = "[firewall] This part of the tool output was withheld: only text can be checked."


def chat_request(guard: Guard, body: dict[str, Any]) -> dict[str, Any]:
    """A chat completions body with its messages rewritten."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return body
    answered = {
        m.get("tool_call_id")
        for m in messages
        if isinstance(m, dict) and m.get("role") == "tool" and m.get("tool_call_id")
    }
    out: list[Any] = []
    for message in messages:
        if not isinstance(message, dict):
            message = _as_dict(message)
        role = message.get("role")
        if role == "assistant":
            message, denials = _assistant(guard, message)
            out.append(message)
            for denial in denials:
                if denial.call_id and denial.call_id in answered:
                    continue
                out.append(
                    {"role": "tool", "tool_call_id": denial.call_id, "content": denial.message}
                )
        elif role in ("tool", "function"):
            call_id = message.get("tool_call_id")
            content = _redact_content(guard, call_id, message.get("content"))
            out.append({**message, "content": content})
        else:
            if role == "user":
                guard.record_user(_plain(message.get("content")))
            out.append(message)
    return {**body, "messages": out}


def _assistant(guard: Guard, message: dict[str, Any]) -> tuple[dict[str, Any], list[Denial]]:
    ledger = guard.ledger
    note = message.get("firewall")
    message = {k: v for k, v in message.items() if k != "firewall"}
    calls = [c for c in message.get("tool_calls") or () if isinstance(c, dict)]
    rewritten = []
    for entry in calls:
        call_id = entry.get("id")
        function = entry.get("function")
        if call_id and isinstance(function, dict):
            ledger.names[call_id] = str(function.get("name") or "")
            arguments = function.get("arguments")
            if isinstance(arguments, str) and arguments:
                entry = {
                    **entry,
                    "function": {**function, "arguments": guard.redact_echo(call_id, arguments)},
                }
        rewritten.append(entry)
    legacy = message.get("function_call")
    if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
        echoed = guard.redact_echo(None, legacy["arguments"])
        message["function_call"] = {**legacy, "arguments": echoed}
    denials = _denials_from_note(note)
    if denials is None:
        denials = ledger.chat_denials.get(chat_key(calls, message.get("content"))) or []
    present = {e.get("id") for e in rewritten}
    denials = [d for d in denials if d.call_id not in present]
    if denials:
        rewritten.extend(d.raw for d in denials)
    if rewritten or "tool_calls" in message:
        message["tool_calls"] = rewritten
    return message, denials


def _denials_from_note(note: Any) -> list[Denial] | None:
    """The denials the caller carried back in the message's own ``firewall`` field."""
    if not isinstance(note, dict) or not isinstance(note.get("denied"), list):
        return None
    denials = []
    for raw in note["denied"]:
        if not isinstance(raw, dict) or not raw.get("id"):
            continue
        entry = {k: v for k, v in raw.items() if k != "message"}
        name = str((entry.get("function") or entry.get("custom") or {}).get("name") or "")
        denials.append(Denial(str(raw["id"]), name, entry, str(raw.get("message") or "")))
    return denials


def responses_request(guard: Guard, body: dict[str, Any]) -> dict[str, Any]:
    """A responses body with its input rewritten."""
    ledger = guard.ledger
    items = body.get("input")
    previous = body.get("previous_response_id")
    owed = ledger.response_denials.get(previous, []) if isinstance(previous, str) else []
    if isinstance(items, str):
        guard.record_user(items)
        if not owed:
            return body
        items = [{"role": "user", "content": items}]
    if not isinstance(items, list):
        return body
    answered = {
        i.get("call_id") or i.get("approval_request_id")
        for i in items
        if isinstance(i, dict)
        and (str(i.get("type", "")).endswith("_output") or i.get("type") == "mcp_approval_response")
    }
    # The previous response (kept by the API) holds the denied calls: they are answered first.
    out: list[Any] = [_denial_output(d) for d in owed if d.call_id not in answered]
    answered.update(d.call_id for d in owed)
    last_of: dict[str, int] = {}
    for item in items:
        if not isinstance(item, dict):
            item = _as_dict(item)
        out.append(_input_item(guard, item))
        response_id = ledger.item_response.get(item.get("id"))
        if response_id is not None:
            last_of[response_id] = len(out)
    # Replayed history: the denied calls go back after the last item of their response.
    for response_id, position in sorted(last_of.items(), key=lambda p: -p[1]):
        extra: list[Any] = []
        for denial in ledger.response_denials.get(response_id, ()):
            if denial.call_id in answered:
                continue
            extra.extend([denial.raw, _denial_output(denial)])
        out[position:position] = extra
    return {**body, "input": out}


def _input_item(guard: Guard, item: dict[str, Any]) -> dict[str, Any]:
    ledger = guard.ledger
    kind = item.get("type")
    if kind in (None, "message"):
        if item.get("role") == "user":
            guard.record_user(_plain(item.get("content")))
        return item
    call_id = item.get("call_id")
    if kind == "function_call":
        if call_id:
            ledger.names[call_id] = str(item.get("name") or "")
        arguments = item.get("arguments")
        if isinstance(arguments, str) and arguments:
            return {**item, "arguments": guard.redact_echo(call_id, arguments)}
        return item
    if kind == "custom_tool_call":
        if call_id:
            ledger.names[call_id] = str(item.get("name") or "")
        return item
    if isinstance(kind, str) and kind.endswith("_output") and "output" in item:
        return {**item, "output": _redact_content(guard, call_id, item["output"])}
    return item


def _denial_output(denial: Denial) -> dict[str, Any]:
    kind = denial.raw.get("type")
    if kind == "mcp_approval_request":
        return {
            "type": "mcp_approval_response",
            "approval_request_id": denial.call_id,
            "approve": False,
            "reason": denial.message,
        }
    output_type = (
        "custom_tool_call_output" if kind == "custom_tool_call" else "function_call_output"
    )
    return {"type": output_type, "call_id": denial.call_id, "output": denial.message}


def _redact_content(guard: Guard, call_id: Any, content: Any) -> Any:
    """A tool output (text, or a list of parts) as the model may see it."""
    call_id = call_id if isinstance(call_id, str) else None
    if isinstance(content, str):
        return guard.redact_output(call_id, content)
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append({**part, "text": guard.redact_output(call_id, part["text"])})
            else:
                # Images and files cannot be checked for personal data: they do not leave.
                kind = part.get("type", "") if isinstance(part, dict) else ""
                kind = "input_text" if str(kind).startswith("input_") else "text"
                parts.append({"type": kind, "text": _NOTICE})
        return parts
    if content is None:
        return content
    return guard.redact_output(call_id, str(content))


def _as_dict(message: Any) -> dict[str, Any]:
    """A message the SDK did not turn into a dict: as one, or an error (never unredacted)."""
    dump = getattr(message, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    raise FirewallError(f"a message of type {type(message).__name__} cannot be checked")


def _plain(content: Any) -> str:
    """The text of a message (a string, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""
