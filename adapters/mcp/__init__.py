"""MCP gateway: the firewall in front of any MCP server, and a guard for your own.

``Gateway`` is an MCP server (stdio or Streamable HTTP) whose tools are those of its
upstream servers, each call checked and each result redacted; ``guard_server`` does the
same inside a server built with the SDK. Needs the ``mcp`` extra.
"""

from adapters.mcp.approval import ClientApprover
from adapters.mcp.config import GatewayConfig, load_config
from adapters.mcp.gateway import Gateway
from adapters.mcp.inprocess import guard_server
from adapters.mcp.upstream import UpstreamSpec

__all__ = [
    "ClientApprover",
    "Gateway",
    "GatewayConfig",
    "UpstreamSpec",
    "guard_server",
    "load_config",
]
