"""An MCP server of the previous protocol generation (2025-11-25), built on the low-level
``Server``: it pages its tool listing (two tools a page), announces a change of its tools
with ``notifications/tools/list_changed``, and asks its client a question during a call
with an elicitation request. It speaks only the 2025-11-25 handshake, as servers written
before 2026-07-28 do.

Run: ``python tests/mcp_legacy_upstream.py`` (stdio).
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.runner import serve_loop
from mcp.server.stdio import stdio_server

PAGE = 2


def build() -> Server:
    names = [f"tool_{index}" for index in range(5)]

    def tool(name: str) -> types.Tool:
        return types.Tool(
            name=name,
            description=f"The tool called {name}.",
            input_schema={"type": "object", "properties": {"note": {"type": "string"}}},
        )

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> Any:
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + PAGE
        cursor = str(end) if end < len(names) + 2 else None
        every = [*names, "grow", "confirm"]
        return types.ListToolsResult(tools=[tool(n) for n in every[start:end]], next_cursor=cursor)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name == "grow":
            names.append(f"tool_{len(names)}")
            await ctx.session.send_tool_list_changed()
            reply = "grown"
        elif params.name == "confirm":
            answer = await ctx.session.elicit_form(
                "Proceed?",
                {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
                related_request_id=ctx.request_id,
            )
            agreed = answer.action == "accept" and (answer.content or {}).get("ok")
            reply = "yes" if agreed else "no"
        else:
            reply = f"{params.name}: {(params.arguments or {}).get('note', '')}"
        return types.CallToolResult(content=[types.TextContent(type="text", text=reply)])

    return Server("legacy-tools", on_list_tools=list_tools, on_call_tool=call_tool)


async def main() -> None:
    server = build()
    options = server.create_initialization_options(NotificationOptions(tools_changed=True))
    async with stdio_server() as (read, write), server.lifespan(server) as state:
        # The handshake-only loop: the server speaks 2025-11-25 and nothing newer.
        await serve_loop(server, read, write, lifespan_state=state, init_options=options)


if __name__ == "__main__":
    anyio.run(main)
