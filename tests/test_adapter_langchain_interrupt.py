"""Held calls pause a ``create_agent`` run with LangGraph's interrupt and resume by answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command, interrupt

from adapters.langchain import FirewallMiddleware, guard_tools
from firewall import Firewall, Verdict, load_policy
from firewall.redact.engine import analyzer_for
from tests.langchain_support import POLICY, ScriptedChatModel, Shop, build_shop, calls

BULK = "DELETE FROM orders"


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(build_shop(tmp_path / "shop.db"))


def agent_for(shop: Shop, *turns: Any, middleware: list | None = None, tools=None):
    fw = Firewall(load_policy(POLICY))
    model = ScriptedChatModel(script=[*turns, AIMessage("Done.")])
    firewall = FirewallMiddleware(fw, approval="interrupt")
    agent = create_agent(
        model,
        tools or shop.tools(),
        middleware=[*(middleware or []), firewall],
        checkpointer=InMemorySaver(),
    )
    return agent, model, fw


def start(agent, thread: str = "t1") -> tuple[dict, dict]:
    config = {"configurable": {"thread_id": thread}}
    return agent.invoke({"messages": [HumanMessage("Clear the orders.")]}, config), config


def decisions_for(fw: Firewall, call_id: str) -> list:
    return [d for d in fw.memory.decisions if d.call_id == call_id]


def test_bulk_delete_pauses_and_runs_once_after_approval(shop: Shop) -> None:
    agent, _, fw = agent_for(shop, calls(("run_sql", {"query": BULK}), turn=1))
    paused, config = start(agent)
    (pause,) = paused["__interrupt__"]
    request = json.loads(json.dumps(pause.value))  # JSON all the way
    assert request["tool"] == "run_sql" and request["arguments"] == {"query": BULK}
    assert request["rules"] == ["sql-bulk-write-needs-approval"]
    assert "change every row" in request["messages"][0]
    assert shop.runs == [] and shop.count("orders") == 2 and fw.memory.decisions == []

    done = agent.invoke(Command(resume="approve"), config)
    assert shop.runs == [BULK] and shop.count("orders") == 0
    (decision,) = decisions_for(fw, "call_1_0")
    assert decision.allowed and decision.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert done["messages"][-1].content == "Done."
    assert fw.graph("t1").nodes()  # the session is the LangGraph thread


def test_rejected_call_never_runs_and_the_model_hears_why(shop: Shop) -> None:
    agent, model, fw = agent_for(shop, calls(("run_sql", {"query": BULK}), turn=1))
    _, config = start(agent)
    answer = {"decision": "reject", "message": "keep the orders", "by": "alice"}
    agent.invoke(Command(resume=answer), config)
    assert shop.runs == [] and shop.count("orders") == 2
    told = model.seen[-1][-1]
    assert told.type == "tool" and told.status == "error"
    assert "rejected by alice: keep the orders" in told.content
    (decision,) = decisions_for(fw, "call_1_0")
    assert decision.verdict is Verdict.DENY


def test_an_edit_is_checked_again(shop: Shop) -> None:
    agent, _, fw = agent_for(shop, calls(("run_sql", {"query": BULK}), turn=1))
    _, config = start(agent)
    edit = {"decision": "edit", "arguments": {"query": "DELETE FROM orders WHERE id = 1"}}
    agent.invoke(Command(resume=edit), config)
    assert shop.runs == ["DELETE FROM orders WHERE id = 1"] and shop.count("orders") == 1

    agent, model, fw = agent_for(shop, calls(("run_sql", {"query": BULK}), turn=1))
    _, config = start(agent, "t2")
    sneaky = {"decision": "edit", "arguments": {"query": "DROP TABLE orders"}}
    agent.invoke(Command(resume=sneaky), config)
    assert "orders" in shop.tables() and len(shop.runs) == 1
    assert "Dropping or truncating" in model.seen[-1][-1].content
    (decision,) = decisions_for(fw, "call_1_0")
    assert decision.verdict is Verdict.DENY and decision.tool == "run_sql"


def test_an_answer_that_is_not_understood_refuses(shop: Shop) -> None:
    agent, model, _ = agent_for(shop, calls(("run_sql", {"query": BULK}), turn=1))
    _, config = start(agent)
    agent.invoke(Command(resume={"decision": "sure, whatever"}), config)
    assert shop.runs == [] and "not accepted" in model.seen[-1][-1].content


def test_two_held_calls_in_one_turn_are_answered_by_id(shop: Shop) -> None:
    turn = calls(
        ("run_sql", {"query": BULK}),
        ("run_sql", {"query": "UPDATE customers SET phone = NULL"}),
        ("run_sql", {"query": "SELECT count(*) AS n FROM orders"}),
        turn=1,
    )
    agent, model, fw = agent_for(shop, turn)
    paused, config = start(agent)
    pauses = {p.value["tool_call_id"]: p.id for p in paused["__interrupt__"]}
    assert set(pauses) == {"call_1_0", "call_1_1"}
    assert shop.runs == ["SELECT count(*) AS n FROM orders"]  # the read was not held
    answers = {pauses["call_1_0"]: "reject", pauses["call_1_1"]: {"decision": "approve"}}
    agent.invoke(Command(resume=answers), config)
    assert shop.count("orders") == 2
    assert shop.runs == ["SELECT count(*) AS n FROM orders", "UPDATE customers SET phone = NULL"]
    results = {m.tool_call_id: m for m in model.seen[-1] if m.type == "tool"}
    assert results["call_1_0"].status == "error" and results["call_1_1"].status == "success"
    assert [len(decisions_for(fw, i)) for i in ("call_1_0", "call_1_1", "call_1_2")] == [1, 1, 1]


class ReviewAfterRun(AgentMiddleware):
    """An outer middleware that pauses after the tool ran: LangGraph re-runs the whole task."""

    def wrap_tool_call(self, request, handler):
        result = handler(request)
        interrupt({"review": request.tool_call["id"]})
        return result


def test_an_approved_call_runs_once_when_the_task_runs_again(shop: Shop) -> None:
    agent, _, fw = agent_for(
        shop, calls(("run_sql", {"query": BULK}), turn=1), middleware=[ReviewAfterRun()]
    )
    _, config = start(agent)
    second = agent.invoke(Command(resume="approve"), config)
    assert second["__interrupt__"][0].value == {"review": "call_1_0"}
    assert shop.runs == [BULK]
    agent.invoke(Command(resume="looks fine"), config)
    assert shop.runs == [BULK]  # not run again by the re-run task
    assert len(decisions_for(fw, "call_1_0")) == 1


def test_async_interrupt_approve_and_reject(shop: Shop) -> None:
    turn = calls(("run_sql", {"query": BULK}), ("run_sql", {"query": "DELETE FROM customers"}))
    agent, _, fw = agent_for(shop, turn, tools=shop.async_tools())
    config = {"configurable": {"thread_id": "async"}}

    async def run() -> None:
        paused = await agent.ainvoke({"messages": [HumanMessage("Clear it all.")]}, config)
        pauses = {p.value["arguments"]["query"]: p.id for p in paused["__interrupt__"]}
        answers = {pauses[BULK]: "approve", pauses["DELETE FROM customers"]: "reject"}
        await agent.ainvoke(Command(resume=answers), config)

    asyncio.run(run())
    assert shop.runs == [BULK] and shop.count("customers") == 3 and shop.count("orders") == 0
    assert [d.verdict for d in fw.memory.decisions].count(Verdict.DENY) == 1


def test_guarded_tools_in_a_graph_pause_the_same_way(shop: Shop) -> None:
    fw = Firewall(load_policy(POLICY))
    model = ScriptedChatModel(
        script=[
            calls(("run_sql", {"query": BULK}), ("run_sql", {"query": "DROP TABLE orders"})),
            AIMessage("Done."),
        ]
    )
    tools = guard_tools(shop.tools(), fw, approval="interrupt")
    agent = create_agent(model, tools, checkpointer=InMemorySaver())
    paused, config = start(agent, "guarded")
    (pause,) = paused["__interrupt__"]  # the DROP was denied outright, not held
    assert pause.value["arguments"] == {"query": BULK} and pause.value["session"] == "guarded"
    assert shop.runs == []
    agent.invoke(Command(resume={"decision": "approve", "by": "alice"}), config)
    assert shop.runs == [BULK] and "orders" in shop.tables()
    (approved,) = [d for d in fw.memory.decisions if d.allowed]
    assert approved.approved_by == "alice"


def test_an_edit_of_a_guarded_tool_runs_as_edited_and_checked(shop: Shop) -> None:
    fw = Firewall(load_policy(POLICY))
    model = ScriptedChatModel(script=[calls(("run_sql", {"query": BULK})), AIMessage("ok")])
    agent = create_agent(
        model, guard_tools(shop.tools(), fw, approval="interrupt"), checkpointer=InMemorySaver()
    )
    _, config = start(agent, "edit")
    edit = {"decision": "edit", "arguments": {"query": "DELETE FROM orders WHERE id = 2"}}
    agent.invoke(Command(resume=edit), config)
    assert shop.runs == ["DELETE FROM orders WHERE id = 2"] and shop.count("orders") == 1

    model = ScriptedChatModel(script=[calls(("run_sql", {"query": BULK})), AIMessage("ok")])
    agent = create_agent(
        model, guard_tools(shop.tools(), fw, approval="interrupt"), checkpointer=InMemorySaver()
    )
    _, config = start(agent, "edit-2")
    wrong = {"decision": "edit", "arguments": {"query": "SELECT 1", "sql": "DROP TABLE orders"}}
    agent.invoke(Command(resume=wrong), config)
    assert len(shop.runs) == 1 and "not an argument of the tool" in model.seen[-1][-1].content
