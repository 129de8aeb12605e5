"""Added latency per ``tools/call`` through the MCP gateway, against the upstream directly.

The upstream is ``tests/mcp_upstream.py`` (an SDK ``MCPServer`` on SQLite); the client is
the SDK's own. Over stdio the client starts the upstream, or the gateway which starts the
upstream; over HTTP the upstream serves Streamable HTTP and the gateway sits in front of
it. "in-process" reaches the gateway's handler in memory, so it shows what the gateway
adds without the second process hop. The call is ``run_sql("SELECT 1")``: checked by the
SQL classifier, and either exempt from redaction (a call that needs none) or redacted
(Presidio patterns on its output).

Direct and gateway calls alternate, so a busy machine slows both alike; the medians and
their ratio come from the same run.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/adapters_mcp.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import mcp_types as types  # noqa: E402
import yaml  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp.shared._httpx_utils import create_mcp_http_client  # noqa: E402

from adapters.mcp import Gateway, UpstreamSpec  # noqa: E402
from adapters.mcp.guard import check_call, redact_result  # noqa: E402
from firewall import Firewall, Principal, load_policy  # noqa: E402
from tests.mcp_support import (  # noqa: E402
    free_port,
    gateway_params,
    make_shop,
    start,
    stop,
    upstream_params,
)

CALLS = 300
WARMUP = 30
TOKEN = "bench-token"
ARGUMENTS = {"query": "SELECT 1"}
NAMES = ["run_sql", "shop.run_sql"]  # the name over stdio, and under the HTTP gateway

Opener = Callable[[], AbstractAsyncContextManager[Client]]


def policy(directory: Path, exempt: bool) -> Path:
    text = {
        "name": "bench",
        "default": "deny",
        "tools": {name: {"classify": {"classifier": "sql", "argument": "query"}} for name in NAMES},
        "rules": [{"id": "reads", "match": {"only_intents": ["data.read"]}, "verdict": "allow"}],
        "redaction": {"ner": False, "exempt_tools": NAMES if exempt else []},
    }
    path = directory / f"policy-{'exempt' if exempt else 'redacted'}.yaml"
    path.write_text(yaml.safe_dump(text))
    return path


async def paired(direct: Opener, gateway: Opener, gateway_name: str) -> tuple[float, float]:
    """Median milliseconds of one call, direct and through the gateway, alternating."""
    async with direct() as plain, gateway() as guarded:
        calls = [(plain, "run_sql"), (guarded, gateway_name)]
        samples: list[list[float]] = [[], []]
        for round_ in range(WARMUP + CALLS):
            for index, (client, name) in enumerate(calls):
                started = time.perf_counter()
                result = await client.call_tool(name, ARGUMENTS)
                elapsed = (time.perf_counter() - started) * 1000
                if result.is_error:
                    raise RuntimeError(f"the benchmark call failed: {result.content}")
                if round_ >= WARMUP:
                    samples[index].append(elapsed)
        return statistics.median(samples[0]), statistics.median(samples[1])


def stdio_client(params) -> Opener:
    return lambda: Client(params, cache=None)


def http_client(url: str, token: str | None = None) -> Opener:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def opener() -> Client:
        http = create_mcp_http_client(headers=headers)
        return Client(streamable_http_client(url, http_client=http), cache=None)

    return opener


def in_process(policy_file: Path, upstream: UpstreamSpec) -> Opener:
    class Opened:
        async def __aenter__(self) -> Client:
            self.stack = AsyncExitStack()
            gateway = Gateway(Firewall(load_policy(policy_file)), upstream)
            await self.stack.enter_async_context(gateway)
            return await self.stack.enter_async_context(Client(gateway.server, cache=None))

        async def __aexit__(self, *exc) -> None:
            await self.stack.aclose()

    return Opened


async def firewall_share(policy_file: Path) -> float:
    """Median milliseconds of the gateway's firewall stages alone: check, then redaction."""
    firewall = Firewall(load_policy(policy_file))
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text="[[1]]")],
        structured_content={"result": "[[1]]"},
    )
    principal = Principal(id="bench")
    samples = []
    for round_ in range(WARMUP + CALLS):
        started = time.perf_counter()
        call, _ = await check_call(
            firewall, "run_sql", ARGUMENTS, principal=principal, session="s", context={}
        )
        await redact_result(firewall, call, result, session="s", output_schema=None)
        if round_ >= WARMUP:
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    rows: list[tuple[str, float, float]] = []
    shares: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as name:
        base = Path(name)
        shop = make_shop(base / "shop")
        direct = stdio_client(upstream_params(shop))
        spec = UpstreamSpec(name="shop", command=sys.executable, args=tuple(shop.upstream_args()))
        for exempt in (True, False):
            label = "no redaction" if exempt else "redacted"
            shares[label] = anyio.run(firewall_share, policy(base, exempt))
            gateway = stdio_client(gateway_params(shop, policy=policy(base, exempt)))
            rows.append((f"stdio, {label}", *anyio.run(paired, direct, gateway, "run_sql")))
            gateway = in_process(policy(base, exempt), spec)
            rows.append((f"in-process, {label}", *anyio.run(paired, direct, gateway, "run_sql")))

        port = free_port()
        upstream = start(
            [sys.executable, *shop.upstream_args(), "--http", str(port)], port, base / "up.log"
        )
        try:
            url = f"http://127.0.0.1:{port}/mcp"
            config = base / "gateway.yaml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "servers": {"shop": {"url": url}},
                        "principals": [{"id": "bench", "token": TOKEN}],
                    }
                )
            )
            for exempt in (True, False):
                gateway_port = free_port()
                command = [sys.executable, "-m", "firewall.cli", "mcp-proxy"]
                command += ["--policy", str(policy(base, exempt)), "--config", str(config)]
                command += ["--listen", f"127.0.0.1:{gateway_port}"]
                gateway_process = start(command, gateway_port, base / "gateway.log")
                try:
                    gateway = http_client(f"http://127.0.0.1:{gateway_port}/mcp", TOKEN)
                    medians = anyio.run(paired, http_client(url), gateway, "shop.run_sql")
                finally:
                    stop(gateway_process)
                rows.append((f"HTTP, {'no redaction' if exempt else 'redacted'}", *medians))
        finally:
            stop(upstream)

    print(f"MCP gateway: median per tools/call, {CALLS} calls each, alternating (ms)")
    print(f"  {'transport, output':<26} {'direct':>8} {'gateway':>8} {'added':>8} {'ratio':>6}")
    for label, direct_ms, gateway_ms in rows:
        print(
            f"  {label:<26} {direct_ms:>8.2f} {gateway_ms:>8.2f} "
            f"{gateway_ms - direct_ms:>8.2f} {gateway_ms / direct_ms:>5.2f}x"
        )
    print("  of which the firewall's stages (check + redaction), in process:")
    for label, share in shares.items():
        print(f"    {label:<24} {share:>8.3f}")


if __name__ == "__main__":
    main()
