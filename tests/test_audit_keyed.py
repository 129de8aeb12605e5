"""The keyed audit log against an attacker who can write the database.

Each test tampers the way such an attacker would (rewrite from a point on, renumber after
a delete, append forged records, cut the tail, empty the table) and shows what ``verify``
catches with and without the key and with and without signed checkpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from pathlib import Path

import pytest

from firewall import Firewall, Principal, ToolCall, policy_from_yaml
from firewall.audit import (
    AuditSink,
    ChainKey,
    Checkpointer,
    CheckpointSigner,
    CheckpointVerifier,
    KeyRequired,
    open_store,
    verify,
)
from firewall.audit.checkpoint import Checkpoint, read_checkpoints
from firewall.audit.records import GENESIS, seal
from firewall.model import canonical_json

KEY = ChainKey(bytes(range(32)))
SIGNER = CheckpointSigner.generate("audit.example")
VERIFIER = SIGNER.verifier


def keyed_log(tmp_path: Path, n: int = 20, every: int = 5) -> tuple[Path, Path]:
    """A keyed log of ``n`` records with a checkpoint every ``every`` records."""
    log, notes = tmp_path / "audit.db", tmp_path / "checkpoints.txt"
    sink = AuditSink(
        log,
        key=KEY,
        checkpoints=Checkpointer(SIGNER, notes, every_records=every, every_seconds=3600),
    )
    for i in range(n):
        sink.append({"kind": "test", "i": i})
    sink.close()
    return log, notes


def rows(log: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(log) as conn:
        return conn.execute("SELECT seq, hash, body FROM audit_log ORDER BY seq").fetchall()


def rewrite_from(log: Path, start: int, key: ChainKey | None, edit: dict) -> None:
    """Rewrite every record from ``start`` on, re-sealing the chain as a forger would."""
    with sqlite3.connect(log) as conn:
        prev = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (start - 1,)).fetchone()
        prev = prev[0] if prev else GENESIS
        for seq, _, body in conn.execute(
            "SELECT seq, hash, body FROM audit_log WHERE seq >= ? ORDER BY seq", (start,)
        ).fetchall():
            data = __import__("json").loads(body)
            data.pop("seq"), data.pop("prev"), data.pop("kid", None)
            if seq == start:
                data.update(edit)
            record = seal(data, seq, prev, key)
            conn.execute(
                "UPDATE audit_log SET hash = ?, body = ? WHERE seq = ?",
                (record.hash, record.body, seq),
            )
            prev = record.hash


def check(log: Path, notes: Path | None = None, key: ChainKey | None = KEY):
    return verify(
        str(log),
        keys=[key] if key else [],
        checkpoints=notes,
        verifier=VERIFIER if notes else None,
    )


def kinds(report) -> set[str]:
    return {p.kind for p in report.problems}


def test_an_untouched_keyed_log_verifies_with_its_checkpoints(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path)
    report = check(log, notes)
    assert report.ok, report.problems
    assert report.records == 20 and report.checkpointed == 20
    assert len(read_checkpoints(notes, VERIFIER)) == 4


def test_a_forger_without_the_key_cannot_rewrite_the_chain(tmp_path: Path) -> None:
    log, _ = keyed_log(tmp_path)
    rewrite_from(log, 8, None, {"i": "forged"})  # fresh SHA-256 hashes, as before keys
    report = check(log)
    assert not report.ok
    assert ("unkeyed", 8) in {(p.kind, p.seq) for p in report.problems}
    # a guessed key does no better
    rewrite_from(log, 8, ChainKey(b"x" * 32), {"i": "forged"})
    assert "unkeyed" in kinds(check(log))


def test_without_the_key_a_keyed_log_is_never_reported_intact(tmp_path: Path) -> None:
    log, _ = keyed_log(tmp_path)
    with pytest.raises(KeyRequired):
        verify(str(log))


def test_a_forged_record_appended_without_the_key_is_caught(tmp_path: Path) -> None:
    log, _ = keyed_log(tmp_path)
    last_seq, last_hash, _ = rows(log)[-1]
    forged = seal({"kind": "test", "i": "appended"}, last_seq + 1, last_hash, None)
    with sqlite3.connect(log) as conn:
        conn.execute(
            "INSERT INTO audit_log VALUES (?, ?, ?)", (forged.seq, forged.hash, forged.body)
        )
    assert ("unkeyed", 21) in {(p.kind, p.seq) for p in check(log).problems}


def test_renumbering_after_a_delete_is_caught_without_the_key(tmp_path: Path) -> None:
    log, _ = keyed_log(tmp_path)
    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 6")
        conn.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > 6")
    report = check(log)
    assert not report.ok and "deleted" in kinds(report)


def test_a_key_holder_rewriting_before_a_checkpoint_is_caught(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path)
    rewrite_from(log, 8, KEY, {"i": "forged"})  # the attacker holds the chain key
    assert check(log).ok  # the log alone cannot tell: the README says so
    report = check(log, notes)
    assert ("changed", 10) in {(p.kind, p.seq) for p in report.problems}


def test_a_key_holder_can_rewrite_after_the_last_checkpoint(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path, n=23, every=5)  # checkpoints at 5..20 and 23 (close)
    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = 23")
    report = check(log, notes)
    assert "truncated" in kinds(report)  # the closing checkpoint pins 23
    # Without the closing checkpoint the window is the records after the last one.
    log2, notes2 = tmp_path / "b.db", tmp_path / "b.txt"
    sink = AuditSink(log2, key=KEY, checkpoints=Checkpointer(SIGNER, notes2, every_records=5))
    for i in range(23):
        sink.append({"i": i})
    sink.store.close()  # crash: no closing checkpoint
    rewrite_from(log2, 22, KEY, {"i": "forged"})
    report = check(log2, notes2)
    assert report.ok and report.checkpointed == 20  # records 21-23 were exposed


def test_truncating_the_tail_is_caught_by_a_checkpoint(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path)
    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq > 12")
    assert check(log).ok  # the chain up to 12 is intact
    report = check(log, notes)
    assert ("truncated", 20) in {(p.kind, p.seq) for p in report.problems}


def test_emptying_the_table_is_caught_by_a_checkpoint(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path)
    with sqlite3.connect(log) as conn:
        conn.execute("DELETE FROM audit_log")
    assert check(log).ok and check(log).records == 0
    assert "truncated" in kinds(check(log, notes))


def test_a_forged_or_edited_checkpoint_is_reported(tmp_path: Path) -> None:
    log, notes = keyed_log(tmp_path)
    other = CheckpointSigner.generate("audit.example")
    forged = other.sign(Checkpoint("toolcall-firewall/audit", 3, "00" * 32).body())
    text = notes.read_text() + forged + "\n"
    text = text.replace("\n20\n", "\n19\n", 1)  # an edited size breaks its signature
    notes.write_text(text)
    report = check(log, notes)
    assert {p.kind for p in report.problems} == {"checkpoint"}
    assert len(report.problems) == 2


def test_a_huge_sequence_gap_is_one_problem(tmp_path: Path) -> None:
    log, _ = keyed_log(tmp_path)
    with sqlite3.connect(log) as conn:
        conn.execute("UPDATE audit_log SET seq = 1000000 WHERE seq = 20")
    with open_store(log, key=KEY) as store:  # the writer continues from the raised number
        store.append([{"i": "next"}])
    started = time.perf_counter()
    report = check(log)
    assert time.perf_counter() - started < 5
    deleted = [p for p in report.problems if p.kind == "deleted"]
    assert len(deleted) == 1 and "21 to 1000000" in deleted[0].detail


def test_rotation_verifies_records_of_both_keys(tmp_path: Path) -> None:
    log = tmp_path / "a.db"
    new_key = ChainKey(bytes(range(32, 64)))
    with open_store(log, key=KEY) as store:
        store.append([{"i": 1}, {"i": 2}])
    with open_store(log, key=new_key) as store:
        store.append([{"i": 3}])
    assert verify(str(log), keys=[KEY, new_key]).ok
    report = verify(str(log), keys=[new_key])
    assert {(p.kind, p.seq) for p in report.problems} == {("unkeyed", 1), ("unkeyed", 2)}


def test_a_six_digit_code_cannot_be_recovered_from_its_stored_hash(tmp_path: Path) -> None:
    policy = policy_from_yaml("name: t\ndefault: allow\ntools: {confirm: {intents: [data.read]}}")
    log = tmp_path / "a.db"
    sink = AuditSink(log, key=KEY)
    Firewall(policy, sinks=[sink]).check(
        ToolCall(name="confirm", arguments={"reference": "482913"}), Principal(id="a")
    )
    sink.close()
    with open_store(log) as store:
        stored = next(store.records()).data()["arguments"]["reference"]
    assert "sha256" not in stored and "482913" not in str(stored)
    target = stored["hmac"]
    # The attacker has the log and tries every 6-digit value, bare and with guessed keys.
    guesses = (f"{n:06d}" for n in range(1_000_000))
    candidates = [b"", b"firewall", KEY.kid.encode()]
    found = None
    for guess in guesses:
        text = canonical_json(guess).encode()
        if hashlib.sha256(text).hexdigest() == target:
            found = guess
            break
        if any(hmac.new(k, text, hashlib.sha256).hexdigest() == target for k in candidates):
            found = guess
            break
    assert found is None
    # The key holder can still check a value they suspect.
    expected = hmac.new(KEY.derive("argument-hash"), b'"482913"', hashlib.sha256).hexdigest()
    assert expected == target


@pytest.mark.parametrize("form", ["hashed", "redacted"])
def test_credentials_by_key_name_are_never_stored(tmp_path: Path, form: str) -> None:
    from firewall.audit.scrub import redactor_for

    policy = policy_from_yaml(
        "name: t\ndefault: allow\nredaction: {ner: false}\ntools: {login: {intents: [data.read]}}\n"
    )
    fw = Firewall(policy)
    redactor = redactor_for(fw) if form == "redacted" else None
    sink = AuditSink(tmp_path / "a.db", key=KEY, redactor=redactor)
    fw.sinks.append(sink)
    arguments = {
        "user": "ops",
        "password": "hunter2",
        "otp": "482913",
        "mfa_code": "119922",
        "headers": {"Authorization": "Bearer abc.def", "X-Api-Key": "k-77"},
        "steps": [{"code": "5521"}],
        "zip_code": "10115",
    }
    fw.check(ToolCall(name="login", arguments=arguments), Principal(id="a"))
    sink.close()
    raw = (tmp_path / "a.db").read_bytes()
    wal = tmp_path / "a.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    for secret in (b"hunter2", b"482913", b"119922", b"abc.def", b"k-77", b"5521"):
        assert secret not in raw
    with open_store(tmp_path / "a.db") as store:
        stored = next(store.records()).data()["arguments"]
    assert stored["password"] == {"withheld": "credential"}
    if form == "redacted":
        assert stored["user"] == "ops" and stored["zip_code"] == "10115"
        assert stored["headers"]["Authorization"] == {"withheld": "credential"}


def test_checkpoint_keys_round_trip_as_text() -> None:
    assert CheckpointSigner.from_text(SIGNER.text()) == SIGNER
    assert CheckpointVerifier.from_text(VERIFIER.text()) == VERIFIER
    with pytest.raises(ValueError):
        CheckpointVerifier.from_text(VERIFIER.text().replace("+", "+0", 1))
