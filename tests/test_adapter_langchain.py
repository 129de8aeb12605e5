"""FirewallMiddleware in a real ``create_agent`` loop over real SQLite tools."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage

from adapters.langchain import FirewallMiddleware
from firewall import (
    ApprovalRequest,
    CallbackApprover,
    ConsolePromptApprover,
    Firewall,
    load_policy,
)
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


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)  # build the redaction engine once for the module


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(build_shop(tmp_path / "shop.db"))


def support_script() -> list:
    return [
        calls(
            ("run_sql", {"query": "SELECT name, email, phone FROM customers ORDER BY id"}),
            ("run_sql", {"query": "DROP TABLE orders"}),
            turn=1,
        ),
        mail_the_first_customer,
        AIMessage(content="Done."),
    ]


def approving(asked: list[ApprovalRequest]) -> CallbackApprover:
    def answer(request: ApprovalRequest) -> bool:
        asked.append(request)
        return True

    return CallbackApprover(answer, name="supervisor")


def check_support_run(shop: Shop, model: ScriptedChatModel, result: dict, asked: list) -> None:
    # The DROP was denied: the table survives and the model was told why.
    assert "orders" in shop.tables() and shop.count("orders") == 2
    assert not any("DROP" in q for q in shop.runs)
    denied = [m for m in result["messages"] if m.type == "tool" and m.status == "error"]
    assert len(denied) == 1 and "Dropping or truncating" in denied[0].content
    # No address or phone number of a customer reached the model, in any turn.
    seen = model.everything_seen()
    assert len(model.seen) == 3
    for value in SECRETS:
        assert value not in seen
    assert "<EMAIL_ADDRESS_1>" in seen and "<PHONE_NUMBER_1>" in seen
    # The placeholder the model wrote reached the tool as the real address, after approval.
    assert shop.outbox == [{"to": CUSTOMERS[0][2], "subject": "Order", "body": "Hi"}]
    assert [r.call.name for r in asked] == ["send_email"]
    assert asked[0].call.arguments["to"] == CUSTOMERS[0][2]  # approvers see the real call


def test_create_agent_denies_drop_redacts_results_and_restores_placeholders(shop: Shop) -> None:
    asked: list[ApprovalRequest] = []
    fw = Firewall(load_policy(POLICY), approver=approving(asked))
    model = ScriptedChatModel(script=support_script())
    agent = create_agent(model, shop.tools(), middleware=[FirewallMiddleware(fw)])
    result = agent.invoke({"messages": [HumanMessage("Mail our first customer.")]})
    check_support_run(shop, model, result, asked)


def test_async_agent_behaves_the_same(shop: Shop) -> None:
    asked: list[ApprovalRequest] = []
    fw = Firewall(load_policy(POLICY), approver=approving(asked))
    model = ScriptedChatModel(script=support_script())
    agent = create_agent(model, shop.async_tools(), middleware=[FirewallMiddleware(fw)])
    result = asyncio.run(agent.ainvoke({"messages": [HumanMessage("Mail our first customer.")]}))
    check_support_run(shop, model, result, asked)


def test_refused_approval_never_runs_the_tool(shop: Shop) -> None:
    fw = Firewall(load_policy(POLICY))  # the default approver refuses every held call
    model = ScriptedChatModel(
        script=[calls(("run_sql", {"query": "DELETE FROM customers"}), turn=1), AIMessage("ok")]
    )
    agent = create_agent(model, shop.tools(), middleware=[FirewallMiddleware(fw)])
    result = agent.invoke({"messages": [HumanMessage("Clean up.")]})
    assert shop.count("customers") == 3 and shop.runs == []
    answer = next(m for m in result["messages"] if m.type == "tool")
    assert answer.status == "error" and "refused" in answer.content
    assert "refused" in model.seen[1][-1].content


def test_the_console_approver_is_asked_at_the_terminal(shop: Shop) -> None:
    answers, shown = io.StringIO("y\n"), io.StringIO()
    approver = ConsolePromptApprover(timeout=10, input_stream=answers, output_stream=shown)
    fw = Firewall(load_policy(POLICY), approver=approver)
    model = ScriptedChatModel(
        script=[calls(("run_sql", {"query": "DELETE FROM orders"}), turn=1), AIMessage("ok")]
    )
    agent = create_agent(model, shop.tools(), middleware=[FirewallMiddleware(fw)])
    agent.invoke({"messages": [HumanMessage("Clear the orders.")]})
    assert "Tool call 'run_sql'" in shown.getvalue() and "Approve?" in shown.getvalue()
    assert shop.runs == ["DELETE FROM orders"] and shop.count("orders") == 0
