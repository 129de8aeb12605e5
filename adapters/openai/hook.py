"""Where the client is hooked: the request body before it is built, the HTTP response after.

Every path of the SDK (``create``, ``parse``, ``stream()`` helpers, ``with_raw_response``,
``with_streaming_response``) goes through ``request()`` and ``_send_request()``, so the body
is rewritten once there and the response the SDK parses is already the checked one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx2
from openai._compat import model_copy
from openai._models import FinalRequestOptions

from adapters.openai.guard import Guard
from adapters.openai.replies import Ask, Check, check_chat, check_response
from adapters.openai.requests import chat_request, responses_request
from adapters.openai.streams import ChatStream, Events, ResponseStream
from firewall import FirewallError

CHAT = "chat"
RESPONSES = "responses"
_DROPPED_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


def endpoint(method: str, path: str) -> str | None:
    """Which API a request speaks, when it is one whose replies can propose tool calls."""
    path = path.rstrip("/")
    method = method.upper()
    if method == "POST":
        if path.endswith("/chat/completions"):
            return CHAT
        if path.endswith("/responses"):
            return RESPONSES
    elif method == "GET":
        parent = path.rpartition("/")[0]
        if parent.endswith("/chat/completions"):
            return CHAT
        if parent.endswith("/responses"):
            return RESPONSES
    return None


def outgoing(guard: Guard, options: FinalRequestOptions) -> FinalRequestOptions:
    """The request options with the body rewritten (a copy; the caller's are untouched)."""
    if options.method.upper() != "POST" or not isinstance(options.json_data, Mapping):
        return options
    kind = endpoint("POST", options.url)
    if kind is None:
        return options
    body = dict(options.json_data)
    body = chat_request(guard, body) if kind == CHAT else responses_request(guard, body)
    options = model_copy(options)
    options.json_data = body
    return options


def _check_for(guard: Guard, kind: str, body: Any) -> Check:
    if not isinstance(body, dict):
        raise FirewallError("the reply is not a JSON object; the firewall did not pass it on")
    return check_chat(guard, body) if kind == CHAT else check_response(guard, body)


def _decoded(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        raise FirewallError("the reply is not JSON; the firewall did not pass it on") from None


def _is_stream(response: httpx2.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


def _headers(response: httpx2.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS]


def _with_body(response: httpx2.Response, body: Any) -> httpx2.Response:
    content = json.dumps(body, ensure_ascii=False).encode()
    new = httpx2.Response(
        response.status_code,
        headers=_headers(response),
        content=content,
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )
    with contextlib.suppress(RuntimeError):
        new.elapsed = response.elapsed
    return new


def _with_stream(response: httpx2.Response, stream: Any) -> httpx2.Response:
    return httpx2.Response(
        response.status_code,
        headers=_headers(response),
        stream=stream,
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )


# -- sync ---------------------------------------------------------------------------------


def incoming(guard: Guard, request: httpx2.Request, response: httpx2.Response) -> httpx2.Response:
    """The response the SDK will parse: tool calls checked (sync client)."""
    kind = endpoint(request.method, request.url.path)
    if kind is None or not 200 <= response.status_code < 300:
        return response
    if _is_stream(response):
        transform = ChatStream(guard) if kind == CHAT else ResponseStream(guard)
        return _with_stream(response, _SyncFiltered(response, transform, guard))
    body = _decoded(response.read())
    asked = [False]

    def decide(call: Any) -> Any:
        asked[0] = True
        return guard.decide(call)

    body = _complete(_run(_check_for(guard, kind, body), decide))
    return _with_body(response, body) if asked[0] else response


def _run(check: Check, decide: Any) -> Iterator[bytes]:
    """Drive a check: answer its ``Ask`` with decisions, pass on what it emits."""
    try:
        item = next(check)
        while True:
            if isinstance(item, Ask):
                item = check.send([decide(call) for call in item.calls])
            else:
                yield item
                item = next(check)
    except StopIteration as stop:
        return stop.value


def _complete(run: Iterator[bytes]) -> Any:
    try:
        while True:
            next(run)
    except StopIteration as stop:
        return stop.value


class _SyncFiltered(httpx2.SyncByteStream):
    def __init__(self, response: httpx2.Response, transform: Any, guard: Guard) -> None:
        self.response, self.transform, self.guard = response, transform, guard

    def __iter__(self) -> Iterator[bytes]:
        events, decide = Events(), self.guard.decide
        for data in self.response.iter_bytes():
            for block in events.feed(data):
                yield from _run(self.transform.event(block), decide)
        for block in events.end():
            yield from _run(self.transform.event(block), decide)
        yield from _run(self.transform.close(), decide)

    def close(self) -> None:
        self.response.close()


# -- async --------------------------------------------------------------------------------


async def aincoming(
    guard: Guard, request: httpx2.Request, response: httpx2.Response
) -> httpx2.Response:
    """The response the SDK will parse: tool calls checked (async client)."""
    kind = endpoint(request.method, request.url.path)
    if kind is None or not 200 <= response.status_code < 300:
        return response
    if _is_stream(response):
        transform = ChatStream(guard) if kind == CHAT else ResponseStream(guard)
        return _with_stream(response, _AsyncFiltered(response, transform, guard))
    body = _decoded(await response.aread())
    check = _check_for(guard, kind, body)
    _out, body, asked = await _arun(check, guard)
    return _with_body(response, body) if asked else response


async def _arun(check: Check, guard: Guard) -> tuple[list[bytes], Any, bool]:
    out: list[bytes] = []
    asked = False
    try:
        item = next(check)
        while True:
            if isinstance(item, Ask):
                asked = True
                item = check.send([await guard.adecide(call) for call in item.calls])
            else:
                out.append(item)
                item = next(check)
    except StopIteration as stop:
        return out, stop.value, asked


class _AsyncFiltered(httpx2.AsyncByteStream):
    def __init__(self, response: httpx2.Response, transform: Any, guard: Guard) -> None:
        self.response, self.transform, self.guard = response, transform, guard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        events = Events()
        async for data in self.response.aiter_bytes():
            for block in events.feed(data):
                for out in (await _arun(self.transform.event(block), self.guard))[0]:
                    yield out
        for block in events.end():
            for out in (await _arun(self.transform.event(block), self.guard))[0]:
                yield out
        for out in (await _arun(self.transform.close(), self.guard))[0]:
            yield out

    async def aclose(self) -> None:
        await self.response.aclose()
