"""Parts of the MCP gateway: a server of the previous protocol generation behind it,
redaction of results against output schemas, the binding of approval answers, and the
configuration of identities.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError

from adapters.mcp import Gateway, UpstreamSpec
from adapters.mcp.approval import APPROVAL_KEY, ClientApprover
from adapters.mcp.config import ConfigError, load_config, token_digest
from adapters.mcp.guard import redact_result
from firewall import Firewall, ToolCall, load_policy, policy_from_dict
from tests.mcp_support import (
    MARIA_EMAIL,
    POLICY,
    ROOT,
    env,
    gateway_params,
    make_shop,
    run,
    text,
)

LEGACY = ROOT / "tests" / "mcp_legacy_upstream.py"


def legacy_gateway() -> StdioServerParameters:
    args = ["-m", "firewall.cli", "mcp-proxy", "--policy", str(POLICY), "--"]
    return StdioServerParameters(
        command=sys.executable, args=[*args, sys.executable, str(LEGACY)], env=env()
    )


# -- a server of the 2025-11-25 generation ------------------------------------------------


def test_a_paged_listing_is_followed_to_its_end() -> None:
    async def scenario() -> None:
        direct = StdioServerParameters(command=sys.executable, args=[str(LEGACY)], env=env())
        pages: list[types.Tool] = []
        async with Client(direct, cache=None) as client:
            cursor = None
            while True:
                page = await client.list_tools(cursor=cursor)
                pages.extend(page.tools)
                if (cursor := page.next_cursor) is None:
                    break
        async with Client(legacy_gateway(), cache=None) as client:
            listed = await client.list_tools()
        assert listed.next_cursor is None
        assert [t.model_dump() for t in listed.tools] == [t.model_dump() for t in pages]
        assert len(listed.tools) == 7

    run(scenario)


def test_a_change_of_the_upstream_tools_reaches_the_client() -> None:
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async def scenario() -> None:
        async with Client(
            legacy_gateway(), mode="legacy", message_handler=on_message, cache=None
        ) as client:
            await client.list_tools()
            assert text(await client.call_tool("grow", {})) == "grown"
            with anyio.fail_after(15):
                await changed.wait()
            names = {t.name for t in (await client.list_tools()).tools}
            assert "tool_5" in names

    run(scenario)


def test_a_question_the_upstream_asks_during_a_call_reaches_the_client() -> None:
    asked: list[str] = []

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"ok": True})

    async def scenario() -> None:
        async with Client(legacy_gateway(), mode="legacy", elicitation_callback=answer) as client:
            assert text(await client.call_tool("confirm", {})) == "yes"
        # A 2026-07-28 client cannot take a request in the middle of a call: an error, no hang.
        async with Client(legacy_gateway(), elicitation_callback=answer) as client:
            with pytest.raises(MCPError, match="cannot carry requests from the server"):
                await client.call_tool("confirm", {})

    run(scenario)
    assert asked == ["Proceed?"]


# -- results against output schemas ------------------------------------------------------

EMAIL_SCHEMA = {
    "type": "object",
    "properties": {"email": {"type": "string", "pattern": "^[^<>]+@[^<>]+$"}},
    "required": ["email"],
}


def firewall(**redaction: Any) -> Firewall:
    return Firewall(
        policy_from_dict(
            {"name": "t", "default": "allow", "redaction": {"ner": False, **redaction}}
        )
    )


def test_a_structured_part_that_redaction_would_make_invalid_is_withheld() -> None:
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text=f"Contact: {MARIA_EMAIL}")],
        structured_content={"email": MARIA_EMAIL},
    )
    call = ToolCall(name="lookup", arguments={})

    async def scenario() -> None:
        out = await redact_result(firewall(), call, result, session="s", output_schema=EMAIL_SCHEMA)
        assert out.is_error and out.structured_content is None
        assert MARIA_EMAIL not in out.model_dump_json()
        assert text(out).startswith("Contact: <EMAIL_ADDRESS_1>")
        assert "no longer matches the tool's output schema" in text(out)
        loose = await redact_result(
            firewall(), call, result, session="s", output_schema={"type": "object"}
        )
        assert not loose.is_error
        assert loose.structured_content == {"email": "<EMAIL_ADDRESS_1>"}

    run(scenario, limit=60)


def test_content_that_cannot_be_checked_is_withheld_unless_the_tool_is_exempt() -> None:
    image = types.ImageContent(type="image", data="aGVsbG8=", mime_type="image/png")
    result = types.CallToolResult(content=[types.TextContent(type="text", text="a chart"), image])
    call = ToolCall(name="chart", arguments={})

    async def scenario() -> None:
        out = await redact_result(firewall(), call, result, session="s", output_schema=None)
        assert [b.type for b in out.content] == ["text", "text"]
        assert "cannot be checked for personal data" in out.content[1].text
        exempt = firewall(exempt_tools=["chart"])
        kept = await redact_result(exempt, call, result, session="s", output_schema=None)
        assert kept.content[1] == image

    run(scenario, limit=60)


# -- approval answers are bound to one call ----------------------------------------------


def test_an_approval_answer_only_approves_the_call_it_was_given_for(tmp_path: Path) -> None:
    shop = make_shop(tmp_path)
    gateway = Gateway(
        Firewall(load_policy(POLICY), approver=ClientApprover()),
        UpstreamSpec(name="shop", command=sys.executable, args=tuple(shop.upstream_args())),
    )
    yes = {APPROVAL_KEY: types.ElicitResult(action="accept", content={"approve": True})}

    async def answer(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"approve": True, "confirm": False})

    async def scenario() -> None:
        async with gateway, Client(gateway.server, elicitation_callback=answer) as client:
            session = client.session
            # A "yes" the model forges, with no state or with the state of another call.
            forged = await session.call_tool(
                "delete_orders", {}, input_responses=yes, allow_input_required=True
            )
            assert isinstance(forged, types.InputRequiredResult)  # asked again, not approved
            other = await session.call_tool(
                "run_sql", {"query": "DELETE FROM orders"}, allow_input_required=True
            )
            replayed = await session.call_tool(
                "delete_orders",
                {},
                input_responses=yes,
                request_state=getattr(other, "request_state", None) or "firewall-approval:00",
                allow_input_required=True,
            )
            assert isinstance(replayed, types.InputRequiredResult)
            # Answered through the client, it goes ahead (the server's own question: no).
            done = await client.call_tool("delete_orders", {})
            assert text(done) == "kept the orders"

    run(scenario)
    assert shop.count("orders") == 3


# -- configuration ------------------------------------------------------------------------


def test_identities_come_from_tokens_or_a_trusted_header(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(
        f"""
servers:
  db: {{command: python, args: [server.py]}}
principals:
  - {{id: alice, kind: human, roles: [admin], token_sha256: "{token_digest("s3cret")}"}}
  - {{id: bot, token: bot-token}}
identity_header: X-Forwarded-User
"""
    )
    identities = load_config(path).identities()
    assert identities.principal_for({"authorization": "Bearer s3cret"}).roles == ("admin",)
    assert identities.principal_for({"authorization": "Bearer bot-token"}).id == "bot"
    assert identities.principal_for({"authorization": "Bearer wrong"}) is None
    assert identities.principal_for({"x-forwarded-user": "alice"}).id == "alice"
    assert identities.principal_for({"x-forwarded-user": "mallory"}) is None
    # A wrong token is not rescued by the header.
    both = {"authorization": "Bearer wrong", "x-forwarded-user": "alice"}
    assert identities.principal_for(both) is None


@pytest.mark.parametrize(
    ("text_", "problem"),
    [
        ("servers: {db: {command: x, url: 'http://h/mcp'}}", "exactly one of command or url"),
        ("servers: {'a.b': {command: x}}", "may not be empty or hold '.'"),
        ("servers: {db: {command: x, colour: red}}", "colour"),
        ("principals: [{id: a, token_sha256: abc}]", "not a hex SHA-256"),
        ("principals: [{id: a, token_env: FIREWALL_NO_SUCH_VARIABLE}]", "is not set"),
        ("principals: [{id: a, token: t}, {id: b, token: t}]", "the token of another"),
    ],
)
def test_a_bad_configuration_says_what_is_wrong(tmp_path: Path, text_: str, problem: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(text_)
    with pytest.raises(ConfigError, match=problem):
        config = load_config(path)
        config.upstreams()
        config.identities()


def test_the_command_line_says_what_is_missing(tmp_path: Path) -> None:
    import subprocess

    shop = make_shop(tmp_path)
    params = gateway_params(shop)
    no_upstream = [a for a in params.args[: params.args.index("--")]]
    result = subprocess.run(
        [sys.executable, *no_upstream], capture_output=True, text=True, timeout=60, env=env()
    )
    assert result.returncode == 3 and "no upstream server" in result.stderr
