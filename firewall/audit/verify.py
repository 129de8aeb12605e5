"""Checking a log's chain, and saying exactly what was tampered with.

The body of each record is the truth (its own ``seq`` and ``prev``); the stored order
and the hash column are only checked against it:

- **changed**: a body no longer matches its hash, or a record was rewritten with a fresh
  hash so the next record no longer links to it;
- **deleted**: a sequence number is missing;
- **inserted**: a record that claims a place in the chain that another record holds,
  or that nothing links to;
- **reordered**: records stored out of the order their bodies say.

A rewrite of the tail with fresh hashes, or a removal of the last records, cannot be
seen from the log alone: keep the head hash somewhere else (``firewall audit head``)
and pass it as ``expect_head``.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from firewall.audit.records import GENESIS, StoredRecord, digest

ProblemKind = Literal["changed", "deleted", "inserted", "reordered", "head"]


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


def verify_records(rows: Iterable[StoredRecord], expect_head: str | None = None) -> VerifyReport:
    """Verify a log given its rows in stored order."""
    report = VerifyReport()
    valid: dict[int, list[_Row]] = {}
    changed: dict[int, str] = {}
    top = 0
    order: list[int] = []
    for position, row in enumerate(rows):
        report.records += 1
        try:
            data = json.loads(row.body)
            body_seq, body_prev = int(data["seq"]), str(data["prev"])
        except (ValueError, KeyError, TypeError):
            report.problems.append(Problem("changed", row.seq, "the record is not readable"))
            changed[row.seq] = row.hash
            top = max(top, row.seq)
            continue
        if digest(row.body) != row.hash:
            report.problems.append(
                Problem("changed", body_seq, "its content does not match its hash")
            )
            changed[body_seq] = row.hash
            top = max(top, body_seq)
            continue
        top = max(top, body_seq)
        order.append(body_seq)
        valid.setdefault(body_seq, []).append(
            _Row(position, row.seq, row.hash, body_seq, body_prev)
        )

    in_order = _longest_increasing(order)
    for position, seq in enumerate(order):
        if position not in in_order:
            report.problems.append(Problem("reordered", seq, "stored out of its chain order"))

    prev: str | None = GENESIS
    for seq in range(1, top + 1):
        candidates = valid.get(seq, [])
        if not candidates:
            if seq in changed:
                prev = changed[seq]
            else:
                report.problems.append(Problem("deleted", seq, "the record is missing"))
                prev = None
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
            if seq + 1 <= top and chosen.hash not in following and valid.get(seq + 1):
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
    report.head_seq = top
    report.head_hash = prev or ""
    if expect_head is not None and expect_head != report.head_hash:
        report.problems.append(
            Problem(
                "head", top, "the last record is not the expected head (tail removed or rewritten)"
            )
        )
    report.problems.sort(key=lambda p: (p.seq, p.kind))
    return report


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
