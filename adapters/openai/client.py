"""``OpenAI`` and ``AsyncOpenAI`` with the firewall: change the import, add ``firewall=``."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Self

import httpx2
import openai
from openai._models import FinalRequestOptions

from adapters.openai.guard import Guard
from adapters.openai.hook import aincoming, endpoint, incoming, outgoing
from firewall import Firewall, Principal


def _binding(guard: Guard, extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "firewall": guard.firewall,
        "principal": guard.principal,
        "context": guard.context,
        "session": guard.session,
        **extra,
    }


class _Bound:
    """What both clients add to the SDK's: the firewall binding, kept through ``copy``.

    Listed before the SDK's client among the bases, so that its ``copy`` wraps theirs.
    """

    _guard: Guard

    def __init__(
        self,
        *,
        firewall: Firewall,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        session: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._guard = Guard(firewall, principal, context, session)
        super().__init__(**kwargs)

    @property
    def firewall(self) -> Firewall:
        return self._guard.firewall

    @property
    def session(self) -> str | None:
        return self._guard.session

    def copy(self, **kwargs: Any) -> Self:
        """The SDK's ``copy`` (and ``with_options``), keeping the firewall binding."""
        extra = _binding(self._guard, kwargs.pop("_extra_kwargs", {}) or {})
        return super().copy(**kwargs, _extra_kwargs=extra)  # type: ignore[misc]

    with_options = copy

    def with_session(self, session: str | None) -> Self:
        """A client for another session (its own graph and placeholders), same connection."""
        return self.copy(_extra_kwargs={"session": session})


class OpenAI(_Bound, openai.OpenAI):
    """The SDK's client; every tool call in a reply is checked, every request redacted.

    ``firewall``: the checkpoint. ``principal``, ``context``, ``session``: who asks, what
    the rules may read, and which session's graph and placeholders the calls belong to.
    """

    def request(  # type: ignore[override]
        self,
        cast_to: Any,
        options: FinalRequestOptions,
        *,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any:
        return super().request(
            cast_to, outgoing(self._guard, options), stream=stream, stream_cls=stream_cls
        )

    def _send_request(
        self, request: httpx2.Request, *, stream: bool, **kwargs: Any
    ) -> httpx2.Response:
        response = super()._send_request(request, stream=stream, **kwargs)
        return incoming(self._guard, request, response)


class AsyncOpenAI(_Bound, openai.AsyncOpenAI):
    """The SDK's async client with the firewall (approvals may be async)."""

    async def request(  # type: ignore[override]
        self,
        cast_to: Any,
        options: FinalRequestOptions,
        *,
        stream: bool = False,
        stream_cls: Any = None,
    ) -> Any:
        # Redacting tool outputs is blocking work (Presidio): kept off the event loop.
        if options.method.upper() == "POST" and endpoint("POST", options.url) is not None:
            options = await asyncio.to_thread(outgoing, self._guard, options)
        return await super().request(cast_to, options, stream=stream, stream_cls=stream_cls)

    async def _send_request(
        self, request: httpx2.Request, *, stream: bool, **kwargs: Any
    ) -> httpx2.Response:
        response = await super()._send_request(request, stream=stream, **kwargs)
        return await aincoming(self._guard, request, response)
