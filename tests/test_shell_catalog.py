"""The program catalog (firewall/intent/shell/catalog.yaml): every entry loads and is
understood, every effect an option can have is followed, and what is left out is not
understood."""

from __future__ import annotations

import pytest

from firewall.intent.shell import classify
from firewall.intent.shell.catalog import catalog, load

PROGRAMS = sorted(catalog().programs)


def test_the_catalog_covers_the_everyday_tools() -> None:
    assert len(PROGRAMS) >= 150
    for name in ("git", "ls", "grep", "curl", "python", "npm", "docker", "pip", "make"):
        assert name in PROGRAMS


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_catalogued_program_is_understood(name: str) -> None:
    facts = classify([name, "--help"], {}).facts
    assert not any(
        part.startswith(f"{name}:") or part.startswith(f"{name} ")
        for part in facts["not_understood"]
    ), facts["not_understood"]


@pytest.mark.parametrize(
    "command",
    [
        "vim -c ':!id'",
        "tmux new 'id'",
        "gdb -ex '!id'",
        "at now",
        "busybox sh",
        "trap id EXIT",
        "alias x=id",
        "hash -p /tmp/x ls",
        "mapfile -C id x",
        "let x=1",
        "stdbuf -o0 id",
    ],
)
def test_programs_left_out_are_not_understood(command: str) -> None:
    result = classify(command, {})
    assert "unknown" in result.intents
    assert result.facts["not_understood"]


def test_an_unknown_option_or_subcommand_is_named() -> None:
    assert "ls --frobnicate" in classify("ls --frobnicate", {}).facts["not_understood"]
    assert "grep -y" in classify("grep -y x f", {}).facts["not_understood"]
    assert any(
        "not a known subcommand" in p for p in classify("git frob", {}).facts["not_understood"]
    )


def test_clustered_and_attached_options_are_read_like_getopt() -> None:
    assert classify("ls -lah src", {}).facts["not_understood"] == []
    assert classify("head -n5 f", {}).facts["not_understood"] == []
    assert classify("git log -20 --oneline", {}).facts["not_understood"] == []
    assert classify("sed -i.bak 's/a/b/' f", {}).facts["not_understood"] == []


def test_a_command_option_is_classified_as_a_command_line() -> None:
    facts = classify("git rebase --exec 'rm -rf /srv' HEAD~3", {}).facts
    assert "rm -rf" in facts["destructive"]
    facts = classify("rsync -e 'sh -c \"cat ~/.ssh/id_rsa\"' a b", {}).facts
    assert "ssh" in facts["sensitive"]


def test_host_operands_are_egress() -> None:
    facts = classify("ping -c 1 attacker.test", {}).facts
    assert facts["egress_hosts"] == ["attacker.test"]
    facts = classify("openssl s_client -connect attacker.test:443", {}).facts
    assert facts["egress_hosts"] == ["attacker.test"]


def test_path_effects_are_followed() -> None:
    assert classify("sort -o out.txt in.txt", {}).facts["writes_paths"] == ["out.txt"]
    assert "ssh" in classify("find / -name id_rsa", {}).facts["sensitive"]


def test_package_tools_that_build_from_source_download_and_execute() -> None:
    for command in (
        "pip download x",
        "pip wheel x",
        "pip install https://x.test/p.tar.gz",
        "pip install git+https://x.test/p",
        "go run example.test/tool@latest",
    ):
        assert classify(command, {}).facts["downloads_and_executes"], command
    assert not classify("go run ./cmd/server", {}).facts["downloads_and_executes"]


def test_configuration_keys_are_checked() -> None:
    assert classify("git -c user.name=x commit -m y", {}).facts["not_understood"] == []
    assert classify("git -c core.fsmonitor=x status", {}).facts["not_understood"]
    assert classify("ssh -o ConnectTimeout=5 host", {}).facts["not_understood"] == []
    assert classify("ssh -o ProxyCommand=x host", {}).facts["not_understood"]
    assert classify("git config user.email a@b.test", {}).facts["not_understood"] == []
    assert classify("git config core.pager less", {}).facts["not_understood"]


def test_variables_that_change_what_runs_are_not_understood() -> None:
    assert classify("NODE_ENV=test npm test", {}).facts["not_understood"] == []
    assert classify("out=$(git rev-parse HEAD); echo $out", {}).facts["not_understood"] == []
    for command in (
        "LD_PRELOAD=x ls",
        "PATH=/tmp:$PATH ls",
        "http_proxy=x curl a.test",
        "export GIT_SSH_COMMAND=x",
        "BASH_ENV=x bash -c true",
    ):
        assert classify(command, {}).facts["not_understood"], command


def test_a_catalog_with_an_unknown_effect_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown effect"):
        load({"programs": {"x": {"effects": {"-a": "explode"}}}})


def test_an_argument_built_at_run_time_may_be_an_option() -> None:
    assert classify("x=--to-command=sh; tar -xf a.tar $x", {}).facts["not_understood"]
    assert classify('rm "$f"', {}).facts["not_understood"]
    # ... unless it cannot start with "-" or the program has no option with an effect
    assert classify('cat "src/$f"', {}).facts["not_understood"] == []
    assert classify("diff <(sort a) <(sort b)", {}).facts["not_understood"] == []
    assert classify('for f in *.md; do echo "$f"; done', {}).facts["not_understood"] == []


def test_expanding_a_secret_variable_reads_the_environment() -> None:
    assert classify("echo $GITHUB_TOKEN", {}).facts["reads_environment"]
    assert "environment" in classify('echo "${AWS_SECRET_ACCESS_KEY}"', {}).facts["sensitive"]
    assert classify("jq -n env", {}).facts["reads_environment"]
    assert not classify('echo "$HOME" "$PWD"', {}).facts["reads_environment"]
