"""The default policy against the shell corpora: no adversarial command line is allowed,
and everyday developer work mostly runs without waiting for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from firewall import Firewall, ToolCall, Verdict, load_policy
from firewall.intent.shell import classify

DATA = Path(__file__).parent / "data"
POLICY = Path(__file__).parent.parent / "policies" / "default.yaml"
FIREWALL = Firewall(load_policy(POLICY))


def adversarial() -> list[tuple[str, str]]:
    """(class, command line) for every line of the adversarial corpus."""
    out: list[tuple[str, str]] = []
    group = ""
    for line in (DATA / "shell_adversarial.txt").read_text("utf-8").splitlines():
        if line.startswith("## "):
            group = line[3:].split("|", 1)[0].strip()
        elif line.strip() and not line.startswith("#"):
            out.append((group, line))
    return out


def benign() -> list[str]:
    lines = (DATA / "shell_benign.txt").read_text("utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def verdict(command: str) -> Verdict:
    return FIREWALL.check(ToolCall(name="run_shell", arguments={"command": command})).verdict


def test_the_corpora_are_large_enough_and_grouped() -> None:
    lines = adversarial()
    assert len(lines) >= 300
    assert len(benign()) >= 150
    groups = {g for g, _ in lines}
    assert all(groups)
    assert len(groups) >= 9


@pytest.mark.parametrize(("group", "command"), adversarial())
def test_no_adversarial_command_is_allowed(group: str, command: str) -> None:
    assert verdict(command) != Verdict.ALLOW, (group, classify(command, {}).facts)


def test_at_least_ninety_percent_of_everyday_commands_are_allowed() -> None:
    lines = benign()
    allowed = [c for c in lines if verdict(c) == Verdict.ALLOW]
    share = len(allowed) / len(lines)
    held = sorted(set(lines) - set(allowed))
    assert share >= 0.90, held


@pytest.mark.parametrize(
    ("command", "part"),
    [
        ("gdb -ex '!sh'", "gdb: not in the program catalog"),
        ("git -c core.pager=less log", "git -c core.pager"),
        ("tar -xf a.tar --to-command=sh", "tar --to-command"),
        ("curl -x http://proxy.test https://github.com", "curl -x"),
        ("ssh -o ProxyCommand=nc host", "ssh -o ProxyCommand"),
        ("GIT_PAGER=sh git log", "sets GIT_PAGER"),
        ("trap 'id' EXIT", "trap: not in the program catalog"),
    ],
)
def test_the_fact_names_the_part_not_understood(command: str, part: str) -> None:
    result = classify(command, {})
    assert "unknown" in result.intents
    assert part in result.facts["not_understood"]


def test_paths_resolve_after_cd_and_globs_match_sensitive_names() -> None:
    assert "ssh" in classify("cd ~/.ssh && cat config", {}).facts["sensitive"]
    assert "dotenv" in classify("cat .e?v", {}).facts["sensitive"]
    assert classify("cd src && cat main.py", {}).facts["reads_paths"] == ["src/main.py"]


def test_printing_the_environment_reads_secrets() -> None:
    for command in ("env", "printenv", "export -p", "set", "declare -p"):
        facts = classify(command, {}).facts
        assert facts["reads_environment"], command
        assert "environment" in facts["sensitive"], command
    assert not classify("printenv PATH", {}).facts["reads_environment"]
