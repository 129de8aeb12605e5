"""``firewall audit verify|head`` and ``firewall replay``: commands over logs and traces.

Exit codes: ``audit verify`` 0 when the chain is intact, 1 when tampering is found, 3 when
the log is missing or cannot be checked (a keyed log without its key, a bad key file).
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
    verify.add_argument(
        "--key-file",
        action="append",
        default=[],
        help="chain key file (repeat for rotated keys; default: $FIREWALL_AUDIT_KEY[_FILE])",
    )
    verify.add_argument("--checkpoints", help="file of signed checkpoints kept outside the log")
    verify.add_argument("--key", dest="public_key", help="checkpoint verifier key (text or file)")
    verify.add_argument("--table", help="PostgreSQL table (default firewall_audit)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(run=_run_verify)
    keygen = audit_commands.add_parser(
        "keygen", help="write a chain key and a checkpoint signing key pair into a folder"
    )
    keygen.add_argument("folder")
    keygen.add_argument("--name", default="toolcall-firewall", help="checkpoint key name")
    keygen.set_defaults(run=_run_keygen)
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
    from firewall.audit import AuditLogMissing, KeyRequired, verify
    from firewall.audit.checkpoint import CheckpointError
    from firewall.audit.keys import AuditKeyError

    try:
        keys = _chain_keys(args.key_file)
        verifier = _verifier(args.public_key) if args.checkpoints else None
        report = verify(
            args.log,
            expect_head=args.expect_head,
            keys=keys,
            checkpoints=args.checkpoints,
            verifier=verifier,
            **_options(args),
        )
    except (AuditLogMissing, KeyRequired, AuditKeyError, CheckpointError) as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
            "keyed": report.keyed,
            "checkpointed": report.checkpointed,
            "problems": [
                {"kind": p.kind, "seq": p.seq, "detail": p.detail} for p in report.problems
            ],
        }
        print(json.dumps(payload, indent=2))
    elif report.ok:
        print(f"ok: {report.records} records, head {report.head_seq} {report.head_hash}")
        print(f"  {_coverage(report)}")
    else:
        for problem in report.problems:
            print(problem)
        print(
            f"TAMPERED: {len(report.problems)} problem(s) in {report.records} records;"
            f" intact up to record {report.valid_until}"
        )
    return EXIT_OK if report.ok else EXIT_FOUND


def _coverage(report: Any) -> str:
    """What an "ok" vouches for, in one line."""
    keyed = "keyed chain" if report.keyed else "unkeyed chain (anyone can rewrite it)"
    if report.checkpointed:
        return f"{keyed}; records 1-{report.checkpointed} match a signed checkpoint"
    return f"{keyed}; no checkpoint checked (a cut tail cannot be seen)"


def _chain_keys(files: list[str]) -> list[Any]:
    from firewall.audit.keys import ChainKey, key_from_environment

    if files:
        return [ChainKey.from_file(path) for path in files]
    key = key_from_environment()
    return [key] if key is not None else []


def _verifier(text: str | None) -> Any:
    from pathlib import Path

    from firewall.audit.checkpoint import CheckpointError, CheckpointVerifier

    if not text:
        raise CheckpointError("--checkpoints needs --key (the checkpoint verifier key)")
    candidate = Path(text)
    if "+" not in text or candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read verifier key {candidate}: {exc}") from None
    return CheckpointVerifier.from_text(text)


def _run_keygen(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from firewall.audit.checkpoint import CheckpointError, CheckpointSigner
    from firewall.audit.keys import ChainKey

    folder = Path(args.folder)
    try:
        signer = CheckpointSigner.generate(args.name)
    except CheckpointError as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    files = {
        "chain.key": ChainKey.generate().to_text(),
        "checkpoint.key": signer.text(),
        "checkpoint.pub": signer.verifier.text(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    if any((folder / name).exists() for name in files):
        print(f"firewall: {folder} already holds keys; not overwriting", file=sys.stderr)
        return EXIT_BAD_INPUT
    for name, text in files.items():
        path = folder / name
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if name.endswith(".pub") else 0o600
        )
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text + "\n")
    print(f"wrote {', '.join(files)} to {folder}")
    print("  keep chain.key and checkpoint.key secret; give checkpoint.pub to verifiers")
    return EXIT_OK


def _run_head(args: argparse.Namespace) -> int:
    from firewall.audit import AuditLogMissing, open_store

    try:
        with open_store(args.log, create=False, **_options(args)) as store:
            seq, digest = store.head()
    except (AuditLogMissing, OSError) as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
