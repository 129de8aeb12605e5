"""Checking a log's chain, and saying exactly what was tampered with.

The body of each record is the truth (its own ``seq`` and ``prev``); the stored order
and the hash column are only checked against it:

- **changed**: a body no longer matches its hash, or a record was rewritten with a fresh
  hash so the next record no longer links to it;
- **deleted**: a sequence number is missing;
- **inserted**: a record that claims a place in the chain that another record holds,
  or that nothing links to;
- **reordered**: records stored out of the order their bodies say.

- **unkeyed**: given a keyring, a record that is not sealed with one of its keys (an
  attacker without the key can only write such records, or records whose MAC fails);
- **truncated**: the log is shorter than a signed checkpoint says it was.

Without a key, anyone who can write the log can rewrite it from any point with fresh
SHA-256 hashes. With a key, only a key holder can; signed checkpoints kept elsewhere
(``firewall.audit.checkpoint``) pin the chain up to the last checkpoint even against
a key holder, and catch a cut or emptied tail. ``expect_head`` does the same for one
head hash kept by hand (``firewall audit head``).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from firewall.audit.checkpoint import SignedCheckpoint
from firewall.audit.keys import Keyring
from firewall.audit.records import GENESIS, StoredRecord, digest

ProblemKind = Literal[
    "changed", "deleted", "inserted", "reordered", "head", "unkeyed", "truncated", "checkpoint"
]


class KeyRequired(LookupError):
    """A keyed log was given to a verifier without the key: it cannot say "ok"."""

    def __init__(self, kid: str) -> None:
        super().__init__(f"the log is sealed with key {kid}: verify it with that key")
        self.kid = kid


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    seq: int
    detail: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    records: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[Problem] = field(default_factory=list)
    #: Records a valid signed checkpoint vouches for (0 without checkpoints).
    checkpointed: int = 0
    keyed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def valid_until(self) -> int:
        """The last sequence number up to which the chain is intact."""
        bad = [p.seq for p in self.problems]
        return min(bad) - 1 if bad else self.head_seq


@dataclass
class _Row:
    position: int
    stored_seq: int
    hash: str
    seq: int
    prev: str


def verify_records(
    rows: Iterable[StoredRecord],
    expect_head: str | None = None,
    *,
    keyring: Keyring | None = None,
    checkpoints: Iterable[SignedCheckpoint] = (),
) -> VerifyReport:
    """Verify a log given its rows in stored order.

    With a ``keyring``, every record must be sealed by one of its keys. ``checkpoints``
    (read and signature-checked by ``read_checkpoints``) each pin a size and head hash.
    """
    report = VerifyReport(keyed=bool(keyring))
    valid: dict[int, list[_Row]] = {}
    changed: dict[int, str] = {}
    order: list[int] = []
    for position, row in enumerate(rows):
        report.records += 1
        try:
            data = json.loads(row.body)
            body_seq, body_prev = int(data["seq"]), str(data["prev"])
            kid = data.get("kid")
        except (ValueError, KeyError, TypeError, AttributeError):
            report.problems.append(Problem("changed", row.seq, "the record is not readable"))
            changed[row.seq] = row.hash
            continue
        problem = _seal_problem(row, body_seq, kid, keyring)
        if problem is not None:
            report.problems.append(problem)
            changed[body_seq] = row.hash
            continue
        if row.seq != body_seq:
            report.problems.append(Problem("reordered", body_seq, f"stored under number {row.seq}"))
        order.append(body_seq)
        valid.setdefault(body_seq, []).append(
            _Row(position, row.seq, row.hash, body_seq, body_prev)
        )

    in_order = _longest_increasing(order)
    for position, seq in enumerate(order):
        if position not in in_order:
            report.problems.append(Problem("reordered", seq, "stored out of its chain order"))

    prev, top = _walk_chain(valid, changed, report)
    hashes = {seq: rows_[0].hash for seq, rows_ in valid.items()}
    hashes.update({seq: h for seq, h in changed.items() if seq not in hashes})
    report.head_seq = top
    report.head_hash = prev or ""
    if expect_head is not None and expect_head != report.head_hash:
        report.problems.append(
            Problem(
                "head", top, "the last record is not the expected head (tail removed or rewritten)"
            )
        )
    _check_checkpoints(checkpoints, hashes, top, report)
    report.problems.sort(key=lambda p: (p.seq, p.kind))
    return report


def _seal_problem(
    row: StoredRecord, seq: int, kid: object, keyring: Keyring | None
) -> Problem | None:
    """Why a record's own hash cannot be trusted, if it cannot."""
    if keyring:
        if not isinstance(kid, str):
            return Problem("unkeyed", seq, "the record is not sealed with the log's key")
        key = keyring.get(kid)
        if key is None:
            return Problem("unkeyed", seq, f"sealed with key {kid}, which the keyring lacks")
        if digest(row.body, key) != row.hash:
            return Problem("changed", seq, "its content does not match its keyed hash")
        return None
    if kid is not None:
        raise KeyRequired(str(kid))
    if digest(row.body) != row.hash:
        return Problem("changed", seq, "its content does not match its hash")
    return None


def _walk_chain(
    valid: dict[int, list[_Row]], changed: dict[int, str], report: VerifyReport
) -> tuple[str | None, int]:
    """Follow the chain through the sequence numbers present; a gap is one problem."""
    present = sorted(set(valid) | set(changed))
    prev: str | None = GENESIS
    expected = 1
    for seq in present:
        if seq < 1:
            report.problems.append(Problem("inserted", seq, "a sequence number below 1"))
            continue
        if seq > expected:
            missing = (
                f"record {expected} is missing"
                if seq == expected + 1
                else f"records {expected} to {seq - 1} are missing ({seq - expected})"
            )
            report.problems.append(Problem("deleted", expected, missing))
            prev = None
        expected = seq + 1
        candidates = valid.get(seq, [])
        if not candidates:
            prev = changed[seq]
            continue
        following = {r.prev for r in valid.get(seq + 1, [])}
        linking = [r for r in candidates if prev is None or r.prev == prev]
        if len(candidates) > 1:
            keep = next((r for r in linking if r.hash in following), None) or (
                linking[0] if linking else candidates[0]
            )
            for other in candidates:
                if other is not keep:
                    report.problems.append(
                        Problem("inserted", seq, "a second record claims this place in the chain")
                    )
            chosen = keep
        else:
            chosen = candidates[0]
        if prev is not None and chosen.prev != prev:
            if chosen.hash not in following and valid.get(seq + 1):
                report.problems.append(
                    Problem("inserted", seq, "it does not follow the record before it")
                )
            elif seq - 1 not in changed:
                report.problems.append(
                    Problem(
                        "changed",
                        seq - 1,
                        f"record {seq} no longer links to it (rewritten with a new hash)",
                    )
                )
        prev = chosen.hash
    return prev, (present[-1] if present else 0)


def _check_checkpoints(
    checkpoints: Iterable[SignedCheckpoint],
    hashes: dict[int, str],
    top: int,
    report: VerifyReport,
) -> None:
    """Each valid checkpoint must match the record at its size; a forged one is reported."""
    for signed in checkpoints:
        checkpoint = signed.checkpoint
        if not signed.valid or checkpoint is None:
            seq = checkpoint.size if checkpoint is not None else 0
            report.problems.append(
                Problem("checkpoint", seq, f"a checkpoint that does not verify: {signed.problem}")
            )
            continue
        size = checkpoint.size
        if size == 0:
            continue
        if size > top:
            report.problems.append(
                Problem(
                    "truncated",
                    size,
                    f"a checkpoint signed at {checkpoint.time or 'an unknown time'} says the log"
                    f" had {size} records; it ends at {top}",
                )
            )
        elif hashes.get(size) != checkpoint.head:
            report.problems.append(
                Problem(
                    "changed",
                    size,
                    "the chain up to here differs from what a signed checkpoint recorded",
                )
            )
        else:
            report.checkpointed = max(report.checkpointed, size)


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest non-decreasing subsequence (O(n log n)).

    Records outside it are the ones that were moved: swapping two records marks those
    two, not everything between them.
    """
    tails: list[int] = []
    tail_pos: list[int] = []
    parent = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect.bisect_right(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(i)
        else:
            tails[k] = value
            tail_pos[k] = i
        parent[i] = tail_pos[k - 1] if k > 0 else -1
    keep: set[int] = set()
    i = tail_pos[-1] if tail_pos else -1
    while i >= 0:
        keep.add(i)
        i = parent[i]
    return keep
