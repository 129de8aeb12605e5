"""The MCP gateway over stdio: the SDK's real client, the gateway, a real upstream server.

Each test starts ``firewall mcp-proxy`` as a client would (a subprocess speaking MCP on
stdin/stdout) in front of ``tests/mcp_upstream.py`` (SQLite shop, document folder,
customer records), and checks what a user of the client would see.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from firewall.audit import verify
from tests.mcp_support import (
    MARIA_EMAIL,
    MARIA_PHONE,
    Shop,
    gateway_params,
    make_shop,
    run,
    text,
    upstream_params,
)


@pytest.fixture
def shop(tmp_path) -> Shop:
    return make_shop(tmp_path)


def answering(approve: bool, answers: list[str] | None = None) -> Any:
    """An elicitation callback: yes or no to the firewall's question and the server's."""

    async def callback(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        if answers is not None:
            answers.append(params.message)
        fields = params.requested_schema["properties"]
        return types.ElicitResult(action="accept", content={name: approve for name in fields})

    return callback


def test_listing_matches_the_upstream_exactly(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(upstream_params(shop), cache=None) as direct:
            expected = (await direct.list_tools()).tools
        async with Client(gateway_params(shop), cache=None) as client:
            listed = (await client.list_tools()).tools
        assert [t.model_dump() for t in listed] == [t.model_dump() for t in expected]
        assert {t.name for t in listed} >= {"run_sql", "read_file", "get_customer"}
        customer = next(t for t in listed if t.name == "get_customer")
        assert customer.output_schema is not None  # output schemas intact

    run(scenario)


def test_drop_table_is_denied_and_the_table_survives(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop)) as client:
            result = await client.call_tool("run_sql", {"query": "DROP TABLE orders"})
            assert result.is_error
            assert "Dropping tables is not allowed" in text(result)
            hidden = await client.call_tool(
                "run_sql", {"query": "SELECT 1; DROP TABLE customers; -- cleanup"}
            )
            assert hidden.is_error
            counted = await client.call_tool("run_sql", {"query": "SELECT count(*) FROM orders"})
            assert not counted.is_error and text(counted) == "[[3]]"

    run(scenario)
    assert {"orders", "customers"} <= shop.tables()
    assert shop.count("orders") == 3


def test_customer_pii_never_reaches_the_client(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop)) as client:
            customer = await client.call_tool("get_customer", {"customer_id": 1})
            query = "SELECT email, phone FROM customers"
            rows = await client.call_tool("run_sql", {"query": query})
        for result in (customer, rows):
            seen = result.model_dump_json()
            assert MARIA_EMAIL not in seen and MARIA_PHONE not in seen
            assert "tom.baker@example.net" not in seen
        assert not customer.is_error
        # The structured part is redacted too and still matches the output schema.
        assert customer.structured_content["email"] == "<EMAIL_ADDRESS_1>"
        assert customer.structured_content["phone"] == "<PHONE_NUMBER_1>"
        assert "<EMAIL_ADDRESS_1>" in text(rows)

    run(scenario)


def test_a_placeholder_round_trips_to_the_upstream(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop)) as client:
            customer = await client.call_tool("get_customer", {"customer_id": 1})
            placeholder = customer.structured_content["email"]
            sent = await client.call_tool("send_email", {"to": placeholder, "body": "Hello"})
            assert not sent.is_error

    run(scenario)
    # The server received the real address; the model only ever wrote the placeholder.
    assert shop.outbox == [{"to": MARIA_EMAIL, "body": "Hello"}]


def test_the_file_tool_stays_in_its_folder(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop)) as client:
            terms = await client.call_tool("read_file", {"path": "terms.txt"})
            assert "30 days" in text(terms)
            escape = await client.call_tool("read_file", {"path": "../secret.txt"})
            assert escape.is_error
            assert "outside the document folder are off limits" in text(escape)
            assert "1234" not in text(escape)

    run(scenario)


def test_a_call_needing_approval_is_asked_through_the_client(shop: Shop) -> None:
    questions: list[str] = []

    async def scenario() -> None:
        asking = answering(True, questions)
        async with Client(gateway_params(shop), elicitation_callback=asking) as c:
            result = await c.call_tool("delete_orders", {})
            assert not result.is_error, text(result)
            assert text(result) == "deleted the orders"

    run(scenario)
    assert shop.count("orders") == 0
    # The firewall asked first (naming the rule), then the server asked its own question.
    assert "deletes-need-approval" in questions[0]
    assert questions[1] == "Delete every order?"


def test_a_refusal_in_the_client_denies_the_call(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop), elicitation_callback=answering(False)) as c:
            result = await c.call_tool("delete_orders", {})
            assert result.is_error
            assert "did not allow it" in text(result)

    run(scenario)
    assert shop.count("orders") == 3


def test_without_elicitation_approval_is_denied_with_a_clear_reason(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop)) as client:
            result = await client.call_tool("delete_orders", {})
            assert result.is_error
            assert "does not support elicitation" in text(result)

    run(scenario)
    assert shop.count("orders") == 3


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_progress_logs_and_questions_of_the_upstream_reach_the_client(
    shop: Shop, mode: str
) -> None:
    """Both protocol generations: 2026-07-28 (input rounds) and 2025-11-25 (requests)."""
    progress: list[tuple[float, float | None, str | None]] = []
    logs: list[Any] = []
    questions: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params.data)

    async def scenario() -> None:
        async with Client(
            gateway_params(shop),
            mode=mode,
            elicitation_callback=answering(True, questions),
            logging_callback=on_log,
            log_level="info",
        ) as client:
            done = await client.call_tool("long_task", {"steps": 3}, progress_callback=on_progress)
            assert text(done) == "done"
            deleted = await client.call_tool("delete_orders", {})
            assert text(deleted) == "deleted the orders"

    run(scenario)
    assert [p[0] for p in progress] == [1, 2, 3] and progress[-1][2] == "step 3"
    assert logs == ["finished step 1", "finished step 2", "finished step 3"]
    assert questions[1] == "Delete every order?"


def test_an_upstream_that_crashes_mid_call_gives_an_error_and_comes_back(shop: Shop) -> None:
    async def scenario() -> None:
        async with Client(gateway_params(shop, "--timeout", "20")) as client:
            with pytest.raises(MCPError, match="closed the connection"):
                await client.call_tool("crash", {"after": 0.3})
            # The next call starts the server again.
            again = await client.call_tool("run_sql", {"query": "SELECT count(*) FROM orders"})
            assert text(again) == "[[3]]"

    run(scenario, limit=60)


def test_every_decision_is_in_the_audit_log(shop: Shop, tmp_path) -> None:
    log = tmp_path / "audit.db"

    async def scenario() -> None:
        async with Client(gateway_params(shop, "--audit", str(log))) as client:
            await client.call_tool("run_sql", {"query": "DROP TABLE orders"})
            await client.call_tool("get_customer", {"customer_id": 2})

    run(scenario)
    report = verify(str(log))
    assert report.ok
    with sqlite3.connect(log) as connection:
        stored = " ".join(str(row) for row in connection.execute("SELECT * FROM audit_log"))
    assert "run_sql" in stored and "deny" in stored
    assert "tom.baker@example.net" not in stored


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_a_sampling_request_reaches_the_model_redacted(shop: Shop, mode: str) -> None:
    """The upstream asks the client's model with customer data in the prompt."""
    prompts: list[str] = []

    async def model(context: Any, params: types.CreateMessageRequestParams) -> Any:
        prompt = params.messages[0].content.text
        prompts.append(prompt)
        email = prompt[prompt.index("<EMAIL") : prompt.index(">", prompt.index("<EMAIL")) + 1]
        draft = f"Dear customer, we will write to {email}."
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=draft), model="test-model"
        )

    async def scenario() -> None:
        async with Client(gateway_params(shop), mode=mode, sampling_callback=model) as client:
            reply = await client.call_tool("draft_reply", {"customer_id": 1})
            assert not reply.is_error, text(reply)
            assert MARIA_EMAIL not in reply.model_dump_json()

    run(scenario)
    assert MARIA_EMAIL not in prompts[0] and MARIA_PHONE not in prompts[0]
    # The placeholder the model wrote reached the server as the real address.
    drafts = (shop.docs / "drafts.txt").read_text()
    assert drafts == f"Dear customer, we will write to {MARIA_EMAIL}.\n"
