"""The firewall for the OpenAI SDK: a drop-in client, and guardrails for the Agents SDK.

``from adapters.openai import OpenAI`` instead of ``from openai import OpenAI``, plus
``firewall=``: every tool call in a reply is checked (denied ones removed, the decisions in a
``firewall`` field), every tool output redacted before it leaves the process.
"""

from __future__ import annotations

from typing import Any

from adapters.openai.client import AsyncOpenAI, OpenAI
from adapters.openai.guard import INVALID_ARGUMENTS
from adapters.openai.tools import arun_tool_calls, run_tool_calls

__all__ = [
    "INVALID_ARGUMENTS",
    "AsyncOpenAI",
    "OpenAI",
    "arun_tool_calls",
    "firewall_guardrails",
    "guard_function_tool",
    "run_tool_calls",
]


def __getattr__(name: str) -> Any:
    # The Agents SDK is an extra of its own: imported only when asked for.
    if name in ("firewall_guardrails", "guard_function_tool", "FirewallGuardrails"):
        from adapters.openai import agents

        return getattr(agents, name)
    raise AttributeError(f"module 'adapters.openai' has no attribute '{name}'")
