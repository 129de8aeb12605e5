"""The ``firewall`` command as a user runs it: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POLICIES

DEFAULT = str(POLICIES / "default.yaml")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "firewall.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "context", "code", "word"),
    [
        ("search_docs", {"query": "refunds"}, {}, 0, "ALLOW"),
        ("send_email", {"to": "x@evil.test"}, {"env": "production"}, 1, "DENY"),
        ("send_email", {"to": "x@evil.test"}, {"env": "staging"}, 2, "REQUIRE_APPROVAL"),
    ],
)
def test_check_exit_codes(tool, arguments, context, code, word):
    result = run(
        "check",
        "--policy",
        DEFAULT,
        "--tool",
        tool,
        "--args",
        json.dumps(arguments),
        "--context",
        json.dumps(context),
    )
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith(word)
    assert "\033[" not in result.stdout  # plain text when piped


def test_check_json_output():
    result = run(
        "check",
        "--policy",
        DEFAULT,
        "--tool",
        "send_email",
        "--args",
        '{"to": "x@evil.test"}',
        "--context",
        '{"env": "production"}',
        "--role",
        "support",
        "--json",
    )
    assert result.returncode == 1
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "deny"
    assert payload["intents"] == ["message.send", "network.egress"]
    assert "no-external-mail-in-production" in [r["rule"] for r in payload["reasons"]]
    assert payload["policy"]["name"] == "default"


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--policy", DEFAULT, "--tool", "x", "--args", "{not json"],
        ["check", "--policy", DEFAULT, "--tool", "x", "--args", "[1]"],
        ["check", "--policy", "/nonexistent/policy.yaml", "--tool", "x"],
        ["policy", "lint", "/nonexistent/policy.yaml"],
    ],
)
def test_bad_input_exits_3_with_a_message(args):
    result = run(*args)
    assert result.returncode == 3
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_explain_lists_every_rule_with_why():
    result = run(
        "explain",
        "--policy",
        DEFAULT,
        "--tool",
        "send_money",
        "--args",
        '{"recipient": "ACME", "amount": 5}',
        "--role",
        "finance",
    )
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert any("payments-need-approval" in line and "matched" in line for line in lines)
    assert any("large-payments-denied" in line and "condition is false" in line for line in lines)
    assert any("internal-mail-allowed" in line and "is not one of" in line for line in lines)


def test_policy_lint_and_test_on_the_shipped_packs():
    lint = run("policy", "lint", DEFAULT, str(POLICIES / "strict.yaml"))
    assert lint.returncode == 0, lint.stderr
    assert "ok (" in lint.stdout
    tested = run("policy", "test", DEFAULT, str(POLICIES / "strict.yaml"))
    assert tested.returncode == 0, tested.stdout
    assert " 0 failed" in tested.stdout.splitlines()[-1]


def test_policy_test_reports_a_failing_expectation(tmp_path: Path):
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "name: p\ndefault: deny\ntools: {t: {intents: [data.read]}}\n"
        "tests:\n  - name: reads are allowed\n    call: {name: t}\n    expect: allow\n"
    )
    result = run("policy", "test", str(policy))
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "reads are allowed" in result.stdout
    assert "expected allow, got deny" in result.stdout


def test_policy_lint_reports_file_rule_field(tmp_path: Path):
    policy = tmp_path / "bad.yaml"
    policy.write_text(
        "name: p\nrules:\n  - id: r\n    verdict: deny\n    message: m\n    when: x.y\n"
    )
    result = run("policy", "lint", str(policy))
    assert result.returncode == 3
    assert f"{policy}:6: rule 'r': field 'when'" in result.stderr


def test_policy_schema_is_json_schema():
    result = run("policy", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert {"name", "rules", "tools", "tests"} <= set(schema["properties"])
