"""guard_tools / guard_toolkit: wrapped tools look the same to the model and obey the firewall."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain_community.agent_toolkits import SQLDatabaseToolkit
from langchain_community.utilities import SQLDatabase
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, ToolException, tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.prebuilt import InjectedState, ToolRuntime

from adapters.langchain import FirewallDenied, guard_toolkit, guard_tools
from firewall import ApprovalRequest, CallbackApprover, Firewall, policy_from_yaml
from firewall.redact.engine import analyzer_for
from tests.conftest import POLICIES
from tests.langchain_support import (
    CUSTOMERS,
    SECRETS,
    ScriptedChatModel,
    Shop,
    build_shop,
    calls,
)

# The default pack, plus the names LangChain's SQL toolkit gives its tools.
TOOLKIT_POLICY = """
name: sql-toolkit
include: [default.yaml]
tools:
  sql_db_query: {classify: {classifier: sql, argument: query, dialect: sqlite}}
  sql_db_query_checker: {intents: []}
  sql_db_schema: {intents: [data.read]}
  sql_db_list_tables: {intents: [data.read]}
  lookup_customer: {intents: [data.read]}
  audit_note: {intents: [data.write]}
rules:
  - id: toolkit-drops-denied
    match: {tools: [sql_db_query], intents: [schema.drop, data.truncate]}
    verdict: deny
    message: Dropping or truncating tables is not allowed.
  - id: notes-need-approval
    match: {tools: [audit_note]}
    verdict: require_approval
    message: Notes are reviewed.
"""


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(build_shop(tmp_path / "shop.db"))


def firewall(approver: Any = None) -> Firewall:
    return Firewall(policy_from_yaml(TOOLKIT_POLICY, base_dir=POLICIES), approver=approver)


def sql_toolkit(shop: Shop) -> SQLDatabaseToolkit:
    db = SQLDatabase.from_uri(f"sqlite:///{shop.path}")
    return SQLDatabaseToolkit(db=db, llm=ScriptedChatModel())


def test_guard_toolkit_keeps_every_schema_of_the_sql_toolkit(shop: Shop) -> None:
    toolkit = sql_toolkit(shop)
    originals = toolkit.get_tools()
    guarded = guard_toolkit(toolkit, firewall())
    assert [t.name for t in guarded] == [t.name for t in originals]
    assert len(originals) == 4
    for before, after in zip(originals, guarded, strict=True):
        assert convert_to_openai_tool(after) == convert_to_openai_tool(before)
        assert type(after) is type(before)
        assert after.description == before.description and after.args == before.args
        assert after.response_format == before.response_format
        assert after.handle_tool_error == before.handle_tool_error
        assert after is not before


def test_guarded_sql_toolkit_in_an_agent_denies_drops_and_redacts(shop: Shop) -> None:
    tools = guard_toolkit(sql_toolkit(shop), firewall())
    model = ScriptedChatModel(
        script=[
            calls(("sql_db_list_tables", {"tool_input": ""}), turn=1),
            calls(
                ("sql_db_query", {"query": "SELECT name, email, phone FROM customers"}),
                ("sql_db_query", {"query": "DROP TABLE orders"}),
                turn=2,
            ),
            AIMessage("Done."),
        ]
    )
    agent = create_agent(model, tools)
    agent.invoke({"messages": [HumanMessage("Who are our customers?")]})
    assert "orders" in shop.tables() and shop.count("orders") == 2
    seen = model.everything_seen()
    assert "customers" in seen and "<EMAIL_ADDRESS_1>" in seen
    assert "Dropping or truncating tables is not allowed" in seen
    for value in SECRETS:
        assert value not in seen


@tool(response_format="content_and_artifact")
def lookup_customer(customer_id: int) -> tuple[str, dict]:
    """Look a customer up by id."""
    _, name, email, phone = CUSTOMERS[customer_id - 1]
    return f"{name} <{email}>", {"email": email, "phone": phone}


def test_content_and_artifact_are_both_redacted() -> None:
    (guarded,) = guard_tools([lookup_customer], firewall(), session="s")
    message = guarded.invoke(
        {"name": "lookup_customer", "args": {"customer_id": 1}, "id": "c1", "type": "tool_call"}
    )
    assert isinstance(message, ToolMessage)
    assert message.content.endswith("<<EMAIL_ADDRESS_1>>")
    assert message.artifact == {"email": "<EMAIL_ADDRESS_1>", "phone": "<PHONE_NUMBER_1>"}


def test_injected_arguments_pass_through_and_are_not_checked(shop: Shop) -> None:
    asked: list[ApprovalRequest] = []
    received: dict[str, Any] = {}

    @tool
    def audit_note(
        text: str,
        call_id: Annotated[str, InjectedToolCallId],
        state: Annotated[dict, InjectedState],
        runtime: ToolRuntime,
    ) -> str:
        """Write a note to the audit trail."""
        received.update(text=text, call_id=call_id, messages=len(state["messages"]))
        received["runtime_call_id"] = runtime.tool_call_id
        return "noted"

    approver = CallbackApprover(lambda r: asked.append(r) or True)
    guarded = guard_tools([audit_note], firewall(approver))
    assert convert_to_openai_tool(guarded[0]) == convert_to_openai_tool(audit_note)
    model = ScriptedChatModel(
        script=[calls(("audit_note", {"text": "checked"}), turn=1), AIMessage("ok")]
    )
    create_agent(model, guarded).invoke({"messages": [HumanMessage("note it")]})
    assert received == {
        "text": "checked",
        "call_id": "call_1_0",
        "messages": 2,
        "runtime_call_id": "call_1_0",
    }
    (request,) = asked
    assert request.call.arguments == {"text": "checked"} and request.call.id == "call_1_0"


def test_a_denied_call_answers_per_the_tools_error_handling(shop: Shop) -> None:
    handled, unhandled = shop.tools()[0], shop.tools()[0]
    handled.handle_tool_error = True
    fw = firewall()
    (guarded_handled,) = guard_tools([handled], fw)
    (guarded_plain,) = guard_tools([unhandled], fw)
    drop = {"name": "run_sql", "args": {"query": "DROP TABLE orders"}, "id": "c1"}
    for guarded in (guarded_handled, guarded_plain):
        message = guarded.invoke({**drop, "type": "tool_call"})
        assert message.status == "error" and "denied by the firewall" in message.content
        assert "denied by the firewall" in guarded.invoke({"query": "DROP TABLE orders"})
    # A tool whose own handler formats errors gets the firewall's refusal as a ToolException.
    custom = shop.tools()[0]
    seen: list[ToolException] = []
    custom.handle_tool_error = lambda error: seen.append(error) or "blocked, sorry"
    (guarded_custom,) = guard_tools([custom], fw)
    assert guarded_custom.invoke({"query": "DROP TABLE orders"}) == "blocked, sorry"
    assert isinstance(seen[0], FirewallDenied)
    assert shop.runs == [] and "orders" in shop.tables()


def test_a_placeholder_reaches_the_tool_as_the_real_value(shop: Shop) -> None:
    asked: list[ApprovalRequest] = []
    fw = firewall(CallbackApprover(lambda r: asked.append(r) or True))
    run_sql, send_email = guard_tools(shop.tools(), fw, session="mail")
    rows = json.loads(run_sql.invoke({"query": "SELECT email FROM customers WHERE id = 2"}))
    assert rows == [{"email": "<EMAIL_ADDRESS_1>"}]
    send_email.invoke({"to": rows[0]["email"], "subject": "Hi", "body": "Your order"})
    assert shop.outbox[0]["to"] == CUSTOMERS[1][2]
    assert asked[0].call.arguments["to"] == CUSTOMERS[1][2]


def test_async_tools_are_guarded_the_same(shop: Shop) -> None:
    fw = firewall()
    run_sql, _ = guard_tools(shop.async_tools(), fw, session="a")
    sync_only, _ = guard_tools(shop.tools(), fw, session="a")

    async def run() -> tuple[str, str, str]:
        rows = await run_sql.ainvoke({"query": "SELECT email, phone FROM customers"})
        denied = await run_sql.ainvoke({"query": "DROP TABLE customers"})
        via_thread = await sync_only.ainvoke({"query": "SELECT phone FROM customers"})
        return rows, denied, via_thread

    rows, denied, via_thread = asyncio.run(run())
    assert "denied by the firewall" in denied and "customers" in shop.tables()
    for value in SECRETS:
        assert value not in rows and value not in via_thread
    # the sync body under the async path was checked once, not twice
    assert len(fw.memory.decisions) == 3 and len(shop.runs) == 2


def test_interrupt_approval_outside_a_graph_refuses(shop: Shop) -> None:
    fw = firewall()
    run_sql, _ = guard_tools(shop.tools(), fw, approval="interrupt", session="direct")
    answer = run_sql.invoke({"query": "DELETE FROM orders"})
    assert "needs a LangGraph run with a checkpointer" in answer
    assert shop.runs == [] and shop.count("orders") == 2
    assert run_sql.invoke({"query": "SELECT count(*) AS n FROM orders"}) == '[{"n": 2}]'
