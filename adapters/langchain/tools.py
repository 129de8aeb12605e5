"""``guard_tools`` / ``guard_toolkit``: LangChain tools that ask the firewall before they run.

For code that runs tools itself: its own LangGraph graph with ``ToolNode``, a legacy agent,
or a direct ``tool.invoke``. A guarded tool is a copy of the tool with the same name,
description, argument schema, ``response_format`` and error handling; only its
``run``/``_run`` (and async twins) are wrapped, per instance. Injected arguments
(``ToolRuntime``, ``InjectedState``, ``InjectedToolCallId``, ...) reach the tool untouched
and are neither checked nor recorded: the firewall sees what the model wrote.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, BaseToolkit, ToolException
from langchain_core.tools import tool as as_tool

from adapters.langchain.gate import Approval, Gate, Ruling, session_of, tool_call_of
from adapters.langchain.results import redact_pair, redact_result
from firewall import Firewall, Principal, ToolCall


class FirewallDenied(ToolException):
    """A guarded tool's call was not allowed; the message is the firewall's, for the model."""


#: (tool, tool-call id, config) of the run in progress, set by the guarded ``run``.
_RUN: ContextVar[tuple[BaseTool, str | None, Mapping[str, Any] | None] | None] = ContextVar(
    "firewall_tool_run", default=None
)
#: The tool whose async path already decided, when its ``_arun`` falls back to ``_run``.
_DECIDED: ContextVar[BaseTool | None] = ContextVar("firewall_tool_decided", default=None)


def guard_tools(
    tools: Iterable[BaseTool | Callable[..., Any]],
    firewall: Firewall,
    *,
    principal: Principal | None = None,
    context: Mapping[str, Any] | None = None,
    approval: Approval = "approver",
    session: str | None = None,
) -> list[BaseTool]:
    """Guarded copies of ``tools`` (functions become tools first); the originals are unchanged.

    ``session`` fixes the firewall session; by default it is the LangGraph thread the tool
    runs in (``config["configurable"]["thread_id"]``), else none.
    """
    gate = Gate(firewall, principal=principal, context=context, approval=approval, session=session)
    return [_guard(t if isinstance(t, BaseTool) else as_tool(t), gate) for t in tools]


def guard_toolkit(
    toolkit: BaseToolkit | Sequence[BaseTool], firewall: Firewall, **options: Any
) -> list[BaseTool]:
    """``guard_tools`` over every tool of ``toolkit`` (anything with ``get_tools()``)."""
    get_tools = getattr(toolkit, "get_tools", None)
    tools = get_tools() if callable(get_tools) else toolkit
    return guard_tools(tools, firewall, **options)


def _guard(tool: BaseTool, gate: Gate) -> BaseTool:
    guarded = tool.model_copy()
    names = _model_argument_names(tool)
    for name, make in (
        ("run", _run_wrapper),
        ("arun", _arun_wrapper),
        ("_run", _sync_body),
        ("_arun", _async_body),
    ):
        original = getattr(guarded, name)
        wrapper = make(guarded, original, gate, names)
        object.__setattr__(guarded, name, functools.wraps(original)(wrapper))
    return guarded


def _model_argument_names(tool: BaseTool) -> tuple[str, ...]:
    """The arguments the model writes (the tool-call schema), in order; injected ones are not."""
    schema = tool.tool_call_schema
    if isinstance(schema, Mapping):
        return tuple((schema.get("properties") or {}).keys())
    return tuple(schema.model_fields)


# -- run / arun: remember the tool-call id and config; a denial without a handler answers --


def _run_wrapper(tool: BaseTool, original: Callable[..., Any], gate: Gate, names: Any):
    def run(tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        token = _RUN.set((tool, kwargs.get("tool_call_id"), kwargs.get("config")))
        try:
            return original(tool_input, *args, **kwargs)
        except FirewallDenied as denied:  # the tool does not handle errors: answer anyway
            return _denial(tool, denied, kwargs.get("tool_call_id"))
        finally:
            _RUN.reset(token)

    return run


def _arun_wrapper(tool: BaseTool, original: Callable[..., Any], gate: Gate, names: Any):
    async def arun(tool_input: Any, *args: Any, **kwargs: Any) -> Any:
        token = _RUN.set((tool, kwargs.get("tool_call_id"), kwargs.get("config")))
        try:
            return await original(tool_input, *args, **kwargs)
        except FirewallDenied as denied:
            return _denial(tool, denied, kwargs.get("tool_call_id"))
        finally:
            _RUN.reset(token)

    return arun


def _denial(tool: BaseTool, denied: FirewallDenied, call_id: str | None) -> Any:
    text = str(denied)
    if call_id is None:
        return text
    return ToolMessage(content=text, name=tool.name, tool_call_id=call_id, status="error")


# -- _run / _arun: decide, run with the real values, redact -------------------------------


def _sync_body(tool: BaseTool, original: Callable[..., Any], gate: Gate, names: Any):
    def _run(*args: Any, **kwargs: Any) -> Any:
        if _DECIDED.get() is tool:  # the async path decided and will redact
            token = _DECIDED.set(None)
            try:
                return original(*args, **kwargs)
            finally:
                _DECIDED.reset(token)
        call, session = _call_of(tool, gate, names, args, kwargs)
        ruling = gate.decide(call, session)
        _raise_unless_allowed(ruling)
        args, kwargs = _with_arguments(names, args, kwargs, ruling)
        result = original(*args, **kwargs)
        return _redacted(tool, gate.firewall, ruling, result, session)

    return _run


def _async_body(tool: BaseTool, original: Callable[..., Any], gate: Gate, names: Any):
    async def _arun(*args: Any, **kwargs: Any) -> Any:
        call, session = _call_of(tool, gate, names, args, kwargs)
        ruling = await gate.adecide(call, session)
        _raise_unless_allowed(ruling)
        args, kwargs = _with_arguments(names, args, kwargs, ruling)
        token = _DECIDED.set(tool)
        try:
            result = await original(*args, **kwargs)
        finally:
            _DECIDED.reset(token)
        return await asyncio.to_thread(_redacted, tool, gate.firewall, ruling, result, session)

    return _arun


def _call_of(
    tool: BaseTool, gate: Gate, names: Sequence[str], args: tuple, kwargs: dict
) -> tuple[ToolCall, str | None]:
    """The call as the model wrote it (injected arguments left out) and its session."""
    running = _RUN.get()
    call_id, config = (running[1], running[2]) if running and running[0] is tool else (None, None)
    arguments = dict(zip(names, args, strict=False))
    arguments.update({name: kwargs[name] for name in names if name in kwargs})
    session = gate.session if gate.session is not None else session_of(None, config)
    return tool_call_of(tool.name, arguments, call_id), session


def _raise_unless_allowed(ruling: Ruling) -> None:
    if not ruling.decision.allowed:
        raise FirewallDenied(ruling.decision.message_for_model())


def _with_arguments(
    names: Sequence[str], args: tuple, kwargs: dict, ruling: Ruling
) -> tuple[tuple, dict]:
    """The tool's arguments as decided: real values for placeholders, a person's edit whole.

    Injected arguments (and ``run_manager``, ``config``) are kept; the model's arguments
    are exactly those of the decided call, so an edit that adds or drops one is honoured
    and one that names no argument of the tool is refused.
    """
    real = ruling.arguments
    unknown = sorted(set(real) - set(names))
    if unknown:
        raise FirewallDenied(
            f"Tool call '{ruling.call.name}' denied by the firewall: "
            f"{', '.join(unknown)} is not an argument of the tool"
        )
    positional = tuple(
        real.get(names[i], value) if i < len(names) else value for i, value in enumerate(args)
    )
    keep = {key: value for key, value in kwargs.items() if key not in names}
    given = {name: real[name] for name in names[len(args) :] if name in real}
    return positional, {**keep, **given}


def _redacted(tool: BaseTool, firewall: Firewall, ruling: Ruling, result: Any, session: Any) -> Any:
    if tool.response_format == "content_and_artifact" and isinstance(result, tuple):
        return redact_pair(firewall, ruling.call, result, session)
    return redact_result(firewall, ruling.call, result, session)
