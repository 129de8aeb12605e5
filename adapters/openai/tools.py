"""A hand-written tool loop in three lines: run the allowed calls of a reply.

The reply already holds only the calls the firewall allowed, with the placeholders the model
wrote restored; the outputs go back through the client, which redacts them as they leave.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any


def _calls(response: Any) -> tuple[str, list[tuple[str, str, str, str]]]:
    """("chat" | "responses", [(kind, call id, name, argument text)]) of a reply."""
    data = response.model_dump() if hasattr(response, "model_dump") else response
    if "choices" in data:
        message = (data.get("choices") or [{}])[0].get("message") or {}
        found = []
        for entry in message.get("tool_calls") or ():
            if entry.get("type") == "custom":
                custom = entry.get("custom") or {}
                found.append(("custom", entry["id"], custom.get("name"), custom.get("input") or ""))
            else:
                function = entry.get("function") or {}
                found.append(
                    ("function", entry["id"], function.get("name"), function.get("arguments") or "")
                )
        return "chat", found
    found = []
    for item in data.get("output") or ():
        if item.get("type") == "function_call":
            found.append(("function", item["call_id"], item["name"], item.get("arguments") or ""))
        elif item.get("type") == "custom_tool_call":
            found.append(("custom", item["call_id"], item["name"], item.get("input") or ""))
    return "responses", found


def _prepare(function: Callable[..., Any] | None, kind: str, name: str, text: str) -> Any:
    if function is None:
        return None, f"error: no tool named '{name}'"
    if kind == "custom":
        return (text,), None
    try:
        arguments = json.loads(text) if text.strip() else {}
    except ValueError:
        return None, "error: the arguments are not valid JSON"
    if not isinstance(arguments, dict):
        return None, "error: the arguments are not a JSON object"
    return arguments, None


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _message(style: str, kind: str, call_id: str, output: str) -> dict[str, Any]:
    if style == "chat":
        return {"role": "tool", "tool_call_id": call_id, "content": output}
    item_type = "custom_tool_call_output" if kind == "custom" else "function_call_output"
    return {"type": item_type, "call_id": call_id, "output": output}


def run_tool_calls(
    response: Any, functions: Mapping[str, Callable[..., Any]]
) -> list[dict[str, Any]]:
    """Run each call of ``response`` (chat completion or responses object) with ``functions``.

    Returns the tool messages (chat) or ``function_call_output`` items (responses) to send
    back; a failing tool is reported to the model as an error text, not raised.
    """
    style, calls = _calls(response)
    out = []
    for kind, call_id, name, text in calls:
        arguments, error = _prepare(functions.get(name), kind, name, text)
        if error is None:
            try:
                function = functions[name]
                result = function(*arguments) if kind == "custom" else function(**arguments)
                error = _as_text(result)
            except Exception as exc:
                error = f"error: {type(exc).__name__}: {exc}"
        out.append(_message(style, kind, call_id, error))
    return out


async def arun_tool_calls(
    response: Any, functions: Mapping[str, Callable[..., Any]]
) -> list[dict[str, Any]]:
    """``run_tool_calls`` where a function may be async (awaited) or blocking (run inline)."""
    style, calls = _calls(response)
    out = []
    for kind, call_id, name, text in calls:
        arguments, error = _prepare(functions.get(name), kind, name, text)
        if error is None:
            try:
                function = functions[name]
                result = function(*arguments) if kind == "custom" else function(**arguments)
                if inspect.isawaitable(result):
                    result = await result
                error = _as_text(result)
            except Exception as exc:
                error = f"error: {type(exc).__name__}: {exc}"
        out.append(_message(style, kind, call_id, error))
    return out
