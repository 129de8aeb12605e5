"""For people writing their own MCP server: the firewall inside it, as SDK middleware.

``guard_server(server, firewall)`` checks every ``tools/call`` of a low-level ``Server``
or an ``MCPServer`` before its handler runs and redacts the result after, exactly as the
gateway does, without a second process. With ``ClientApprover`` as the firewall's
approver, held calls are asked about through the client, as in the gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import mcp_types as types
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from pydantic import ValidationError

from adapters.mcp.approval import (
    RoundSigner,
    approval_round,
    asking,
    client_channel,
    without_approval,
)
from adapters.mcp.guard import check_call, denied_result, redact_result
from firewall import Firewall, Principal
from firewall.model import ANONYMOUS

PrincipalFor = Callable[[ServerRequestContext[Any]], Principal]


class FirewallMiddleware:
    """Server middleware: deny, restore placeholders, redact, for every tools/call."""

    def __init__(
        self,
        firewall: Firewall,
        principal: Principal | PrincipalFor = ANONYMOUS,
        *,
        approval_timeout: float = 300.0,
    ) -> None:
        self.firewall = firewall
        self._principal = principal
        self.approval_timeout = approval_timeout
        self._signer = RoundSigner()
        self._session = f"mcp-{uuid.uuid4().hex}"
        #: Output schemas as the server lists them, to keep redacted results valid.
        self._schemas: dict[str, Any] = {}

    async def __call__(self, ctx: ServerRequestContext[Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/list":
            result = await call_next(ctx)
            if isinstance(result, dict):
                for tool in result.get("tools") or ():
                    if isinstance(tool, dict) and isinstance(tool.get("name"), str):
                        self._schemas[tool["name"]] = tool.get("outputSchema")
            return result
        if ctx.method != "tools/call" or not isinstance(ctx.params, dict):
            return await call_next(ctx)
        try:
            request = types.CallToolRequestParams.model_validate(ctx.params, by_name=False)
        except ValidationError:
            return await call_next(ctx)  # the SDK rejects it as invalid params
        name = request.name
        principal = self._principal if isinstance(self._principal, Principal) else None
        if principal is None:
            principal = self._principal(ctx)  # type: ignore[operator]
        session = self.session_of(ctx)
        channel = client_channel(ctx, request, session, self._signer, self.approval_timeout)
        with asking(channel):
            call, decision = await check_call(
                self.firewall,
                name,
                request.arguments,
                principal=principal,
                session=session,
                context={"session": session},
                call_id=None if ctx.request_id is None else str(ctx.request_id),
            )
        if not decision.allowed:
            if channel.wants_round:
                return _wire(approval_round(channel, session, request, self._signer))
            return _wire(denied_result(decision, channel.note))
        params = dict(ctx.params)
        if call.arguments_valid:
            params["arguments"] = decision.arguments_for(call)
        responses, state = without_approval(request)
        params.pop("inputResponses", None)
        params.pop("requestState", None)
        if responses is not None:
            params["inputResponses"] = {
                key: value.model_dump(mode="json", by_alias=True, exclude_none=True)
                for key, value in responses.items()
            }
        if state is not None:
            params["requestState"] = state
        result = await call_next(replace(ctx, params=params))
        if not isinstance(result, dict) or result.get("resultType") == "input_required":
            return result
        parsed = types.CallToolResult.model_validate(result)
        redacted = await redact_result(
            self.firewall, call, parsed, session=session, output_schema=self._schemas.get(name)
        )
        return _wire(redacted)

    def session_of(self, ctx: ServerRequestContext[Any]) -> str:
        headers = getattr(ctx.request, "headers", None) or {}
        return headers.get("mcp-session-id") or self._session


def guard_server(
    server: Any, firewall: Firewall, *, principal: Principal | PrincipalFor = ANONYMOUS
) -> FirewallMiddleware:
    """Add the firewall to ``server`` (a low-level ``Server`` or an ``MCPServer``)."""
    middleware = FirewallMiddleware(firewall, principal)
    server.middleware.append(middleware)
    return middleware


def _wire(result: types.CallToolResult) -> dict[str, Any]:
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)
