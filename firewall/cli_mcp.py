"""``firewall mcp-proxy``: the MCP gateway from the command line.

Only the arguments live here; the gateway (and the ``mcp`` SDK) is imported when the
command runs, so the rest of the command line works without the ``mcp`` extra.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_BAD_INPUT = 3


def add_commands(commands: Any) -> None:
    """Register ``mcp-proxy`` on the main parser's subcommands."""
    proxy = commands.add_parser(
        "mcp-proxy",
        help="serve MCP with the firewall in front of MCP servers (stdio or HTTP)",
        description=(
            "Start an upstream MCP server (-- COMMAND ARGS, or -- URL) or the servers of "
            "--config, and serve their tools over stdio (default) or Streamable HTTP "
            "(--listen), every call checked by the policy and every result redacted."
        ),
    )
    proxy.add_argument("--policy", required=True, help="policy YAML file")
    proxy.add_argument("--audit", help="audit log (SQLite file or postgresql:// URL)")
    proxy.add_argument("--config", help="gateway YAML: servers and principals (tokens)")
    proxy.add_argument("--listen", metavar="HOST:PORT", help="serve Streamable HTTP at /mcp")
    proxy.add_argument("--principal", default="anonymous", help="stdio: who calls (principal id)")
    proxy.add_argument("--kind", default="agent", choices=["human", "agent", "service"])
    proxy.add_argument("--role", action="append", default=[], help="stdio: a role (repeatable)")
    proxy.add_argument(
        "--approvals",
        choices=["client", "deny"],
        default="client",
        help="require_approval: ask the user through the client (elicitation), or deny",
    )
    proxy.add_argument("--timeout", type=float, default=300.0, help="seconds per upstream call")
    proxy.add_argument(
        "upstream",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND ARGS | -- URL",
        help="the upstream MCP server (when not given by --config)",
    )
    proxy.set_defaults(run=_run_proxy)


def _run_proxy(args: argparse.Namespace) -> int:
    try:
        from adapters.mcp.command import run
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in ("mcp", "mcp_types", "httpx2"):
            raise
        print(
            "firewall: mcp-proxy needs the MCP SDK: pip install 'toolcall-firewall[mcp]'",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return run(args)
