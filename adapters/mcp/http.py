"""Streamable HTTP for the gateway, behind a check of who is calling.

Every HTTP request must carry a known bearer token (or the header a trusted front proxy
sets): anything else gets 401 before it reaches MCP. The principal travels in the ASGI
scope to the gateway, which uses it for the firewall's rules and sessions.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers

from adapters.mcp.config import Identities
from adapters.mcp.gateway import PRINCIPAL_STATE_KEY, Gateway

Scope = dict[str, Any]


class RequireIdentity:
    """ASGI middleware: 401 for a request without a known identity."""

    def __init__(self, app: Any, identities: Identities) -> None:
        if identities.empty:
            raise ValueError("HTTP mode needs principals with tokens (or an identity header)")
        self.app = app
        self.identities = identities

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        principal = self.identities.principal_for(Headers(scope=scope))
        if principal is None:
            body = json.dumps(
                {"error": "unauthorized", "message": "a known bearer token is required"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"www-authenticate", b'Bearer realm="toolcall-firewall"'),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal
        await self.app(scope, receive, send)


def http_app(gateway: Gateway, identities: Identities, *, host: str = "127.0.0.1") -> Any:
    """The ASGI app serving ``gateway`` at ``/mcp``; run it inside ``async with gateway``."""
    app = gateway.server.streamable_http_app(host=host)
    return RequireIdentity(app, identities)


async def serve_http(gateway: Gateway, identities: Identities, host: str, port: int) -> None:
    """Serve until cancelled (Ctrl-C)."""
    import uvicorn

    app = http_app(gateway, identities, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    async with gateway:
        await uvicorn.Server(config).serve()
