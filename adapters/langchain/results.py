"""What the model sees of a tool result: every form LangChain returns, through ``after``.

A tool node returns a ``ToolMessage``, a ``Command`` whose ``update`` carries messages, or a
list of them; a tool itself may return raw content or a ``(content, artifact)`` pair. The
content of every message that will reach the model is redacted, and so is the ``artifact``
of ``content_and_artifact`` tools: it is kept in the graph's state and checkpoints, where
the next middleware or a later prompt can read it. A policy that wants the artifact raw
lists the tool in ``redaction.exempt_tools`` (which leaves its content raw as well).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.types import Command

from firewall import Firewall, ToolCall


def redact_result(firewall: Firewall, call: ToolCall, result: Any, session: str | None) -> Any:
    """``result`` with every part the model will read passed through ``Firewall.after``."""
    if isinstance(result, BaseMessage):
        return _redact_message(firewall, call, result, session)
    if isinstance(result, Command):
        return _redact_command(firewall, call, result, session)
    if isinstance(result, list) and any(isinstance(r, BaseMessage | Command) for r in result):
        return [redact_result(firewall, call, item, session) for item in result]
    return firewall.after(call, result, session=session).output


def redact_pair(
    firewall: Firewall, call: ToolCall, pair: tuple[Any, Any], session: str | None
) -> tuple[Any, Any]:
    """A ``content_and_artifact`` tool's return value, both halves redacted."""
    content, artifact = pair
    content = firewall.after(call, content, session=session).output
    if artifact is not None:
        artifact = firewall.after(call, artifact, session=session).output
    return content, artifact


def _redact_message(
    firewall: Firewall, call: ToolCall, message: BaseMessage, session: str | None
) -> BaseMessage:
    content = _as_message_content(
        firewall.after(call, message.content, session=session).output, call
    )
    update: dict[str, Any] = {"content": content}
    artifact = getattr(message, "artifact", None)
    if artifact is not None:
        update["artifact"] = firewall.after(call, artifact, session=session).output
    return message.model_copy(update=update)


def _as_message_content(output: Any, call: ToolCall) -> str | list[Any]:
    if isinstance(output, str | list):
        return output
    return withheld_notice(call.name, "it could not be shown in a message")  # never expected


def _redact_command(
    firewall: Firewall, call: ToolCall, command: Command[Any], session: str | None
) -> Command[Any]:
    update = command.update
    if update is None:
        return command
    if isinstance(update, Mapping):
        messages = update.get("messages")
        if messages is None:
            return command
        new_update: Any = {
            **update,
            "messages": _redact_messages(firewall, call, messages, session),
        }
    elif isinstance(update, list | tuple):
        new_update = [
            (key, _redact_messages(firewall, call, value, session))
            if key == "messages"
            else (key, value)
            for key, value in update
        ]
    else:
        # A state object we cannot take apart: the model may read its messages, so they go.
        notice = withheld_notice(call.name, "its state update could not be checked")
        return replace(command, update={"messages": [_error_message(call, notice)]})
    return replace(command, update=new_update)


def _redact_messages(firewall: Firewall, call: ToolCall, messages: Any, session: str | None) -> Any:
    if not isinstance(messages, list | tuple):
        messages = [messages]
    redacted: list[Any] = []
    for message in messages:
        if isinstance(message, BaseMessage):
            redacted.append(_redact_message(firewall, call, message, session))
        elif isinstance(message, Mapping) and "content" in message:
            content = firewall.after(call, message["content"], session=session).output
            redacted.append({**message, "content": content})
        else:  # ("user", "text"), a bare string: the whole of it is what the model reads
            redacted.append(firewall.after(call, message, session=session).output)
    return redacted


def withheld_notice(tool: str, why: str) -> str:
    from firewall.redact.redactor import withheld_notice as notice  # loads Presidio

    return notice(tool, why)


def _error_message(call: ToolCall, text: str) -> ToolMessage:
    return ToolMessage(content=text, name=call.name, tool_call_id=call.id or "", status="error")


def denied_message(call: ToolCall, text: str) -> ToolMessage:
    """The error ``ToolMessage`` a blocked call answers with (the tool never ran)."""
    return _error_message(call, text)
