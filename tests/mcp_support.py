"""Helpers of the MCP gateway tests: the shop's files, the processes, time limits."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import StdioServerParameters

from tests.mcp_upstream import create_database

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "tests" / "mcp_upstream.py"
POLICY = ROOT / "tests" / "data" / "mcp" / "policy.yaml"
#: No test may take longer than this (seconds): a hang fails instead of blocking CI.
LIMIT = 90.0

MARIA_EMAIL = "maria.gonzalez@example.org"
MARIA_PHONE = "+1 415-555-0134"


@dataclass
class Shop:
    """One test's shop: its database, its document folder and the mail outbox."""

    db: Path
    docs: Path

    @property
    def outbox(self) -> list[dict[str, Any]]:
        path = self.docs / "outbox.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def count(self, table: str) -> int:
        with sqlite3.connect(self.db) as connection:
            return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def tables(self) -> set[str]:
        with sqlite3.connect(self.db) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {row[0] for row in rows}

    def upstream_args(self) -> list[str]:
        return [str(UPSTREAM), "--db", str(self.db), "--root", str(self.docs)]


def make_shop(directory: Path) -> Shop:
    directory.mkdir(parents=True, exist_ok=True)
    docs = directory / "docs"
    docs.mkdir()
    (docs / "terms.txt").write_text("Returns are accepted within 30 days.\n")
    (directory / "secret.txt").write_text("the vault code is 1234\n")
    db = directory / "shop.db"
    create_database(db)
    return Shop(db=db, docs=docs)


def env() -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "")}


def upstream_params(shop: Shop) -> StdioServerParameters:
    """The upstream server itself, to compare with what the gateway shows."""
    return StdioServerParameters(command=sys.executable, args=shop.upstream_args(), env=env())


def gateway_params(shop: Shop, *options: str, policy: Path = POLICY) -> StdioServerParameters:
    """``firewall mcp-proxy`` over stdio in front of the shop's upstream server."""
    args = ["-m", "firewall.cli", "mcp-proxy", "--policy", str(policy), *options]
    args += ["--", sys.executable, *shop.upstream_args()]
    return StdioServerParameters(command=sys.executable, args=args, env=env())


def run(scenario: Callable[[], Awaitable[None]], limit: float = LIMIT) -> None:
    """Run an async scenario under a hard time limit."""

    async def bounded() -> None:
        with anyio.fail_after(limit):
            await scenario()

    anyio.run(bounded)


def text(result: types.CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(args: list[str], port: int, log: Path, limit: float = 60.0) -> subprocess.Popen[bytes]:
    """Start a process that serves HTTP on ``port``; wait until it accepts connections."""
    out = open(log, "wb")  # noqa: SIM115 - closed with the process by the caller's stop()
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env())
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{args} did not listen on {port} within {limit} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
