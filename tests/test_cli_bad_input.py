"""Every bad input to the command line: exit 3 and one clear line, never a traceback.

Exit 1 means "deny" to a script, so a crash must never look like one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firewall.audit import AuditSink, ChainKey

from .conftest import POLICIES

DEFAULT = str(POLICIES / "default.yaml")


def run(*args: str | bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "firewall.cli", *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "PYTHONPATH": str(POLICIES.parent)},
    )


def assert_bad_input(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert words in lines[0]


def test_json_nested_20000_deep() -> None:
    deep = "[" * 20_000 + "]" * 20_000
    assert_bad_input(run("check", "--policy", DEFAULT, "--tool", "x", "--args", deep), "deeper")
    nested = '{"a":' * 20_000 + "1" + "}" * 20_000
    assert_bad_input(
        run("check", "--policy", DEFAULT, "--tool", "x", "--context", nested), "deeper"
    )


@pytest.mark.parametrize("option", ["--args", "--context"])
def test_non_utf8_bytes_in_arguments(option: str) -> None:
    result = run("check", "--policy", DEFAULT, "--tool", "x", option, b'{"a": "\xff\xfe"}')
    assert_bad_input(result, "UTF-8")


def test_binary_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_bytes(Path(sys.executable).read_bytes()[:4096])
    assert_bad_input(run("check", "--policy", str(policy), "--tool", "x"), "UTF-8")
    assert_bad_input(run("policy", "lint", str(policy)), "UTF-8")
    assert_bad_input(run("policy", "test", str(policy)), "UTF-8")


def test_empty_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("")
    assert_bad_input(run("check", "--policy", str(policy), "--tool", "x"), "mapping")


def test_missing_trace_for_replay(tmp_path: Path) -> None:
    missing = tmp_path / "trace.jsonl"
    assert_bad_input(run("replay", str(missing), "--policy", DEFAULT), "no audit log")
    assert not missing.exists()  # replay never creates what it reads


def test_verify_of_a_missing_log_is_exit_3_not_ok(tmp_path: Path) -> None:
    missing = tmp_path / "audit.db"
    assert_bad_input(run("audit", "verify", str(missing)), "no audit log")
    assert_bad_input(run("audit", "head", str(missing)), "no audit log")
    assert not missing.exists()


def test_verify_of_a_keyed_log_without_the_key_is_exit_3(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    sink = AuditSink(log, key=ChainKey.generate())
    sink.append({"kind": "test"})
    sink.close()
    assert_bad_input(run("audit", "verify", str(log)), "sealed with key")


def test_keygen_then_verify_with_keys_and_checkpoints(tmp_path: Path) -> None:
    from firewall.audit import Checkpointer, CheckpointSigner

    keys = tmp_path / "keys"
    result = run("audit", "keygen", str(keys))
    assert result.returncode == 0, result.stderr
    assert (keys / "chain.key").stat().st_mode & 0o077 == 0  # secret files are private
    signer = CheckpointSigner.from_text((keys / "checkpoint.key").read_text())
    log, notes = tmp_path / "audit.db", tmp_path / "checkpoints.txt"
    sink = AuditSink(
        log,
        key=ChainKey.from_file(keys / "chain.key"),
        checkpoints=Checkpointer(signer, notes, every_records=2),
    )
    for i in range(5):
        sink.append({"kind": "test", "i": i})
    sink.close()
    common = ["--key-file", str(keys / "chain.key"), "--checkpoints", str(notes)]
    result = run("audit", "verify", str(log), *common, "--key", str(keys / "checkpoint.pub"))
    assert result.returncode == 0, result.stderr
    assert "keyed chain; records 1-5 match a signed checkpoint" in result.stdout
    import sqlite3

    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq > 3")
    result = run("audit", "verify", str(log), *common, "--key", str(keys / "checkpoint.pub"))
    assert result.returncode == 1 and "truncated" in result.stdout
    assert_bad_input(run("audit", "keygen", str(keys)), "not overwriting")
    assert_bad_input(run("audit", "verify", str(log), *common), "--key")
