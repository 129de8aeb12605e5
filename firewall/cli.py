"""The ``firewall`` command: check and explain calls, lint and test policies.

Exit codes a script can rely on: 0 allow (or success), 1 deny (or failed tests),
2 approval needed, 3 bad input (unreadable policy, arguments that are not JSON, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from firewall.cli_audit import add_commands as add_audit_commands
from firewall.cli_mcp import add_commands as add_mcp_commands
from firewall.engine import Firewall
from firewall.errors import PolicyError
from firewall.explain import explain
from firewall.model import Principal, ToolCall, Verdict
from firewall.policy import Policy, load_policy, policy_json_schema
from firewall.policytest import run_policy_tests

EXIT_ALLOW, EXIT_DENY, EXIT_APPROVAL, EXIT_BAD_INPUT = 0, 1, 2, 3
_EXIT_BY_VERDICT = {
    Verdict.ALLOW: EXIT_ALLOW,
    Verdict.DENY: EXIT_DENY,
    Verdict.REQUIRE_APPROVAL: EXIT_APPROVAL,
}


class BadInput(Exception):
    """Input the command cannot use; reported on stderr with exit code 3."""


class Style:
    """ANSI colour on a terminal, plain text when piped or when NO_COLOR is set."""

    _CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}

    def __init__(self, stream: TextIO) -> None:
        self.enabled = stream.isatty() and "NO_COLOR" not in os.environ

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        codes = ";".join(self._CODES[s] for s in styles)
        return f"\033[{codes}m{text}\033[0m"

    def verdict(self, verdict: Verdict) -> str:
        colour = {Verdict.ALLOW: "green", Verdict.DENY: "red"}.get(verdict, "yellow")
        return self(verdict.label.upper(), colour, "bold")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return args.run(args)
    except (BadInput, PolicyError) as exc:
        print(f"firewall: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader (e.g. `head`) went away: not an error of ours
        sys.stderr.close()
        return EXIT_ALLOW
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        # Never a traceback, and never exit 1 (which a script reads as "deny").
        print(f"firewall: cannot use this input: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firewall", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    check = commands.add_parser("check", help="decide one tool call (exit 0/1/2, 3 on bad input)")
    _add_call_arguments(check)
    check.add_argument("--json", action="store_true", help="print the decision as JSON")
    check.set_defaults(run=_run_check)

    explain_cmd = commands.add_parser("explain", help="show which rules matched a call and why")
    _add_call_arguments(explain_cmd)
    explain_cmd.set_defaults(run=_run_explain)

    policy = commands.add_parser("policy", help="lint, test or describe policy files")
    policy_commands = policy.add_subparsers(title="policy commands", metavar="COMMAND")
    lint = policy_commands.add_parser("lint", help="load policies and report every problem")
    lint.add_argument("files", nargs="+")
    lint.set_defaults(run=_run_lint)
    test = policy_commands.add_parser("test", help="run the tests a policy carries")
    test.add_argument("files", nargs="+")
    test.set_defaults(run=_run_policy_test)
    schema = policy_commands.add_parser("schema", help="print the JSON Schema of policy files")
    schema.set_defaults(run=_run_schema)
    add_audit_commands(commands)
    add_mcp_commands(commands)
    return parser


def _add_call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", required=True, help="policy YAML file")
    parser.add_argument("--tool", required=True, help="tool name")
    parser.add_argument("--args", default="{}", help="tool arguments as a JSON object")
    parser.add_argument("--principal", default="anonymous", help="principal id")
    parser.add_argument("--kind", default="agent", choices=["human", "agent", "service"])
    parser.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    parser.add_argument("--context", default="{}", help="context as a JSON object")


def _call_from(args: argparse.Namespace) -> tuple[Policy, ToolCall, Principal, dict[str, Any]]:
    policy = load_policy(args.policy)
    arguments = _json_object(args.args, "--args")
    context = _json_object(args.context, "--context")
    call = ToolCall(name=args.tool, arguments=arguments)
    principal = Principal(id=args.principal, kind=args.kind, roles=tuple(args.role))
    return policy, call, principal, context


#: Deeper JSON than this is refused: no tool argument needs it, and recursion elsewhere would.
MAX_JSON_DEPTH = 100


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{option} is not valid UTF-8 text") from None
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise BadInput(f"{option} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadInput(f"{option} must be a JSON object")
    return value


def _nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside strings, in one linear pass before parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _run_check(args: argparse.Namespace) -> int:
    policy, call, principal, context = _call_from(args)
    evaluation = Firewall(policy).evaluate(call, principal, context)
    verdict = evaluation.policy_verdict
    out = sys.stdout
    if args.json:
        payload = {
            "verdict": verdict.label,
            "tool": call.name,
            "intents": list(evaluation.intents),
            "facts": evaluation.facts,
            "reasons": [
                {
                    "rule": r.rule_id,
                    "verdict": r.verdict.label,
                    "message": r.message,
                    "matched": r.matched,
                    "monitor_only": r.monitor_only,
                }
                for r in evaluation.reasons
            ],
            "errors": evaluation.errors,
            "policy": {"name": policy.name, "version": policy.version, "mode": policy.mode},
            "call_hash": evaluation.fingerprint,
        }
        json.dump(payload, out, indent=2, default=str)
        out.write("\n")
    else:
        style = Style(out)
        mode = (
            "" if policy.mode == "enforce" else style(" (monitor mode: nothing is blocked)", "dim")
        )
        out.write(
            f"{style.verdict(verdict)}  {call.name}  policy {policy.name} v{policy.version}{mode}\n"
        )
        out.write(f"  intents: {', '.join(evaluation.intents) or '(none)'}\n")
        for reason in evaluation.reasons:
            tag = " [monitor]" if reason.monitor_only else ""
            out.write(f"  - {reason.rule_id} -> {reason.verdict.label}{tag}")
            out.write(f": {reason.message}\n" if reason.message else "\n")
        for error in evaluation.errors:
            out.write(style(f"  ! {error}\n", "red"))
    return _EXIT_BY_VERDICT[verdict]


def _run_explain(args: argparse.Namespace) -> int:
    policy, call, principal, context = _call_from(args)
    explanation = explain(Firewall(policy), call, principal, context)
    out = sys.stdout
    style = Style(out)
    evaluation = explanation.evaluation
    out.write(f"{style.verdict(evaluation.policy_verdict)}  {call.name}\n")
    out.write(f"  intents: {', '.join(evaluation.intents) or '(none)'}\n")
    if evaluation.facts:
        out.write(f"  facts: {json.dumps(evaluation.facts, default=str)}\n")
    for trace in explanation.rules:
        mark = style("matched", "bold") if trace.matched else style("no match", "dim")
        out.write(f"  {trace.rule_id} ({trace.verdict.label}): {mark}: {trace.why}\n")
    if not any(t.matched and not t.monitor_only for t in explanation.rules):
        out.write(f"  no rule matched: the default verdict is {policy.default.label}\n")
    return _EXIT_BY_VERDICT[evaluation.policy_verdict]


def _run_lint(args: argparse.Namespace) -> int:
    status = EXIT_ALLOW
    for path in args.files:
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            print(f"{exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(
            f"{path}: ok ({len(policy.rules)} rules, {len(policy.tools)} tools, "
            f"{len(policy.tests)} tests, default {policy.default.label}, mode {policy.mode})"
        )
        for warning in policy.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return status


def _run_policy_test(args: argparse.Namespace) -> int:
    out = sys.stdout
    style = Style(out)
    failed = total = 0
    for path in args.files:
        policy = load_policy(path)
        results = run_policy_tests(policy)
        total += len(results)
        for result in results:
            if result.passed:
                out.write(f"{style('PASS', 'green')}  {path}: {result.name}\n")
                continue
            failed += 1
            out.write(
                f"{style('FAIL', 'red', 'bold')}  {path}: {result.name}: expected "
                f"{result.expected.label}, got {result.got.label} (rules: "
                f"{', '.join(result.rules)})\n"
            )
            if result.missing_rules:
                out.write(
                    f"      expected rules that did not match: {', '.join(result.missing_rules)}\n"
                )
            for error in result.errors:
                out.write(f"      ! {error}\n")
        if not results:
            out.write(f"{path}: no tests\n")
    out.write(f"{total - failed} passed, {failed} failed\n")
    return EXIT_DENY if failed else EXIT_ALLOW


def _run_schema(args: argparse.Namespace) -> int:
    json.dump(policy_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_ALLOW


if __name__ == "__main__":
    raise SystemExit(main())
