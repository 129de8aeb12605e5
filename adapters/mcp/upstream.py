"""One upstream MCP server, reached with the SDK's own ``Client``.

The connection is opened on first use and reopened after it fails, so a server that
crashed comes back on the next call while the others keep serving. Requests the server
sends back during a call (elicitation, sampling, roots) and its log messages are handed
to the downstream client of the call in flight.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

log = logging.getLogger("firewall.mcp")

#: Pages followed when listing tools: a server whose cursor never ends cannot hang a listing.
MAX_PAGES = 100


@dataclass(frozen=True)
class UpstreamSpec:
    """Where an upstream server is: a command to start (stdio) or a Streamable HTTP URL."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds one request to this server may take before the client gets an error.
    timeout: float = 300.0
    #: How to negotiate the protocol: ``auto`` (2026-07-28 when the server speaks it) or
    #: ``legacy`` (the 2025-11-25 handshake, for servers that mishandle discovery).
    protocol: str = "auto"

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"upstream '{self.name}' needs exactly one of command or url")
        if self.protocol not in ("auto", "legacy"):
            raise ValueError(f"upstream '{self.name}': protocol must be auto or legacy")

    @property
    def where(self) -> str:
        return self.url or " ".join([self.command or "", *self.args]).strip()


#: Receives one request the upstream server sent during a call; returns the answer.
Forward = Callable[[types.ServerRequest], Awaitable[Any]]
#: Receives one notification the upstream server sent (log messages, list changes).
Notify = Callable[[types.ServerNotification], Awaitable[None]]


class UpstreamUnavailable(Exception):
    """The upstream server could not be reached or failed; says which and why."""


class UpstreamClosed(UpstreamUnavailable):
    """The connection to the upstream server closed (it exited or went away)."""


class Upstream:
    """A lazily (re)opened connection to one upstream server."""

    def __init__(self, spec: UpstreamSpec, *, on_notification: Notify | None = None) -> None:
        self.spec = spec
        self._on_notification = on_notification
        self._client: Client | None = None
        self._stop: anyio.Event | None = None
        self._lock = anyio.Lock()
        self._task_group: anyio.abc.TaskGroup | None = None
        #: Forwarders of the downstream calls in flight, newest last.
        self._in_flight: list[Forward] = []

    async def __aenter__(self) -> Upstream:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        await self._task_group.__aexit__(*exc)
        self._task_group = None
        self._client = None

    # -- calls ----------------------------------------------------------------------

    async def list_tools(self) -> list[types.Tool]:
        """Every tool the server lists, following its pagination.

        A connection found closed is reopened once: listing has no effect to repeat.
        """
        try:
            return await self._list_tools()
        except UpstreamClosed:
            return await self._list_tools()

    async def _list_tools(self) -> list[types.Tool]:
        client = await self._connected()
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._guarded(client.list_tools(cursor=cursor, cache_mode="bypass"))
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return tools
        raise UpstreamUnavailable(
            f"upstream '{self.spec.name}' listed more than {MAX_PAGES} pages of tools"
        )

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any] | None,
        *,
        forward: Forward,
        progress: Callable[[float, float | None, str | None], Awaitable[None]] | None,
        input_responses: types.InputResponses | None = None,
        request_state: str | None = None,
        meta: types.RequestParamsMeta | None = None,
    ) -> types.CallToolResult | types.InputRequiredResult:
        """Call ``name``; ``forward`` answers the requests the server sends meanwhile."""
        client = await self._connected()
        self._in_flight.append(forward)
        try:
            result = await self._guarded(
                client.session.call_tool(
                    name,
                    arguments,
                    read_timeout_seconds=self.spec.timeout,
                    progress_callback=progress,
                    input_responses=input_responses,
                    request_state=request_state,
                    meta=meta,
                    allow_input_required=True,
                )
            )
        finally:
            self._in_flight.remove(forward)
        return result

    async def _guarded(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await awaitable
        except MCPError as exc:
            if exc.code == types.CONNECTION_CLOSED:
                self._drop()
                raise UpstreamClosed(f"upstream '{self.spec.name}' closed the connection") from None
            if exc.code == types.REQUEST_TIMEOUT:
                raise UpstreamUnavailable(
                    f"upstream '{self.spec.name}' did not answer within {self.spec.timeout:g} s"
                ) from None
            raise

    # -- the connection -------------------------------------------------------------

    async def _connected(self) -> Client:
        client = self._client
        if client is not None:
            return client
        async with self._lock:
            if self._client is None:
                await self._open()
            assert self._client is not None
            return self._client

    async def _open(self) -> None:
        if self._task_group is None:
            raise UpstreamUnavailable(f"upstream '{self.spec.name}' is not running")
        ready = anyio.Event()
        failure: list[BaseException] = []
        stop = anyio.Event()

        async def hold() -> None:
            try:
                async with self._make_client() as client:
                    self._client = client
                    self._stop = stop
                    ready.set()
                    await stop.wait()
            except Exception as exc:
                failure.append(exc)
                log.warning("upstream %s: %s", self.spec.name, _describe(exc))
            finally:
                if self._stop is stop:
                    self._client = None
                    self._stop = None
                ready.set()

        self._task_group.start_soon(hold)
        with anyio.move_on_after(self.spec.timeout):
            await ready.wait()
        if self._client is None:
            why = _describe(failure[0]) if failure else "it did not start in time"
            stop.set()
            raise UpstreamUnavailable(f"upstream '{self.spec.name}' is unavailable: {why}")

    def _drop(self) -> None:
        """Forget a failed connection; the next call opens a new one."""
        stop = self._stop
        self._client = None
        self._stop = None
        if stop is not None:
            stop.set()

    def _make_client(self) -> Client:
        spec = self.spec
        if spec.url is not None:
            http = create_mcp_http_client(
                headers=spec.headers, timeout=httpx2.Timeout(30.0, read=spec.timeout)
            )
            server: Any = streamable_http_client(spec.url, http_client=http)
        else:
            assert spec.command is not None
            server = StdioServerParameters(
                command=spec.command,
                args=list(spec.args),
                env={**os.environ, **spec.env},
                cwd=spec.cwd,
            )
        return Client(
            server,
            mode=spec.protocol,
            cache=None,
            read_timeout_seconds=spec.timeout,
            sampling_callback=self._sampling,
            elicitation_callback=self._elicitation,
            list_roots_callback=self._roots,
            logging_callback=self._logging,
            message_handler=self._message,
            client_info=types.Implementation(name="toolcall-firewall", version="0.1.0"),
        )

    # -- what the upstream server sends back ----------------------------------------

    async def _forward(self, request: types.ServerRequest) -> Any:
        if not self._in_flight:
            return types.ErrorData(
                code=types.INVALID_REQUEST,
                message="the firewall gateway has no call in flight to forward this request to",
            )
        try:
            return await self._in_flight[-1](request)
        except MCPError as exc:
            return exc.error
        except Exception as exc:
            return types.ErrorData(code=types.INTERNAL_ERROR, message=_describe(exc))

    async def _sampling(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> Any:
        return await self._forward(types.CreateMessageRequest(params=params))

    async def _elicitation(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> Any:
        return await self._forward(types.ElicitRequest(params=params))

    async def _roots(self, context: ClientRequestContext) -> Any:
        return await self._forward(types.ListRootsRequest())

    async def _logging(self, params: types.LoggingMessageNotificationParams) -> None:
        return None  # delivered with every other notification by ``_message``

    async def _message(self, message: Any) -> None:
        if isinstance(message, Exception):
            log.warning("upstream %s: %s", self.spec.name, _describe(message))
            return
        if isinstance(message, types.LoggingMessageNotification) and self._in_flight:
            notify = getattr(self._in_flight[-1], "notify", None)
            if notify is not None:
                await notify(message)
                return
        if self._on_notification is not None:
            await self._on_notification(message)


def _describe(exc: BaseException) -> str:
    """The innermost cause, readable: task-group wrappers say nothing about what failed."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
