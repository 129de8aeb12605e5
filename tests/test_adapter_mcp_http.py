"""The MCP gateway over Streamable HTTP, with bearer tokens and several upstream servers.

One gateway process serves the module: upstream ``shop`` is started over stdio, upstream
``web`` is another shop reached by URL, and ``broken`` cannot start at all. Alice (admin)
and Bob (agent) call it with their own tokens through the SDK's real client.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.mcp_support import (
    MARIA_EMAIL,
    MARIA_PHONE,
    POLICY,
    Shop,
    free_port,
    make_shop,
    run,
    start,
    stop,
    text,
)

ALICE_TOKEN = "alice-7f3c2a9e"
BOB_TOKEN = "bob-41d8cd98"


@dataclass
class Deployment:
    url: str
    web_url: str
    shop: Shop
    web: Shop

    def client(self, token: str, **options) -> Client:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
        return Client(streamable_http_client(self.url, http_client=http), **options)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    base = tmp_path_factory.mktemp("mcp-http")
    shop, web = make_shop(base / "shop"), make_shop(base / "web")
    web_port, gateway_port = free_port(), free_port()
    web_server = start(
        [sys.executable, *web.upstream_args(), "--http", str(web_port)],
        web_port,
        base / "web.log",
    )
    web_url = f"http://127.0.0.1:{web_port}/mcp"
    config = {
        "servers": {
            "shop": {"command": sys.executable, "args": shop.upstream_args(), "timeout": 20},
            "web": {"url": web_url, "timeout": 20},
            "broken": {"command": str(base / "no-such-server"), "timeout": 5},
        },
        "principals": [
            {
                "id": "alice",
                "kind": "human",
                "roles": ["admin"],
                "token_sha256": hashlib.sha256(ALICE_TOKEN.encode()).hexdigest(),
            },
            {"id": "bob", "kind": "agent", "token": BOB_TOKEN},
        ],
    }
    config_file = base / "gateway.yaml"
    config_file.write_text(yaml.safe_dump(config))
    gateway = start(
        [
            sys.executable,
            "-m",
            "firewall.cli",
            "mcp-proxy",
            "--policy",
            str(POLICY),
            "--config",
            str(config_file),
            "--listen",
            f"127.0.0.1:{gateway_port}",
        ],
        gateway_port,
        base / "gateway.log",
    )
    try:
        yield Deployment(f"http://127.0.0.1:{gateway_port}/mcp", web_url, shop, web)
    finally:
        stop(gateway)
        stop(web_server)


def test_an_unknown_or_missing_token_gets_401(deployment: Deployment) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    for authorization in ("Bearer not-a-known-token", "Basic YWxpY2U6eA==", None):
        sent = dict(headers)
        if authorization:
            sent["Authorization"] = authorization
        response = httpx2.post(deployment.url, json=body, headers=sent, timeout=10)
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def scenario() -> None:
        with pytest.raises(Exception):  # noqa: B017 - the SDK's own error for a refused connection
            async with deployment.client("not-a-known-token") as client:
                await client.list_tools()

    run(scenario, limit=30)


def test_tools_of_every_upstream_are_listed_under_its_name(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with Client(deployment.web_url, cache=None) as direct:
            upstream = (await direct.list_tools()).tools
        async with deployment.client(ALICE_TOKEN, cache=None) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        # `broken` cannot start: its tools are missing, the others are all there.
        assert set(listed) == {f"{s}.{t.name}" for s in ("shop", "web") for t in upstream}
        for tool in upstream:
            exposed = listed[f"web.{tool.name}"]
            assert exposed.model_dump(exclude={"name"}) == tool.model_dump(exclude={"name"})

    run(scenario)


def test_two_principals_get_different_verdicts_for_the_same_call(deployment: Deployment) -> None:
    update = {"query": "UPDATE orders SET total = 0 WHERE id = 2"}

    async def scenario() -> None:
        async with deployment.client(BOB_TOKEN) as bob:
            refused = await bob.call_tool("shop.run_sql", update)
        async with deployment.client(ALICE_TOKEN) as alice:
            done = await alice.call_tool("shop.run_sql", update)
        assert refused.is_error and "denied by the firewall" in text(refused)
        assert not done.is_error, text(done)

    run(scenario)
    assert deployment.shop.count("orders WHERE total = 0") == 1


def test_drop_denied_and_pii_redacted_through_an_http_upstream(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with deployment.client(ALICE_TOKEN) as client:
            dropped = await client.call_tool("web.run_sql", {"query": "DROP TABLE customers"})
            assert dropped.is_error and "Dropping tables is not allowed" in text(dropped)
            customer = await client.call_tool("web.get_customer", {"customer_id": 1})
            seen = customer.model_dump_json()
            assert MARIA_EMAIL not in seen and MARIA_PHONE not in seen
            placeholder = customer.structured_content["email"]
            assert placeholder.startswith("<EMAIL_ADDRESS_")
            sent = await client.call_tool("web.send_email", {"to": placeholder, "body": "Hi"})
            assert not sent.is_error

    run(scenario)
    assert "customers" in deployment.web.tables()
    assert deployment.web.outbox == [{"to": MARIA_EMAIL, "body": "Hi"}]


def test_placeholders_of_one_session_mean_nothing_in_another(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with deployment.client(BOB_TOKEN) as bob:
            customer = await bob.call_tool("shop.get_customer", {"customer_id": 2})
            placeholder = customer.structured_content["email"]
        async with deployment.client(ALICE_TOKEN) as alice:
            await alice.call_tool("shop.send_email", {"to": placeholder, "body": "x"})

    run(scenario)
    assert deployment.shop.outbox[-1]["to"] != "tom.baker@example.net"


def test_a_crashing_upstream_errors_and_the_others_keep_serving(deployment: Deployment) -> None:
    async def scenario() -> None:
        async with deployment.client(ALICE_TOKEN) as client:
            results: dict[str, object] = {}

            async def crash() -> None:
                try:
                    results["crash"] = await client.call_tool("shop.crash", {"after": 0.5})
                except MCPError as exc:
                    results["crash"] = exc

            async def other() -> None:
                results["web"] = await client.call_tool(
                    "web.run_sql", {"query": "SELECT count(*) FROM orders"}
                )

            async with anyio.create_task_group() as group:
                group.start_soon(crash)
                group.start_soon(other)
            assert isinstance(results["crash"], MCPError)
            assert "shop" in str(results["crash"])
            assert text(results["web"]) == "[[3]]"
            again = await client.call_tool("web.run_sql", {"query": "SELECT 1"})
            assert text(again) == "[[1]]"
            back = await client.call_tool("shop.run_sql", {"query": "SELECT 2"})
            assert text(back) == "[[2]]"

    run(scenario, limit=60)


def test_the_http_mode_refuses_to_start_without_tokens(tmp_path: Path) -> None:
    import subprocess

    from tests.mcp_support import env

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "firewall.cli",
            "mcp-proxy",
            "--policy",
            str(POLICY),
            "--listen",
            "127.0.0.1:1",
            "--",
            sys.executable,
            "-c",
            "pass",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
    )
    assert result.returncode == 3
    assert "never serves unknown callers" in result.stderr


def test_each_mcp_session_is_its_own_firewall_session(deployment: Deployment) -> None:
    """2025-11-25 clients over HTTP have sessions: a placeholder does not cross them."""

    async def scenario() -> None:
        async with deployment.client(ALICE_TOKEN, mode="legacy") as first:
            customer = await first.call_tool("shop.get_customer", {"customer_id": 1})
            placeholder = customer.structured_content["email"]
            async with deployment.client(ALICE_TOKEN, mode="legacy") as second:
                await second.call_tool("shop.send_email", {"to": placeholder, "body": "other"})
            await first.call_tool("shop.send_email", {"to": placeholder, "body": "same"})

    run(scenario)
    sent = {mail["body"]: mail["to"] for mail in deployment.shop.outbox}
    assert sent["same"] == MARIA_EMAIL
    assert sent["other"] == "<EMAIL_ADDRESS_1>"
