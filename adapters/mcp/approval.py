"""Approval through the MCP client: the person at the client says yes or no.

``ClientApprover`` is an async approver for the firewall. While a call is checked, the
gateway tells it how to reach the client (``asking``): over a connection that carries
server requests (protocol 2025-11-25) it asks at once with an elicitation; on a 2026-07-28
connection it asks the gateway to answer the call with an input round, and the client's
answer arrives with the retried call. A client without elicitation cannot ask anyone:
the call is refused, and the model is told why.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from firewall import ApprovalGrant, ApprovalRequest, Approver, grant_for
from firewall.model import canonical_json

log = logging.getLogger("firewall.mcp")

#: The key of the firewall's own question in an input round.
APPROVAL_KEY = "firewall.approval"

APPROVAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "approve": {
            "type": "boolean",
            "title": "Allow this tool call?",
            "description": "The firewall holds this call until a person allows it.",
        }
    },
    "required": ["approve"],
}


@dataclass
class ClientChannel:
    """How the client of the call being checked can be asked (set by the gateway)."""

    #: Asks the person now and returns the elicitation's answer (legacy connections).
    ask: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None
    #: The client answers in an input round (2026-07-28 connections with elicitation).
    can_ask_in_round: bool = False
    #: The answer the client sent with a retried call (``None``: none was sent).
    answer: dict[str, Any] | None = None
    #: Set by the approver: the gateway must answer the call with an input round.
    wants_round: bool = False
    #: Set by the approver: why nobody could be asked (told to the model).
    note: str = ""
    #: The question put to the person: the call and the rules that held it.
    question: str = field(default="")


_channel: contextvars.ContextVar[ClientChannel | None] = contextvars.ContextVar(
    "firewall_mcp_client_channel", default=None
)


@contextmanager
def asking(channel: ClientChannel) -> Iterator[ClientChannel]:
    """Make ``channel`` the way to reach the client while one call is checked."""
    token = _channel.set(channel)
    try:
        yield channel
    finally:
        _channel.reset(token)


def accepted(answer: dict[str, Any] | None) -> bool:
    """True only for an accepted elicitation whose ``approve`` is exactly ``true``."""
    if not isinstance(answer, dict) or answer.get("action") != "accept":
        return False
    content = answer.get("content")
    return isinstance(content, dict) and content.get("approve") is True


class ClientApprover:
    """Asks the person at the MCP client; falls back to ``fallback`` when none can be asked.

    An answer covers the same exact call in the same session for ``ttl`` seconds, so a call
    retried for the upstream server's own input rounds is not asked about twice.
    """

    name = "mcp-client"

    def __init__(self, fallback: Approver | None = None, *, ttl: float = 120.0) -> None:
        self.fallback = fallback
        self.ttl = ttl
        self._given: dict[tuple[str | None, str], float] = {}

    def request(self, request: ApprovalRequest) -> ApprovalGrant | None:
        """Blocking path (no client to reach): the fallback decides, or the call is refused."""
        return self.fallback.request(request) if self.fallback is not None else None

    async def arequest(self, request: ApprovalRequest) -> ApprovalGrant | None:
        key = (request.session, request.fingerprint)
        expiry = self._given.get(key)
        if expiry is not None and expiry > time.monotonic():
            return self._grant(request)
        channel = _channel.get()
        if channel is None:
            return await self._fall_back(request, channel)
        if channel.answer is not None:
            if not accepted(channel.answer):
                channel.note = "the user did not allow it in the client"
            return self._remember(request, accepted(channel.answer))
        question = request.summary()
        channel.question = question
        if channel.ask is not None:
            answer = await channel.ask(question)
            if answer is not None:
                if not accepted(answer):
                    channel.note = "the user did not allow it in the client"
                return self._remember(request, accepted(answer))
        if channel.can_ask_in_round:
            channel.wants_round = True
            return None
        return await self._fall_back(request, channel)

    async def _fall_back(
        self, request: ApprovalRequest, channel: ClientChannel | None
    ) -> ApprovalGrant | None:
        if self.fallback is not None:
            asker = getattr(self.fallback, "arequest", None)
            if asker is not None:
                return await asker(request)
            return await asyncio.to_thread(self.fallback.request, request)
        if channel is not None:
            channel.note = (
                "it needs a person's approval, and this MCP client cannot ask its user: "
                "it does not support elicitation"
            )
        return None

    def _remember(self, request: ApprovalRequest, yes: bool) -> ApprovalGrant | None:
        if not yes:
            return None
        if len(self._given) > 10_000:
            now = time.monotonic()
            self._given = {k: v for k, v in self._given.items() if v > now}
        self._given[(request.session, request.fingerprint)] = time.monotonic() + self.ttl
        return self._grant(request)

    def _grant(self, request: ApprovalRequest) -> ApprovalGrant:
        return grant_for(request.call, self.name, note="approved in the MCP client")


class RoundSigner:
    """Binds an input round the gateway opened to one exact call in one session.

    The retried call carries the signature back as ``request_state``; an answer is used
    only when the signature matches the call being checked, so an answer given for one
    call can never approve another.
    """

    PREFIX = "firewall-approval:"

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or os.urandom(32)

    def state_for(self, session: str | None, name: str, arguments: Any) -> str:
        body = canonical_json([session, name, arguments]).encode()
        return self.PREFIX + hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def matches(self, state: str | None, session: str | None, name: str, arguments: Any) -> bool:
        if not state or not state.startswith(self.PREFIX):
            return False
        return hmac.compare_digest(state, self.state_for(session, name, arguments))


def client_channel(
    ctx: ServerRequestContext[Any],
    params: types.CallToolRequestParams,
    session: str | None,
    signer: RoundSigner,
    timeout: float,
) -> ClientChannel:
    """How the client of this request can be asked, from its connection and capabilities."""
    channel = ClientChannel()
    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.elicitation is None:
        return channel
    if ctx.session.can_send_request:

        async def ask(question: str) -> dict[str, Any] | None:
            try:
                with anyio.fail_after(timeout):
                    answer = await ctx.session.elicit_form(
                        question, APPROVAL_SCHEMA, related_request_id=ctx.request_id
                    )
            except (MCPError, TimeoutError) as exc:
                log.info("asking the client for approval failed: %s", exc)
                return None
            return answer.model_dump(mode="json", by_alias=True, exclude_none=True)

        channel.ask = ask
    elif ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        channel.can_ask_in_round = True
        answer = (params.input_responses or {}).get(APPROVAL_KEY)
        if answer is not None and signer.matches(
            params.request_state, session, params.name, params.arguments
        ):
            channel.answer = answer.model_dump(mode="json", by_alias=True, exclude_none=True)
    return channel


def approval_round(
    channel: ClientChannel,
    session: str | None,
    params: types.CallToolRequestParams,
    signer: RoundSigner,
) -> types.InputRequiredResult:
    """The input round that asks the client's user about this exact call."""
    question = types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message=channel.question, requested_schema=APPROVAL_SCHEMA
        )
    )
    return types.InputRequiredResult(
        input_requests={APPROVAL_KEY: question},
        request_state=signer.state_for(session, params.name, params.arguments),
    )


def without_approval(
    params: types.CallToolRequestParams,
) -> tuple[types.InputResponses | None, str | None]:
    """The input responses and state meant for the tool, without the firewall's own."""
    responses = dict(params.input_responses or {})
    responses.pop(APPROVAL_KEY, None)
    state = params.request_state
    if state is not None and state.startswith(RoundSigner.PREFIX):
        state = None
    return responses or None, state
