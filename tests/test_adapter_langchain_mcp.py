"""MCP tools as LangChain loads them are guarded like any LangChain tool.

LangChain's own loader, ``langchain-mcp-adapters`` (0.3.x, the newest), requires ``mcp<2``
and fails to import against the ``mcp`` 2.x SDK this project uses (``mcp.shared.context``
no longer has ``RequestContext``). ``load_mcp_tools`` below converts tools the way it does
(``StructuredTool`` with the server's JSON schema as ``args_schema``, async only,
``response_format="content_and_artifact"``, a new session per call, text blocks as content
and structured content as the artifact) over the real ``mcp`` 2.3 client and a real stdio
server, so the same tool objects are what the firewall guards.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from adapters.langchain import FirewallMiddleware, guard_tools
from firewall import ApprovalRequest, CallbackApprover, Firewall, load_policy
from firewall.redact.engine import analyzer_for
from tests.langchain_support import (
    CUSTOMERS,
    POLICY,
    SECRETS,
    ScriptedChatModel,
    Shop,
    build_shop,
    calls,
    mail_the_first_customer,
)

SERVER = Path(__file__).with_name("mcp_shop_server.py")


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(build_shop(tmp_path / "shop.db"))


def load_mcp_tools(server: StdioServerParameters) -> list[BaseTool]:
    """The server's tools as LangChain tools, as langchain-mcp-adapters builds them."""

    async def listing() -> list:
        async with Client(server) as client:
            return list((await client.list_tools()).tools)

    def convert(spec) -> BaseTool:
        async def call(**arguments) -> tuple[str | list, object]:
            async with Client(server) as client:
                result = await client.call_tool(spec.name, arguments)
            texts = [block.text for block in result.content if block.type == "text"]
            if result.is_error:
                raise ToolException("\n".join(texts))
            content = texts[0] if len(texts) == 1 else [{"type": "text", "text": t} for t in texts]
            return content, result.structured_content

        return StructuredTool(
            name=spec.name,
            description=spec.description or "",
            args_schema=spec.input_schema,
            coroutine=call,
            response_format="content_and_artifact",
        )

    return [convert(spec) for spec in asyncio.run(listing())]


def mcp_tools(shop: Shop) -> list[BaseTool]:
    return load_mcp_tools(
        StdioServerParameters(command=sys.executable, args=[str(SERVER), str(shop.path)])
    )


def script() -> list:
    return [
        calls(
            ("run_sql", {"query": "SELECT name, email, phone FROM customers ORDER BY id"}),
            ("run_sql", {"query": "DROP TABLE orders"}),
            turn=1,
        ),
        mail_the_first_customer,
        AIMessage("Done."),
    ]


def outbox(shop: Shop) -> list[str]:
    with sqlite3.connect(shop.path) as db:
        return [r[0] for r in db.execute("SELECT recipient FROM outbox")]


def check(shop: Shop, model: ScriptedChatModel, asked: list[ApprovalRequest]) -> None:
    assert "orders" in shop.tables() and shop.count("orders") == 2
    seen = model.everything_seen()
    assert "<EMAIL_ADDRESS_1>" in seen and "Dropping or truncating" in seen
    for value in SECRETS:
        assert value not in seen
    assert outbox(shop) == [CUSTOMERS[0][2]]  # the placeholder reached the server as the address
    assert [r.call.name for r in asked] == ["send_email"]


def test_guarded_mcp_tools_keep_their_schema_and_obey_the_policy(shop: Shop) -> None:
    tools = mcp_tools(shop)
    assert sorted(t.name for t in tools) == ["run_sql", "send_email"]
    asked: list[ApprovalRequest] = []
    fw = Firewall(load_policy(POLICY), approver=CallbackApprover(lambda r: asked.append(r) or True))
    guarded = guard_tools(tools, fw)
    for before, after in zip(tools, guarded, strict=True):
        assert convert_to_openai_tool(after) == convert_to_openai_tool(before)
        assert after.response_format == before.response_format == "content_and_artifact"
    model = ScriptedChatModel(script=script())
    agent = create_agent(model, guarded)
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("Mail our first customer.")]}))
    check(shop, model, asked)


def test_mcp_tools_under_the_middleware(shop: Shop) -> None:
    asked: list[ApprovalRequest] = []
    fw = Firewall(load_policy(POLICY), approver=CallbackApprover(lambda r: asked.append(r) or True))
    model = ScriptedChatModel(script=script())
    agent = create_agent(model, mcp_tools(shop), middleware=[FirewallMiddleware(fw)])
    asyncio.run(agent.ainvoke({"messages": [HumanMessage("Mail our first customer.")]}))
    check(shop, model, asked)
