"""A local HTTP server that speaks the OpenAI API (JSON and server-sent events).

It answers each request with the next scripted reply and keeps every request body it
received, so a test can check both what the caller got and what left the process.
Replies are built from the API's own shapes (chat completions, chunks, responses, events).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: a JSON body or a list of SSE events ``(event name, data)``."""

    body: Any = None
    events: list[tuple[str | None, Any]] | None = None
    status: int = 200
    #: Streams: wait for ``gate`` (set by the test) before sending event ``gate_at``.
    gate: threading.Event | None = None
    gate_at: int = 0


@dataclass
class FakeAPI:
    """The server's state: the script, and what it received."""

    replies: list[Reply | Callable[[dict], Reply]] = field(default_factory=list)
    received: list[tuple[str, dict]] = field(default_factory=list)
    repeat: Reply | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, path: str, body: dict) -> Reply:
        with self.lock:
            self.received.append((path, body))
            if self.replies:
                reply = self.replies.pop(0)
            elif self.repeat is not None:
                reply = self.repeat
            else:
                return Reply({"error": {"message": "no scripted reply"}}, status=500)
        return reply(body) if callable(reply) else reply

    def bodies(self) -> list[dict]:
        return [body for _, body in self.received]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # replies in one go, no delayed-ACK stalls
    api: FakeAPI

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self, body: dict) -> None:
        reply = self.api.next_reply(self.path, body)
        if reply.events is None:
            data = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(reply.status)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for number, (name, data) in enumerate(reply.events):
            if reply.gate is not None and number == reply.gate_at and not reply.gate.wait(10):
                self.close_connection = True  # the client never saw what came before
                return
            text = data if isinstance(data, str) else json.dumps(data)
            block = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
            raw = block.encode()
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        self._answer(json.loads(raw or b"{}"))

    def do_GET(self) -> None:
        self._answer({})


class Server:
    """``with Server() as api:`` -> ``api.url`` (base URL for the client), ``api.state``."""

    def __init__(self) -> None:
        self.state = FakeAPI()
        handler = type("Handler", (_Handler,), {"api": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client hanging up
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- chat completions ----------------------------------------------------------------------


def function_call(call_id: str, name: str, arguments: dict | str) -> dict:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}


def completion(*choices: dict, id: str = "chatcmpl-1") -> dict:
    """A chat completion; each choice is ``message(...)``'s output."""
    return {
        "id": id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "gpt-test",
        "choices": [{**c, "index": i} for i, c in enumerate(choices)],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def message(content: str | None = None, tool_calls: list[dict] | None = None) -> dict:
    body: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        body["tool_calls"] = tool_calls
    return {
        "message": body,
        "finish_reason": "tool_calls" if tool_calls else "stop",
        "logprobs": None,
    }


def chunks(
    content: str = "", tool_calls: list[dict] | None = None, *, usage: bool = True, split: int = 7
) -> list[tuple[None, Any]]:
    """The chunks the API streams for one choice: text first, then each call in pieces."""
    base = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-test",
    }

    def chunk(delta: dict, finish: str | None = None) -> tuple[None, dict]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return None, {**base, "choices": [choice]}

    out = [chunk({"role": "assistant", "content": ""})]
    for i in range(0, len(content), split):
        out.append(chunk({"content": content[i : i + split]}))
    for index, call in enumerate(tool_calls or ()):
        function = call["function"]
        out.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": function["name"], "arguments": ""},
                        }
                    ]
                }
            )
        )
        text = function["arguments"]
        for i in range(0, len(text), split):
            piece = {"index": index, "function": {"arguments": text[i : i + split]}}
            out.append(chunk({"tool_calls": [piece]}))
    out.append(chunk({}, "tool_calls" if tool_calls else "stop"))
    if usage:
        out.append(
            (
                None,
                {
                    **base,
                    "choices": [],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
                },
            )
        )
    out.append((None, "[DONE]"))
    return out


# -- responses -----------------------------------------------------------------------------


def fc_item(call_id: str, name: str, arguments: dict | str, item_id: str | None = None) -> dict:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "type": "function_call",
        "id": item_id or f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": text,
        "status": "completed",
    }


def text_item(text: str, item_id: str = "msg_1") -> dict:
    return {
        "type": "message",
        "id": item_id,
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def response(*items: dict, id: str = "resp_1") -> dict:
    return {
        "id": id,
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-test",
        "output": list(items),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 5,
            "output_tokens": 5,
            "total_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def response_events(*items: dict, id: str = "resp_1", split: int = 7) -> list[tuple[str, dict]]:
    """The events the API streams for a response with these output items."""
    out: list[tuple[str, dict]] = []

    def add(kind: str, **data: Any) -> None:
        out.append((kind, {"type": kind, "sequence_number": len(out), **data}))

    started = {**response(id=id), "status": "in_progress", "output": []}
    add("response.created", response=started)
    add("response.in_progress", response=started)
    for index, item in enumerate(items):
        if item["type"] == "function_call":
            add(
                "response.output_item.added",
                output_index=index,
                item={**item, "arguments": "", "status": "in_progress"},
            )
            text = item["arguments"]
            for i in range(0, len(text), split):
                add(
                    "response.function_call_arguments.delta",
                    output_index=index,
                    item_id=item["id"],
                    delta=text[i : i + split],
                )
            add(
                "response.function_call_arguments.done",
                output_index=index,
                item_id=item["id"],
                arguments=text,
                name=item["name"],
            )
            add("response.output_item.done", output_index=index, item=item)
        else:
            text = item["content"][0]["text"]
            add(
                "response.output_item.added",
                output_index=index,
                item={**item, "content": [], "status": "in_progress"},
            )
            part = {"type": "output_text", "text": "", "annotations": []}
            add(
                "response.content_part.added",
                output_index=index,
                item_id=item["id"],
                content_index=0,
                part=part,
            )
            for i in range(0, len(text), split):
                add(
                    "response.output_text.delta",
                    output_index=index,
                    item_id=item["id"],
                    content_index=0,
                    delta=text[i : i + split],
                    logprobs=[],
                )
            add(
                "response.output_text.done",
                output_index=index,
                item_id=item["id"],
                content_index=0,
                text=text,
                logprobs=[],
            )
            add(
                "response.content_part.done",
                output_index=index,
                item_id=item["id"],
                content_index=0,
                part={**part, "text": text},
            )
            add("response.output_item.done", output_index=index, item=item)
    add("response.completed", response=response(*items, id=id))
    return out
