"""The demo's agent: LangChain's ``create_agent`` with the firewall as middleware.

The model is scripted by default (``ScriptedChatModel``: a real ``BaseChatModel`` playing
``firewall.demo.script``, no API key needed), or a real one when ``OPENAI_API_KEY`` is
set (``OPENAI_BASE_URL`` and ``OPENAI_MODEL`` optional). The tools, the policy and the
middleware are the same either way; only what the model decides to do differs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool, StructuredTool
from pydantic import Field

from adapters.langchain import FirewallMiddleware
from firewall import Firewall, Principal
from firewall.demo import DEFAULT_OPENAI_MODEL
from firewall.demo.console import Reporter
from firewall.demo.script import SCRIPT, Turn
from firewall.demo.shop import SYSTEM_PROMPT, USER_PROMPT, ShopTools


class ScriptedChatModel(BaseChatModel):
    """Plays the script: turn N answers the tool results the model was last shown.

    ``transcript`` keeps every message list the model was given, so a run can show (and a
    test can check) exactly what reached the model.
    """

    script: Sequence[Turn] = SCRIPT
    transcript: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-demo"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.transcript.append(list(messages))
        number = sum(isinstance(m, AIMessage) for m in messages)
        if number >= len(self.script):
            return _answer(AIMessage(content="(nothing more to do)"))
        turn = self.script[number]
        seen = "\n".join(_tool_texts_since_last_turn(messages))
        return _answer(
            AIMessage(
                content=turn.says,
                tool_calls=[
                    {
                        "name": tool,
                        "args": arguments(seen),
                        "id": f"call_{number}_{i}",
                        "type": "tool_call",
                    }
                    for i, (tool, arguments) in enumerate(turn.calls)
                ],
            )
        )


def model_from_environment(name: str | None = None) -> BaseChatModel | None:
    """An OpenAI (or compatible) chat model when ``OPENAI_API_KEY`` is set, else ``None``."""
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=name or os.environ.get("OPENAI_MODEL") or DEFAULT_OPENAI_MODEL,
        base_url=os.environ.get("OPENAI_BASE_URL") or None,
        temperature=0,
    )


def shop_tools(shop: ShopTools) -> list[BaseTool]:
    """The shop's methods as LangChain tools (name, description and schema from each)."""
    return [
        StructuredTool.from_function(getattr(shop, name))
        for name in ("run_sql", "read_email", "send_email", "send_money", "run_shell")
    ]


def build_agent(
    firewall: Firewall,
    shop: ShopTools,
    *,
    principal: Principal,
    context: Mapping[str, Any],
    session: str,
    model: BaseChatModel,
) -> Any:
    """``create_agent`` over the shop's tools, every call through ``FirewallMiddleware``."""
    return create_agent(
        model,
        tools=shop_tools(shop),
        system_prompt=SYSTEM_PROMPT,
        middleware=[
            FirewallMiddleware(firewall, principal=principal, context=context, session=session)
        ],
    )


def drive(agent: Any, reporter: Reporter, session: str, max_steps: int = 40) -> None:
    """Run the agent on the user's request, showing each step as it happens.

    Tool calls of one model turn run one after another (``max_concurrency`` 1), so the
    run, its trace and its picture are the same every time.
    """
    config = {
        "configurable": {"thread_id": session},
        "max_concurrency": 1,
        "recursion_limit": max_steps,
    }
    updates = agent.stream(
        {"messages": [HumanMessage(USER_PROMPT)]}, config=config, stream_mode="updates"
    )
    for update in updates:
        for step in update.values():
            for message in (step or {}).get("messages", []) if isinstance(step, dict) else []:
                if isinstance(message, AIMessage) and message.content:
                    reporter.say(_text(message.content))
                elif isinstance(message, ToolMessage) and message.status != "error":
                    row = reporter.row_for(message.tool_call_id)
                    reporter.saw(
                        row, _text(message.content), reporter.entities_for(message.tool_call_id)
                    )


def _answer(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


def _tool_texts_since_last_turn(messages: list[BaseMessage]) -> list[str]:
    texts: list[str] = []
    for message in reversed(messages):
        if isinstance(message, AIMessage):
            break
        if isinstance(message, ToolMessage):
            texts.append(_text(message.content))
    return texts[::-1]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            b if isinstance(b, str) else str(b.get("text", "")) if isinstance(b, dict) else ""
            for b in content
        )
    return json.dumps(content, ensure_ascii=False, default=str)
