"""Replay: re-evaluate recorded calls under another policy and report what would change.

Input is a JSONL trace (``firewall.export.jsonl``) or an audit log (SQLite path or
``postgresql://`` URL). Messages and results in a trace are fed to the session graphs
first, so ``flow`` rules see the same history they saw live; an audit log holds no
results, so ``flow`` there only knows the calls. Calls whose arguments were stored as
hashes (no redactor at recording time) cannot be re-evaluated and are counted as
skipped; redacted arguments replay as redacted (a placeholder stays a placeholder).

The comparison is between the policy verdicts (before approval or monitor mode), so a
change means the new policy decides differently, not that a person answered otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firewall.engine import Firewall
from firewall.export.jsonl import is_trace, read_trace
from firewall.model import Principal, ToolCall, Verdict
from firewall.policy import Policy


@dataclass(frozen=True)
class Change:
    """One call the new policy decides differently."""

    session: str | None
    ref: str
    tool: str
    before: str
    after: str
    rules_before: tuple[str, ...]
    rules_after: tuple[str, ...]

    def __str__(self) -> str:
        where = f"session {self.session}, " if self.session else ""
        return (
            f"{self.tool} ({where}{self.ref}): {self.before} -> {self.after}"
            f"  [now: {', '.join(self.rules_after) or '-'}]"
        )


@dataclass
class ReplayReport:
    replayed: int = 0
    skipped: int = 0
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for change in self.changes:
            key = f"{change.before} -> {change.after}"
            counts[key] = counts.get(key, 0) + 1
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        text = f"{self.replayed} calls replayed, {len(self.changes)} changed"
        if detail:
            text += f" ({detail})"
        if self.skipped:
            text += f", {self.skipped} skipped (arguments stored only as hashes)"
        return text


def load_events(source: str | Path, **options: Any) -> Iterator[dict[str, Any]]:
    """Trace events from a trace file, or call events made from an audit log's decisions."""
    if is_trace(source):
        yield from read_trace(source)
        return
    from firewall.audit import open_store

    with open_store(source, create=False, **options) as store:
        for record in store.records():
            data = record.data()
            if data.get("kind") != "decision":
                continue
            yield {
                "type": "call",
                "session": data.get("session"),
                "seq": data.get("seq"),
                "node": f"record {data.get('seq')}",
                "tool": data.get("tool"),
                "call_id": data.get("call_id"),
                "arguments": data.get("arguments") or {},
                "arguments_form": data.get("arguments_form", "hashed"),
                "principal": data.get("principal"),
                "context": data.get("context") or {},
                "verdict": data.get("policy_verdict") or data.get("verdict"),
                "rules": [r["id"] for r in data.get("rules", [])],
            }


def replay(events: Iterable[dict[str, Any]], policy: Policy) -> ReplayReport:
    """Re-evaluate every call event under ``policy``, in order, with its session history."""
    firewall = Firewall(policy)
    report = ReplayReport()
    for event in events:
        kind = event.get("type")
        session = event.get("session")
        if kind == "message":
            firewall.record_message(session, event.get("role", "user"), event.get("text", ""))
        elif kind == "result":
            call = ToolCall(name=event.get("tool") or "unknown", id=event.get("call_id"))
            labels = set(event.get("labels") or ())
            by_value = _value_labels(event.get("value_labels"))
            firewall.record_result(
                call,
                event.get("output"),
                session=session,
                labels=labels - by_value.keys(),
                value_labels=by_value,
            )
        elif kind == "call":
            _replay_call(firewall, event, report)
    return report


def _value_labels(found: Any) -> dict[str, list[str]]:
    """A result event's ``value_labels`` (label -> placeholders holding it); anything else
    is ignored, so its labels cover the whole result as they did live before."""
    if not isinstance(found, Mapping):
        return {}
    out = {}
    for label, texts in found.items():
        if not isinstance(label, str) or not isinstance(texts, list):
            return {}
        if not all(isinstance(t, str) for t in texts):
            return {}
        out[label] = texts
    return out


def _replay_call(firewall: Firewall, event: dict[str, Any], report: ReplayReport) -> None:
    if event.get("arguments_form") == "hashed" and event.get("arguments"):
        report.skipped += 1
        return
    session = event.get("session")
    call = ToolCall(
        name=event["tool"], arguments=event.get("arguments") or {}, id=event.get("call_id")
    )
    p = event.get("principal") or {}
    principal = Principal(
        id=p.get("id", "anonymous"), kind=p.get("kind", "agent"), roles=tuple(p.get("roles", ()))
    )
    context = event.get("context") or {}
    evaluation = firewall.evaluate(call, principal, context, session=session)
    report.replayed += 1
    after = evaluation.policy_verdict.label
    before = str(event.get("policy_verdict") or event.get("verdict") or "")
    rules_after = tuple(r.rule_id for r in evaluation.reasons)
    firewall.graph(session).add_call(
        call.name,
        call.arguments,
        call_id=call.id,
        verdict=after,
        policy_verdict=after,
        rules=rules_after,
        intents=evaluation.intents,
        principal=principal,
        facts=evaluation.facts,
        provenance=evaluation.flow.provenance() if evaluation.flow else None,
    )
    if before and Verdict.parse(before) is not evaluation.policy_verdict:
        report.changes.append(
            Change(
                session=session,
                ref=str(event.get("call_id") or event.get("node") or event.get("seq")),
                tool=call.name,
                before=before,
                after=after,
                rules_before=tuple(event.get("rules", ())),
                rules_after=rules_after,
            )
        )
