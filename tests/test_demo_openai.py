"""The demo with a real model: ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` send the agent's
turns to an OpenAI-compatible server (here one on loopback that plays the model), and
what leaves for the model provider holds placeholders, never the customer's data."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from firewall.demo import main
from firewall.export.jsonl import read_trace

LOOKUP = "SELECT name, email FROM customers WHERE id = 2"


class ModelServer(ThreadingHTTPServer):
    requests: list[dict[str, Any]]


class PlaysTheModel(BaseHTTPRequestHandler):
    """``/v1/chat/completions``: first a tool call, then, once it saw the result, an answer."""

    server: ModelServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, **body})
        if not self.path.endswith("/chat/completions") or body.get("stream"):
            self.send_error(404, "only non-streaming chat completions")
            return
        if not any(m["role"] == "tool" for m in body["messages"]):
            call = {"name": "run_sql", "arguments": json.dumps({"query": LOOKUP})}
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_lookup", "type": "function", "function": call}],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": "Customer 2 is <PERSON_1>."}
            finish = "stop"
        reply = {
            "id": f"chatcmpl-{len(self.server.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    server = ModelServer(("127.0.0.1", 0), PlaysTheModel)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_real_model_plays_the_agent_when_an_api_key_is_set(
    model_server, tmp_path, monkeypatch, capsys
):
    host, port = model_server.server_address[:2]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://{host}:{port}/v1")
    monkeypatch.setenv("OPENAI_MODEL", "shop-model")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    assert main(["--out", str(tmp_path)]) == 0
    requests = model_server.requests
    assert [r["model"] for r in requests] == ["shop-model", "shop-model"]
    offered = {t["function"]["name"] for t in requests[0]["tools"]}
    assert offered == {"run_sql", "read_email", "send_email", "send_money", "run_shell"}
    # The model provider got the query result with placeholders, not the customer's data.
    shown = json.dumps(requests[1]["messages"])
    assert "<EMAIL_ADDRESS_1>" in shown and "<PERSON_1>" in shown
    assert "dana.whitfield@mailbox.test" not in shown and "Dana Whitfield" not in shown
    calls = [e for e in read_trace(tmp_path / "trace.jsonl") if e["type"] == "call"]
    assert [(c["tool"], c["verdict"]) for c in calls] == [("run_sql", "allow")]
    assert "1 call: 1 allowed, 0 denied" in capsys.readouterr().out


def test_scripted_flag_keeps_the_script_with_a_key_set(model_server, tmp_path, monkeypatch):
    host, port = model_server.server_address[:2]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://{host}:{port}/v1")
    assert main(["--scripted", "--out", str(tmp_path)]) == 0
    assert model_server.requests == []


def test_an_unreachable_model_is_a_clear_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    assert main(["--out", str(tmp_path)]) == 1
    assert "demo: the model failed:" in capsys.readouterr().err
