"""The firewall inside an MCP server built with the SDK (``guard_server``).

The shop's own ``MCPServer`` guards its tools in-process; the SDK's client connects to it
in memory, in both protocol generations.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from adapters.mcp import ClientApprover, guard_server
from firewall import Firewall, Principal, load_policy
from tests.mcp_support import MARIA_EMAIL, POLICY, make_shop, run, text
from tests.mcp_upstream import build


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_guarded_server_denies_redacts_and_restores(tmp_path, mode: str) -> None:
    shop = make_shop(tmp_path)
    server = build(shop.db, shop.docs)
    guard_server(server, Firewall(load_policy(POLICY)))

    async def scenario() -> None:
        async with Client(server, mode=mode) as client:
            dropped = await client.call_tool("run_sql", {"query": "DROP TABLE orders"})
            assert dropped.is_error and "Dropping tables is not allowed" in text(dropped)
            customer = await client.call_tool("get_customer", {"customer_id": 1})
            assert MARIA_EMAIL not in customer.model_dump_json()
            placeholder = customer.structured_content["email"]
            await client.call_tool("send_email", {"to": placeholder, "body": "Hi"})

    run(scenario)
    assert shop.count("orders") == 3
    assert shop.outbox == [{"to": MARIA_EMAIL, "body": "Hi"}]


def test_the_principal_can_come_from_the_request(tmp_path) -> None:
    shop = make_shop(tmp_path)
    server = build(shop.db, shop.docs)
    admin = Principal(id="ops", kind="human", roles=("admin",))
    guard_server(server, Firewall(load_policy(POLICY)), principal=lambda ctx: admin)

    async def scenario() -> None:
        async with Client(server) as client:
            query = {"query": "UPDATE orders SET total = 1 WHERE id = 1"}
            updated = await client.call_tool("run_sql", query)
            assert not updated.is_error, text(updated)

    run(scenario)
    assert shop.count("orders WHERE total = 1") == 1


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_held_call_is_asked_about_through_the_client(tmp_path, mode: str) -> None:
    shop = make_shop(tmp_path)
    server = build(shop.db, shop.docs)
    guard_server(server, Firewall(load_policy(POLICY), approver=ClientApprover()))
    asked: list[str] = []

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        fields = params.requested_schema["properties"]
        return types.ElicitResult(action="accept", content={name: True for name in fields})

    async def scenario() -> None:
        async with Client(server, mode=mode, elicitation_callback=answer) as client:
            done = await client.call_tool("delete_orders", {})
            assert text(done) == "deleted the orders"

    run(scenario)
    assert shop.count("orders") == 0
    assert "deletes-need-approval" in asked[0] and asked[1] == "Delete every order?"
