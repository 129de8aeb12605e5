"""What ``firewall mcp-proxy`` runs (arguments defined in ``firewall.cli_mcp``)."""

from __future__ import annotations

import argparse
import logging
import sys

import anyio

from adapters.mcp.approval import ClientApprover
from adapters.mcp.config import ConfigError, GatewayConfig, load_config
from adapters.mcp.gateway import Gateway
from adapters.mcp.upstream import UpstreamSpec
from firewall import DenyAllApprover, Firewall, Principal, load_policy

EXIT_OK, EXIT_BAD_INPUT = 0, 3


def run(args: argparse.Namespace) -> int:
    # stdout carries the protocol in stdio mode: every message of ours goes to stderr.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="firewall: %(message)s")
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    try:
        gateway, listen, config = _build(args)
    except (ConfigError, ValueError) as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if listen is None:
            anyio.run(gateway.run_stdio)
        else:
            from adapters.mcp.http import serve_http

            host, port = listen
            anyio.run(serve_http, gateway, config.identities(), host, port)
    except ConfigError as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _build(args: argparse.Namespace) -> tuple[Gateway, tuple[str, int] | None, GatewayConfig]:
    policy = load_policy(args.policy)
    config = load_config(args.config) if args.config else GatewayConfig()
    specs = config.upstreams()
    command = list(args.upstream or [])
    if command and command[0] == "--":
        command = command[1:]
    if command and specs:
        raise ConfigError("give the upstream server after -- or in the --config servers, not both")
    if command:
        specs = [_spec_for(command, args.timeout)]
    if not specs:
        raise ConfigError("no upstream server: add -- COMMAND ARGS (or -- URL), or --config")
    sinks = []
    if args.audit:
        from firewall.audit import AuditSink

        sinks.append(AuditSink(args.audit))
    approver = ClientApprover() if args.approvals == "client" else DenyAllApprover()
    firewall = Firewall(policy, approver=approver, sinks=sinks)
    principal = Principal(id=args.principal, kind=args.kind, roles=tuple(args.role))
    listen = _listen_address(args.listen) if args.listen else None
    if listen is not None and config.identities().empty:
        raise ConfigError(
            "--listen needs --config with principals holding tokens: "
            "an HTTP gateway never serves unknown callers"
        )
    # Servers of a configuration file are always namespaced: names do not change with their count.
    gateway = Gateway(firewall, specs, principal=principal, namespaced=bool(config.servers))
    return gateway, listen, config


def _spec_for(command: list[str], timeout: float) -> UpstreamSpec:
    if len(command) == 1 and command[0].startswith(("http://", "https://")):
        return UpstreamSpec(name="upstream", url=command[0], timeout=timeout)
    return UpstreamSpec(
        name="upstream", command=command[0], args=tuple(command[1:]), timeout=timeout
    )


def _listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--listen wants HOST:PORT, got '{text}'")
    return host.strip("[]"), int(port)
