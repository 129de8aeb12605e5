"""The gateway: an MCP server whose tools are those of its upstream servers, checked.

It is a low-level SDK ``Server``: ``tools/list`` returns the upstream listings (exactly
as listed with one upstream, names prefixed ``server.tool`` with several), and each
``tools/call`` is checked by the firewall, forwarded with placeholders restored, and its
result redacted. Requests an upstream sends during a call go to the client of that call.
"""

from __future__ import annotations

import logging
import uuid
import warnings
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.session import ServerSession
from mcp.shared.exceptions import MCPError
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from adapters.mcp.approval import (
    RoundSigner,
    approval_round,
    asking,
    client_channel,
    without_approval,
)
from adapters.mcp.guard import (
    SamplingGuard,
    SamplingWithheld,
    check_call,
    denied_result,
    error_result,
    redact_result,
)
from adapters.mcp.upstream import Upstream, UpstreamSpec, UpstreamUnavailable
from firewall import Firewall, Principal
from firewall.model import ANONYMOUS

log = logging.getLogger("firewall.mcp")

#: Key of the principal an HTTP front end put in the ASGI scope's state.
PRINCIPAL_STATE_KEY = "firewall_principal"
#: Input rounds the gateway drives for a client that cannot take them itself.
MAX_INPUT_ROUNDS = 8
_SESSIONS_KEPT = 1024


@dataclass(frozen=True)
class Route:
    """Where an exposed tool goes: the upstream and the tool as that upstream lists it."""

    upstream: Upstream
    tool: types.Tool
    exposed: types.Tool


class Gateway:
    """Puts a ``Firewall`` in front of one or more upstream MCP servers.

    ``principal`` is who calls over stdio; over HTTP each request's principal comes from
    the front end (see ``adapters.mcp.http``) and a request without one is refused.
    """

    def __init__(
        self,
        firewall: Firewall,
        upstreams: UpstreamSpec | Sequence[UpstreamSpec],
        *,
        namespaced: bool | None = None,
        principal: Principal | None = None,
        approval_timeout: float = 300.0,
        name: str = "toolcall-firewall",
    ) -> None:
        specs = [upstreams] if isinstance(upstreams, UpstreamSpec) else list(upstreams)
        if not specs:
            raise ValueError("the gateway needs at least one upstream server")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"upstream names must be unique: {names}")
        self.namespaced = len(specs) > 1 if namespaced is None else namespaced
        if self.namespaced:
            for spec in specs:
                if not spec.name or "." in spec.name:
                    raise ValueError(f"upstream name '{spec.name}' may not be empty or hold '.'")
        self.firewall = firewall
        self.principal = principal or ANONYMOUS
        self.approval_timeout = approval_timeout
        self.upstreams = {s.name: Upstream(s, on_notification=self._upstream_notice) for s in specs}
        self._routes: dict[str, Route] = {}
        self._signer = RoundSigner()
        self._stdio_session = f"mcp-{uuid.uuid4().hex}"
        self._downstream: dict[str, ServerSession] = {}
        self._stack: AsyncExitStack | None = None
        self.server = Server(
            name,
            version="0.1.0",
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            # Without it the SDK lists every upstream again for each call over HTTP.
            get_tool_input_schema=self._input_schema,
        )

    async def __aenter__(self) -> Gateway:
        stack = AsyncExitStack()
        for upstream in self.upstreams.values():
            await stack.enter_async_context(upstream)
        self._stack = stack
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    def initialization_options(self) -> Any:
        return self.server.create_initialization_options(NotificationOptions(tools_changed=True))

    async def run_stdio(self) -> None:
        """Serve one client on this process's stdin/stdout until it goes away."""
        from mcp.server.stdio import stdio_server

        async with self, stdio_server() as (read, write):
            await self.server.run(read, write, self.initialization_options())

    # -- tools/list -----------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        self._remember(ctx)
        routes = await self._refresh()
        return types.ListToolsResult(tools=[route.exposed for route in routes.values()])

    async def _refresh(self) -> dict[str, Route]:
        """List every upstream at once; one that fails lists nothing and is logged."""
        found: dict[str, list[types.Tool]] = {}

        async def list_one(upstream: Upstream) -> None:
            try:
                with anyio.fail_after(upstream.spec.timeout):
                    found[upstream.spec.name] = await upstream.list_tools()
            except Exception as exc:
                log.warning("listing the tools of '%s' failed: %s", upstream.spec.name, exc)

        async with anyio.create_task_group() as group:
            for upstream in self.upstreams.values():
                group.start_soon(list_one, upstream)
        routes: dict[str, Route] = {}
        for name, upstream in self.upstreams.items():  # in configuration order
            for tool in found.get(name, ()):
                exposed = (
                    tool.model_copy(update={"name": f"{name}.{tool.name}"})
                    if self.namespaced
                    else tool
                )
                routes[exposed.name] = Route(upstream, tool, exposed)
        self._routes = routes
        return routes

    def _input_schema(self, name: str) -> Mapping[str, Any] | None:
        route = self._routes.get(name)
        return route.exposed.input_schema if route is not None else None

    async def _route(self, name: str) -> Route | None:
        route = self._routes.get(name)
        if route is None:
            route = (await self._refresh()).get(name)
        return route

    # -- tools/call -----------------------------------------------------------------

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        self._remember(ctx)
        principal, session = self.identify(ctx)
        if principal is None:
            return error_result("The firewall gateway refused the call: nobody was identified.")
        route = await self._route(params.name)
        if route is None:
            return error_result(f"Unknown tool '{params.name}'.")
        context = {"mcp_server": route.upstream.spec.name, "session": session}
        channel = client_channel(ctx, params, session, self._signer, self.approval_timeout)
        with asking(channel):
            call, decision = await check_call(
                self.firewall,
                params.name,
                params.arguments,
                principal=principal,
                session=session,
                context=context,
                call_id=None if ctx.request_id is None else str(ctx.request_id),
            )
        if not decision.allowed:
            if channel.wants_round:
                return approval_round(channel, session, params, self._signer)
            return denied_result(decision, channel.note)
        arguments = decision.arguments_for(call) if call.arguments_valid else params.arguments
        responses, state = without_approval(params)
        sampling = SamplingGuard(self.firewall, call, session)
        downstream = _Downstream(ctx, sampling)
        responses = _restored(responses, sampling)
        try:
            result = await self._forward(route, arguments, downstream, responses, state)
            if isinstance(result, types.InputRequiredResult):
                # The client answers the upstream's questions itself and retries the call.
                return await _redacted_round(result, sampling)
        except MCPError:
            raise  # the upstream's own error, as it sent it
        except (UpstreamUnavailable, SamplingWithheld) as exc:
            raise MCPError(code=types.INTERNAL_ERROR, message=str(exc)) from None
        except Exception as exc:  # e.g. a result that does not match the tool's schema
            why = f"upstream '{route.upstream.spec.name}' failed: {type(exc).__name__}: {exc}"
            raise MCPError(code=types.INTERNAL_ERROR, message=why) from None
        return await redact_result(
            self.firewall, call, result, session=session, output_schema=route.tool.output_schema
        )

    async def _forward(
        self,
        route: Route,
        arguments: Any,
        downstream: _Downstream,
        responses: types.InputResponses | None,
        state: str | None,
    ) -> types.CallToolResult | types.InputRequiredResult:
        meta = downstream.forwarded_meta()
        result = await route.upstream.call_tool(
            route.tool.name,
            arguments,
            forward=downstream,
            progress=downstream.progress,
            input_responses=responses,
            request_state=state,
            meta=meta,
        )
        rounds = 0
        # A client on a connection that carries server requests gets the upstream's input
        # requests one by one; a 2026-07-28 client takes the input round itself.
        while isinstance(result, types.InputRequiredResult) and downstream.can_send_request:
            rounds += 1
            if rounds > MAX_INPUT_ROUNDS:
                raise UpstreamUnavailable(
                    f"upstream '{route.upstream.spec.name}' asked for input more than "
                    f"{MAX_INPUT_ROUNDS} times"
                )
            answers: dict[str, Any] = {}
            for key, request in (result.input_requests or {}).items():
                answer = await downstream.request(request)
                if isinstance(answer, types.ErrorData):
                    raise MCPError.from_error_data(answer)
                answers[key] = answer
            result = await route.upstream.call_tool(
                route.tool.name,
                arguments,
                forward=downstream,
                progress=downstream.progress,
                input_responses=answers or None,
                request_state=result.request_state,
                meta=meta,
            )
        return result

    # -- identity and approval ------------------------------------------------------

    def identify(self, ctx: ServerRequestContext[Any]) -> tuple[Principal | None, str]:
        """Who calls and in which firewall session.

        Over HTTP the principal is the one the front end authenticated, and the session
        is the MCP session (scoped to the principal, so a session id presented with
        another token is another session).
        """
        request = ctx.request
        if request is None:
            return self.principal, self._stdio_session
        scope = getattr(request, "scope", None) or {}
        principal = (scope.get("state") or {}).get(PRINCIPAL_STATE_KEY)
        if not isinstance(principal, Principal):
            return None, ""
        headers = getattr(request, "headers", None) or {}
        mcp_session = headers.get("mcp-session-id") or "no-session"
        return principal, f"{principal.id}/{mcp_session}"

    # -- notifications from upstream servers ----------------------------------------

    def _remember(self, ctx: ServerRequestContext[Any]) -> None:
        _, session = self.identify(ctx)
        if session:
            if len(self._downstream) >= _SESSIONS_KEPT and session not in self._downstream:
                self._downstream.pop(next(iter(self._downstream)))
            self._downstream[session] = ctx.session

    async def _upstream_notice(self, notification: types.ServerNotification) -> None:
        if isinstance(notification, types.ToolListChangedNotification):
            self._routes = {}
            for session in list(self._downstream.values()):
                try:
                    await session.send_tool_list_changed()
                except Exception as exc:  # a client that went away
                    log.debug("tool list change not delivered: %s", exc)


_RESULT_TYPES: Mapping[type, type] = {
    types.ElicitRequest: types.ElicitResult,
    types.ListRootsRequest: types.ListRootsResult,
}


async def _redacted_round(
    result: types.InputRequiredResult, sampling: SamplingGuard
) -> types.InputRequiredResult:
    requests = dict(result.input_requests or {})
    for key, request in requests.items():
        if isinstance(request, types.CreateMessageRequest):
            requests[key] = await sampling.outgoing(request)
    return result.model_copy(update={"input_requests": requests or result.input_requests})


def _restored(
    responses: types.InputResponses | None, sampling: SamplingGuard
) -> types.InputResponses | None:
    if not responses:
        return responses
    return {
        key: sampling.incoming(answer)
        if isinstance(answer, types.CreateMessageResult | types.CreateMessageResultWithTools)
        else answer
        for key, answer in responses.items()
    }


class _Downstream:
    """The client of one call in flight, as the upstream's requests reach it."""

    def __init__(self, ctx: ServerRequestContext[Any], sampling: SamplingGuard) -> None:
        self.ctx = ctx
        self.sampling = sampling

    @property
    def can_send_request(self) -> bool:
        return self.ctx.session.can_send_request

    def forwarded_meta(self) -> types.RequestParamsMeta | None:
        """The client's log-level opt-in, passed on so the upstream's logs flow.

        A 2026-07-28 client opts in per request; a 2025-11-25 client gets every level, as
        servers of its generation send them.
        """
        if self.ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return {types.LOG_LEVEL_META_KEY: "debug"}  # type: ignore[typeddict-unknown-key]
        meta = self.ctx.meta or {}
        level = meta.get(types.LOG_LEVEL_META_KEY)
        return {types.LOG_LEVEL_META_KEY: level} if level is not None else None  # type: ignore[return-value]

    async def progress(self, progress: float, total: float | None, message: str | None) -> None:
        await self.ctx.session.report_progress(progress, total, message)

    async def __call__(self, request: types.ServerRequest) -> Any:
        if isinstance(request, types.PingRequest):
            return types.EmptyResult()
        return await self.request(request)

    async def request(self, request: Any) -> Any:
        session = self.ctx.session
        if not session.can_send_request:
            return types.ErrorData(
                code=types.INVALID_REQUEST,
                message=f"the server asked the client ({request.method}) during the call, and "
                "the client's connection (protocol 2026-07-28) cannot carry requests from the "
                "server",
            )
        metadata = ServerMessageMetadata(related_request_id=self.ctx.request_id)
        if isinstance(request, types.CreateMessageRequest):
            wants_tools = request.params.tools is not None or request.params.tool_choice is not None
            result_type: type = (
                types.CreateMessageResultWithTools if wants_tools else types.CreateMessageResult
            )
            try:
                request = await self.sampling.outgoing(request)
            except SamplingWithheld as exc:
                return types.ErrorData(code=types.INTERNAL_ERROR, message=str(exc))
            reply = await session.send_request(request, result_type, metadata=metadata)
            return self.sampling.incoming(reply)
        return await session.send_request(request, _RESULT_TYPES[type(request)], metadata=metadata)

    async def notify(self, notification: types.ServerNotification) -> None:
        if isinstance(notification, types.LoggingMessageNotification):
            params = notification.params
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                await self.ctx.session.send_log_message(
                    params.level, params.data, params.logger, related_request_id=self.ctx.request_id
                )
