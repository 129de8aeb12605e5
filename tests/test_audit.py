"""The SQLite audit log: chain, tampering of every kind, concurrency, killed writers."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from firewall import Firewall, Principal, ToolCall, Verdict, policy_from_yaml
from firewall.audit import GENESIS, AuditLogMissing, AuditSink, open_store, verify
from firewall.audit.records import digest

from .conftest import ROOT

POLICY = policy_from_yaml(
    """
name: audit-test
default: allow
tools:
  send_money: {intents: [payment.send]}
rules:
  - id: big
    match: {tools: [send_money]}
    when: double(call.arguments.amount) > 100.0
    verdict: deny
    message: too much
"""
)


def fill(path: Path, n: int = 10) -> None:
    with open_store(path) as store:
        for i in range(n):
            store.append([{"kind": "test", "i": i}])


def test_every_decision_is_recorded_and_the_chain_verifies(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    sink = AuditSink(log)
    fw = Firewall(POLICY, sinks=[sink])
    who = Principal(id="agent-9", roles=("finance",))
    fw.check(
        ToolCall(name="send_money", arguments={"to": "x", "amount": 5}, id="a"), who, session="s"
    )
    fw.check(
        ToolCall(name="send_money", arguments={"to": "x", "amount": 500}, id="b"), who, session="s"
    )
    sink.close()
    report = verify(str(log))
    assert report.ok and report.records == 2 and report.head_seq == 2
    with open_store(log) as store:
        first, second = (r.data() for r in store.records())
    assert first["prev"] == GENESIS
    assert second["prev"] == digest(json.dumps(first, sort_keys=True, separators=(",", ":")))
    assert (first["verdict"], second["verdict"]) == ("allow", "deny")
    assert second["rules"] == [{"id": "big", "verdict": "deny", "monitor": False}]
    assert second["principal"] == {"id": "agent-9", "kind": "agent", "roles": ["finance"]}
    assert second["session"] == "s" and second["tool"] == "send_money" and second["call_id"] == "b"


def test_without_a_redactor_no_argument_value_is_stored(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    fw = Firewall(POLICY, sinks=[AuditSink(log)])
    secret = "sk_live_51HxQ2eZvKYlo2C9aTopSecretValue"
    fw.check(ToolCall(name="send_money", arguments={"to": secret, "amount": 5}))
    raw = log.read_bytes() + (tmp_path / "audit.db-wal").read_bytes()
    assert secret.encode() not in raw
    with open_store(log) as store:
        record = next(store.records()).data()
    assert record["arguments_form"] == "hashed"
    assert set(record["arguments"]) == {"to", "amount"}
    assert set(record["arguments"]["to"]) == {"type", "sha256"}


def test_a_redactor_decides_what_is_stored(tmp_path: Path) -> None:
    def redactor(args):
        return {k: "<SECRET_1>" if k == "to" else v for k, v in args.items()}, {"SECRET": 1}

    log = tmp_path / "audit.db"
    fw = Firewall(POLICY, sinks=[AuditSink(log, redactor=redactor)])
    fw.check(ToolCall(name="send_money", arguments={"to": "hunter2", "amount": 5}))
    with open_store(log) as store:
        record = next(store.records()).data()
    assert record["arguments"] == {"to": "<SECRET_1>", "amount": 5}
    assert record["entities"] == {"SECRET": 1}


def test_redaction_events_are_chained_too(tmp_path: Path) -> None:
    sink = AuditSink(tmp_path / "a.db")
    sink.record_redaction(
        session="s", tool="read", call_id="1", entities={"EMAIL_ADDRESS": 2}, labels={"pii"}
    )
    with open_store(tmp_path / "a.db") as store:
        (record,) = [r.data() for r in store.records()]
    assert record["kind"] == "redaction" and record["entities"] == {"EMAIL_ADDRESS": 2}
    assert record["labels"] == ["pii"]


def test_a_sink_that_cannot_write_denies(tmp_path: Path) -> None:
    sink = AuditSink(tmp_path / "a.db")
    fw = Firewall(POLICY, sinks=[sink])
    with sqlite3.connect(tmp_path / "a.db") as conn:
        conn.execute("DROP TABLE audit_log")
    decision = fw.check(ToolCall(name="send_money", arguments={"to": "x", "amount": 1}))
    assert decision.verdict is Verdict.DENY
    assert any("recording failed in AuditSink" in e for e in decision.errors)


def _sql(path: Path, *statements: tuple) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(*statement)


def test_verify_catches_a_changed_record(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    _sql(log, ("UPDATE audit_log SET body = replace(body, '\"i\":4', '\"i\":40') WHERE seq = 5",))
    report = verify(str(log))
    assert [(p.kind, p.seq) for p in report.problems] == [("changed", 5)]
    assert report.valid_until == 4


def test_verify_catches_a_changed_record_with_a_recomputed_hash(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    with sqlite3.connect(log) as conn:
        body = conn.execute("SELECT body FROM audit_log WHERE seq = 3").fetchone()[0]
        forged = body.replace('"i":2', '"i":99')
        conn.execute(
            "UPDATE audit_log SET body = ?, hash = ? WHERE seq = 3", (forged, digest(forged))
        )
    report = verify(str(log))
    assert [(p.kind, p.seq) for p in report.problems] == [("changed", 3)]


def test_verify_catches_a_deleted_record(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    _sql(log, ("DELETE FROM audit_log WHERE seq = 7",))
    report = verify(str(log))
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 7)]


def test_verify_catches_a_deletion_hidden_by_renumbering(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    _sql(
        log,
        ("DELETE FROM audit_log WHERE seq = 4",),
        ("UPDATE audit_log SET seq = seq - 1 WHERE seq > 4",),
    )
    kinds = {(p.kind, p.seq) for p in verify(str(log)).problems}
    assert ("deleted", 4) in kinds


def test_verify_catches_an_inserted_record(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    with sqlite3.connect(log) as conn:
        prev = conn.execute("SELECT hash FROM audit_log WHERE seq = 5").fetchone()[0]
        body = json.dumps(
            {"kind": "test", "i": "forged", "seq": 6, "prev": prev},
            sort_keys=True,
            separators=(",", ":"),
        )
        conn.execute("UPDATE audit_log SET seq = seq + 1000 WHERE seq > 5")
        conn.execute("UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000")
        conn.execute(
            "INSERT INTO audit_log (seq, hash, body) VALUES (6, ?, ?)", (digest(body), body)
        )
    report = verify(str(log))
    assert ("inserted", 6) in {(p.kind, p.seq) for p in report.problems}
    assert all(p.kind in ("inserted", "reordered") for p in report.problems)


def test_verify_catches_reordered_records(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    _sql(
        log,
        ("UPDATE audit_log SET seq = -1 WHERE seq = 3",),
        ("UPDATE audit_log SET seq = 3 WHERE seq = 8",),
        ("UPDATE audit_log SET seq = 8 WHERE seq = -1",),
    )
    report = verify(str(log))
    assert report.problems and {p.kind for p in report.problems} == {"reordered"}
    assert {p.seq for p in report.problems} >= {3, 8}


def test_verify_against_a_kept_head_catches_a_truncated_tail(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log)
    with open_store(log) as store:
        _, head = store.head()
    _sql(log, ("DELETE FROM audit_log WHERE seq = 10",))
    assert verify(str(log)).ok  # the log alone cannot know
    report = verify(str(log), expect_head=head)
    assert [p.kind for p in report.problems] == ["head"]


def test_many_threads_lose_nothing_and_keep_one_chain(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    for group in (False, True):
        sink = AuditSink(log, group_commit=group)
        fw = Firewall(POLICY, sinks=[sink])

        def work(t: int, fw: Firewall = fw, group: bool = group) -> None:
            for i in range(100):
                call = ToolCall(
                    name="send_money", arguments={"to": f"{t}", "amount": i}, id=f"{group}-{t}-{i}"
                )
                fw.check(call)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sink.close()
    report = verify(str(log))
    assert report.ok and report.records == 1600
    with open_store(log) as store:
        ids = {r.data()["call_id"] for r in store.records()}
    assert len(ids) == 1600


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from firewall.audit import open_store
    store = open_store(sys.argv[1])
    n = int(sys.argv[2])
    i = 0
    while n < 0 or i < n:
        store.append([{{"kind": "test", "writer": sys.argv[3], "i": i}}])
        i += 1
    """
)


def _writer(tmp_path: Path, log: Path, n: int, name: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(root=str(ROOT)))
    return subprocess.Popen([sys.executable, str(script), str(log), str(n), name])


def test_several_processes_lose_nothing_and_keep_one_chain(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log, 1)
    procs = [_writer(tmp_path, log, 300, f"p{i}") for i in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    report = verify(str(log))
    assert report.ok and report.records == 1201
    with open_store(log) as store:
        seen = {(d["writer"], d["i"]) for d in (r.data() for r in store.records()) if "writer" in d}
    assert len(seen) == 1200


def test_a_process_killed_while_writing_leaves_a_verifiable_log(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    fill(log, 1)
    proc = _writer(tmp_path, log, -1, "doomed")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open_store(log) as store:
            if store.head()[0] > 500:
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    report = verify(str(log))
    assert report.ok, report.problems
    assert report.records > 500
    with open_store(log) as store:  # the log still takes appends after the crash
        store.append([{"kind": "test", "after": True}])
    assert verify(str(log)).ok


def test_verify_of_a_missing_log_is_an_error_never_an_intact_log(tmp_path: Path) -> None:
    with pytest.raises(AuditLogMissing):
        verify(str(tmp_path / "new.db"))
    assert not (tmp_path / "new.db").exists()  # verifying never creates the log
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(AuditLogMissing):
        verify(str(tmp_path / "other.db"))
    with open_store(tmp_path / "empty.db"):
        pass
    report = verify(str(tmp_path / "empty.db"))  # a log that exists but is empty
    assert report.ok and report.records == 0 and report.head_hash == GENESIS


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_synchronous_modes_both_work(tmp_path: Path, synchronous: str) -> None:
    with open_store(tmp_path / "a.db", synchronous=synchronous) as store:
        store.append([{"kind": "x"}, {"kind": "y"}])
    assert verify(str(tmp_path / "a.db")).records == 2


def test_the_firewalls_redaction_engine_scrubs_the_log(tmp_path: Path) -> None:
    from firewall.audit.scrub import redactor_for

    policy = policy_from_yaml(
        "name: r\ndefault: allow\nredaction: {ner: false}\n"
        "tools: {send_email: {intents: [message.send]}}\n"
    )
    fw = Firewall(policy)
    sink = AuditSink(tmp_path / "a.db", redactor=redactor_for(fw))
    fw.sinks.append(sink)
    fw.check(ToolCall(name="send_email", arguments={"to": "jane.doe@example.com", "body": "hi"}))
    raw = (tmp_path / "a.db").read_bytes() + (tmp_path / "a.db-wal").read_bytes()
    assert b"jane.doe@example.com" not in raw
    with open_store(tmp_path / "a.db") as store:
        record = next(store.records()).data()
    assert record["arguments_form"] == "redacted"
    assert record["arguments"]["to"].startswith("<EMAIL_ADDRESS")
    assert record["entities"] == {"EMAIL_ADDRESS": 1}
