"""``FirewallMiddleware``: every tool call of a ``create_agent`` agent through the firewall.

Denied calls answer with an error ``ToolMessage`` (LangGraph would end the run on an
exception from the tool node); allowed calls run with placeholders restored to the values
they stand for, and their results are redacted before the model sees them. The session
is the LangGraph thread, so placeholders and data flow span the whole conversation.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.errors import GraphBubbleUp
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.runtime import Runtime
from langgraph.types import Command

from adapters.langchain.gate import Approval, Gate, Ruling, session_of, tool_call_of
from adapters.langchain.results import denied_message, redact_result, withheld_notice
from firewall import Firewall, Principal, ToolCall

_REMEMBERED = 4096

Result = ToolMessage | Command[Any]


class FirewallMiddleware(AgentMiddleware):
    """Checks each tool call with ``firewall`` and redacts what the tools return.

    ``approval="approver"`` asks the firewall's configured ``Approver`` about held calls;
    ``approval="interrupt"`` pauses the graph with LangGraph's ``interrupt()`` (needs a
    checkpointer) and resumes with ``Command(resume="approve" | {"decision": "edit",
    "arguments": {...}} | {"decision": "reject", "message": "..."})``. ``session`` fixes
    the firewall session; by default it is the LangGraph thread id.
    """

    def __init__(
        self,
        firewall: Firewall,
        *,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        approval: Approval = "approver",
        session: str | None = None,
    ) -> None:
        super().__init__()
        self.gate = Gate(
            firewall, principal=principal, context=context, approval=approval, session=session
        )
        self.tools = []
        self._lock = threading.Lock()
        #: Messages already recorded, by id: ``before_agent`` sees the whole thread each run.
        self._recorded: OrderedDict[tuple[str | None, str], None] = OrderedDict()
        #: Results of calls approved through an interrupt, by (session, task, tool-call id, call):
        #: if the task runs again the call is not run twice.
        self._ran: OrderedDict[tuple[str | None, str, str, str], Result] = OrderedDict()

    @property
    def firewall(self) -> Firewall:
        return self.gate.firewall

    # -- user messages -------------------------------------------------------------------

    def before_agent(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Record the user's new messages, so values they typed count as theirs."""
        session = self._session(runtime)
        for message in _new_user_messages(state):
            if self._first_time(session, message):
                self.firewall.record_message(session, "user", _text_of(message))
        return None

    async def abefore_agent(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        return self.before_agent(state, runtime)

    # -- tool calls ----------------------------------------------------------------------

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], Result]
    ) -> Result:
        call, session = self._call_of(request), self._session(request.runtime)
        done = self._already_ran(request, call, session)
        if done is not None:
            return done
        try:
            self._note_model_turn(request.state, session)
            ruling = self.gate.decide(call, session)
        except GraphBubbleUp:  # LangGraph's interrupt: the graph pauses here
            raise
        except Exception as exc:
            return denied_message(call, _unchecked(call, exc))
        if not ruling.decision.allowed:
            return denied_message(call, ruling.decision.message_for_model())
        result = handler(_with_arguments(request, ruling))
        redacted = self._redacted(ruling, result, session)
        return self._note_ran(request, call, ruling, session, redacted)

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[Result]],
    ) -> Result:
        call, session = self._call_of(request), self._session(request.runtime)
        done = self._already_ran(request, call, session)
        if done is not None:
            return done
        try:
            self._note_model_turn(request.state, session)
            ruling = await self.gate.adecide(call, session)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return denied_message(call, _unchecked(call, exc))
        if not ruling.decision.allowed:
            return denied_message(call, ruling.decision.message_for_model())
        result = await handler(_with_arguments(request, ruling))
        redacted = await asyncio.to_thread(self._redacted, ruling, result, session)
        return self._note_ran(request, call, ruling, session, redacted)

    # -- helpers -------------------------------------------------------------------------

    def _note_model_turn(self, state: Any, session: str | None) -> None:
        """Record the model's turn once: the calls it proposes hang from it in the graph.

        Done here rather than in an ``after_model`` hook, which would add a graph step to
        every turn of the loop.
        """
        messages = state.get("messages", []) if isinstance(state, Mapping) else []
        turn = next((m for m in reversed(messages) if isinstance(m, AIMessage)), None)
        if turn is None or not self._first_time(session, turn):
            return
        self.firewall.record_message(session, "assistant", _text_of(turn))

    def _first_time(self, session: str | None, message: BaseMessage) -> bool:
        if not message.id:
            return True
        with self._lock:
            if (session, message.id) in self._recorded:
                return False
            _remember(self._recorded, (session, message.id), None)
        return True

    def _redacted(self, ruling: Ruling, result: Any, session: str | None) -> Any:
        """``result`` as the model may see it; withheld whole if it cannot be taken apart."""
        try:
            return redact_result(self.firewall, ruling.call, result, session)
        except Exception as exc:
            why = f"it could not be checked for personal data ({type(exc).__name__})"
            return denied_message(ruling.call, withheld_notice(ruling.call.name, why))

    def _session(self, runtime: Any) -> str | None:
        return self.gate.session if self.gate.session is not None else session_of(runtime)

    @staticmethod
    def _call_of(request: ToolCallRequest) -> ToolCall:
        tool_call = request.tool_call
        return tool_call_of(tool_call["name"], tool_call.get("args"), tool_call.get("id"))

    def _run_key(
        self, request: ToolCallRequest, call: ToolCall, session: str | None
    ) -> tuple[str | None, str, str, str] | None:
        """The model's call in this graph task: a task run again has the same key."""
        info = getattr(request.runtime, "execution_info", None)
        task = getattr(info, "task_id", None)
        if not task or not call.id:
            return None
        return session, str(task), call.id, call.fingerprint()

    def _already_ran(
        self, request: ToolCallRequest, call: ToolCall, session: str | None
    ) -> Result | None:
        if self.gate.approval != "interrupt":
            return None
        key = self._run_key(request, call, session)
        if key is None:
            return None
        with self._lock:
            return self._ran.get(key)

    def _note_ran(
        self,
        request: ToolCallRequest,
        call: ToolCall,
        ruling: Ruling,
        session: str | None,
        result: Result,
    ) -> Result:
        if ruling.interrupted:
            key = self._run_key(request, call, session)
            if key is not None:
                with self._lock:
                    _remember(self._ran, key, result)
        return result


def _unchecked(call: ToolCall, exc: Exception) -> str:
    return (
        f"Tool call '{call.name}' denied by the firewall: it could not be checked "
        f"({type(exc).__name__})"
    )


def _with_arguments(request: ToolCallRequest, ruling: Ruling) -> ToolCallRequest:
    """The request with the arguments the tool must run with (placeholders restored)."""
    arguments = ruling.arguments
    if arguments == request.tool_call.get("args"):
        return request
    return request.override(tool_call={**request.tool_call, "args": arguments})


def _new_user_messages(state: Any) -> list[HumanMessage]:
    """The human messages after the agent's last turn: this run's input."""
    messages = state.get("messages", []) if isinstance(state, Mapping) else []
    new: list[HumanMessage] = []
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            new.append(message)
        elif isinstance(message, BaseMessage):
            break
    return new[::-1]


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping) and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "\n".join(parts)


def _remember(store: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > _REMEMBERED:
        store.popitem(last=False)
