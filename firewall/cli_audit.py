"""``firewall audit verify|head`` and ``firewall replay``: commands over logs and traces.

Exit codes: ``audit verify`` 0 when the chain is intact, 1 when tampering is found.
``replay`` 0 by default; with ``--fail-on-change`` 1 when any verdict would change
(for CI gates on policy changes). 3 on bad input, as the other commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_BAD_INPUT = 3


def add_commands(commands: Any) -> None:
    """Register ``audit`` and ``replay`` on the main parser's subcommands."""
    audit = commands.add_parser("audit", help="verify a tamper-evident audit log")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain; say which records were changed, deleted, ..."
    )
    verify.add_argument("log", help="SQLite file or postgresql:// URL")
    verify.add_argument("--expect-head", help="the head hash kept elsewhere (catches truncation)")
    verify.add_argument("--table", help="PostgreSQL table (default firewall_audit)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_run_verify)
    head = audit_commands.add_parser("head", help="print the last record's number and hash")
    head.add_argument("log")
    head.add_argument("--table")
    head.set_defaults(run=_run_head)

    replay = commands.add_parser(
        "replay", help="re-evaluate recorded calls under another policy; print what changes"
    )
    replay.add_argument("source", metavar="LOG_OR_TRACE", help="audit log or JSONL trace")
    replay.add_argument("--policy", required=True, help="the policy to try")
    replay.add_argument("--table", help="PostgreSQL table of an audit log")
    replay.add_argument(
        "--fail-on-change", action="store_true", help="exit 1 when a verdict changes"
    )
    replay.add_argument("--json", action="store_true", help="print the changes as JSON")
    replay.set_defaults(run=_run_replay)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"table": args.table} if getattr(args, "table", None) else {}


def _run_verify(args: argparse.Namespace) -> int:
    from firewall.audit import verify

    try:
        report = verify(args.log, expect_head=args.expect_head, **_options(args))
    except Exception as exc:
        print(f"firewall: cannot read {args.log}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        payload = {
            "ok": report.ok,
            "records": report.records,
            "head_seq": report.head_seq,
            "head_hash": report.head_hash,
            "valid_until": report.valid_until,
            "problems": [
                {"kind": p.kind, "seq": p.seq, "detail": p.detail} for p in report.problems
            ],
        }
        print(json.dumps(payload, indent=2))
    elif report.ok:
        print(f"ok: {report.records} records, head {report.head_seq} {report.head_hash}")
    else:
        for problem in report.problems:
            print(problem)
        print(
            f"TAMPERED: {len(report.problems)} problem(s) in {report.records} records;"
            f" intact up to record {report.valid_until}"
        )
    return EXIT_OK if report.ok else EXIT_FOUND


def _run_head(args: argparse.Namespace) -> int:
    from firewall.audit import open_store

    with open_store(args.log, **_options(args)) as store:
        seq, digest = store.head()
    print(f"{seq} {digest}")
    return EXIT_OK


def _run_replay(args: argparse.Namespace) -> int:
    from firewall.policy import load_policy
    from firewall.replay import load_events, replay

    policy = load_policy(args.policy)
    try:
        report = replay(load_events(args.source, **_options(args)), policy)
    except (OSError, ValueError) as exc:
        print(f"firewall: cannot replay {args.source}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        payload = {
            "replayed": report.replayed,
            "skipped": report.skipped,
            "changes": [
                vars(c) | {"rules_before": list(c.rules_before), "rules_after": list(c.rules_after)}
                for c in report.changes
            ],
        }
        print(json.dumps(payload, indent=2))
    else:
        for change in report.changes:
            print(change)
        print(report.summary())
    return EXIT_FOUND if args.fail_on_change and report.changed else EXIT_OK
