"""Reading a trace as a person would: what was called, what was blocked, where data flowed.

The functions here turn the events of a JSONL trace (``firewall.export.jsonl``), an audit
log or a live session graph into plain rows, and rows into HTML tables for a notebook.
``notebooks/inspect_trace.ipynb`` is built on them (with the pictures and DataFrames of
``firewall.view``); they work the same from a script and need no extra package.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firewall.export.jsonl import is_trace, read_trace, trace_events

if TYPE_CHECKING:
    from firewall.audit.verify import VerifyReport
    from firewall.graph import SessionGraph

#: A redaction placeholder as the model sees it: ``<EMAIL_ADDRESS_1>``.
_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]{0,40}?)_\d{1,9}>")


@dataclass(repr=False)
class TraceView:
    """The events of one trace, indexed for the questions people ask of it.

    ``audit`` holds the bodies of an audit log's records when one was loaded (decisions and
    redactions), and ``verified`` the result of checking its hash chain.
    """

    events: list[dict[str, Any]]
    by_node: dict[tuple[str | None, str], dict[str, Any]] = field(default_factory=dict)
    source: str = ""
    audit: list[dict[str, Any]] = field(default_factory=list)
    verified: VerifyReport | None = None

    def __post_init__(self) -> None:
        for event in self.events:
            self.by_node[(event.get("session"), event.get("node", ""))] = event

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "call"]

    @property
    def results(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "result"]

    def sessions(self) -> list[str | None]:
        """The sessions of the trace, in the order they first appear."""
        return list(dict.fromkeys(e.get("session") for e in self.events))

    def verdicts(self) -> Counter[str]:
        """How many calls ended allowed, denied (approval refused counts as denied)."""
        return Counter(str(c.get("verdict")) for c in self.calls)

    def call_rows(self) -> list[dict[str, Any]]:
        """One row a call: order, tool, intents, final verdict, the policy's verdict, rules."""
        return [
            {
                "seq": c.get("seq"),
                "session": c.get("session"),
                "tool": c.get("tool"),
                "intents": ", ".join(c.get("intents") or ()),
                "verdict": c.get("verdict"),
                "policy verdict": c.get("policy_verdict"),
                "rules": ", ".join(c.get("rules") or ()),
            }
            for c in self.calls
        ]

    def blocked_rows(self) -> list[dict[str, Any]]:
        """The calls that did not run, with the rules that stopped them."""
        return [row for row in self.call_rows() if row["verdict"] != "allow"]

    def flow_rows(self) -> list[dict[str, Any]]:
        """Which earlier result or message fed which argument of which call."""
        rows = []
        for call in self.calls:
            for flow in call.get("flows") or ():
                source = self.by_node.get((call.get("session"), flow.get("from", "")), {})
                rows.append(
                    {
                        "from": _describe_source(source),
                        "labels": ", ".join(source.get("labels") or ()),
                        "into": f"{call.get('tool')}.{flow.get('argument')}",
                        "verdict": call.get("verdict"),
                    }
                )
        return rows

    def dataset_rows(self) -> list[dict[str, Any]]:
        """Tables, files and hosts, with the calls that read or wrote them."""
        seen: dict[str, dict[str, Any]] = {}
        for call in self.calls:
            for dataset in call.get("datasets") or ():
                row = seen.setdefault(
                    dataset["id"], {"dataset": dataset["id"], "reads": 0, "writes": 0, "denied": 0}
                )
                row[dataset.get("access", "reads")] += 1
                if call.get("verdict") != "allow":
                    row["denied"] += 1
        return sorted(seen.values(), key=lambda r: r["dataset"])

    def redaction_counts(self) -> Counter[str]:
        """Entities redacted from tool outputs, per type.

        From the audit log's redaction records when one is loaded (exact counts), else
        counted from the placeholders in the recorded results (what the model saw).
        """
        redactions = [r for r in self.audit if r.get("kind") == "redaction"]
        counts: Counter[str] = Counter()
        if redactions:
            for record in redactions:
                counts.update({str(k): int(v) for k, v in (record.get("entities") or {}).items()})
            return counts
        for result in self.results:
            counts.update(m.group(1) for m in _PLACEHOLDER.finditer(_text(result.get("output"))))
        return counts

    def __repr__(self) -> str:
        return (
            f"<TraceView {display_name(self.source)}: {len(self.events)} events, "
            f"{len(self.calls)} calls, verdicts {dict(self.verdicts())}>"
        )

    def _repr_html_(self) -> str:
        from firewall.view.html import trace_html

        return trace_html(self)


def load_trace(path: str | Path) -> TraceView:
    """A trace file as a ``TraceView`` (the header line is checked and dropped)."""
    return TraceView(events=list(read_trace(path)), source=str(path))


def load_audit(target: str | Path, **options: Any) -> TraceView:
    """An audit log (SQLite path or ``postgresql://`` URL) as a ``TraceView``, verified.

    An audit log holds decisions and redactions but no messages or results, so the view
    has calls only (no data flow); ``verified`` says whether its hash chain is intact.
    """
    from firewall.audit import open_store, verify_records

    with open_store(target, **options) as store:
        records = list(store.records())
    verified = verify_records(iter(records))
    bodies = [r.data() for r in records]
    return TraceView(
        events=[_call_from_record(b) for b in bodies if b.get("kind") == "decision"],
        source=str(target),
        audit=bodies,
        verified=verified,
    )


def load(
    trace: str | Path | None = None, audit: str | Path | None = None, **options: Any
) -> TraceView:
    """A trace file, an audit log, or both (the trace's events with the log's records)."""
    if trace is None and audit is None:
        raise ValueError("give a trace file, an audit log, or both")
    if trace is not None and audit is None and not is_trace(trace):
        return load_audit(trace, **options)
    if audit is None:
        return load_trace(trace)  # type: ignore[arg-type]
    logged = load_audit(audit, **options)
    if trace is None:
        return logged
    view = load_trace(trace)
    view.audit, view.verified = logged.audit, logged.verified
    view.source = f"{trace} + {audit}"
    return view


def from_graphs(graphs: SessionGraph | Iterable[SessionGraph], **options: Any) -> TraceView:
    """A live session graph (or several) as a ``TraceView``.

    Arguments are hashed unless ``redactor=`` or ``arguments=`` say otherwise (see
    ``firewall.export.jsonl.trace_events``): a view never shows PII by default.
    """
    return TraceView(events=list(trace_events(graphs, **options)), source="session graph")


def display_name(source: str) -> str:
    """Where a trace came from, short and safe to publish: file names without their
    directories, database URLs without user and password."""
    parts = []
    for part in (source or "trace").split(" + "):
        if "://" in part:
            scheme, _, rest = part.partition("://")
            parts.append(f"{scheme}://{rest.rpartition('@')[2]}")
        else:
            parts.append(Path(part).name or part)
    return " + ".join(parts)


def _call_from_record(body: Mapping[str, Any]) -> dict[str, Any]:
    """A decision record of the audit log as a trace call event."""
    return {
        "type": "call",
        "session": body.get("session"),
        "seq": body.get("seq"),
        "node": f"a{body.get('seq')}",
        "tool": body.get("tool"),
        "call_id": body.get("call_id"),
        "arguments": body.get("arguments") or {},
        "arguments_form": body.get("arguments_form", "hashed"),
        "principal": body.get("principal"),
        "context": body.get("context") or {},
        "intents": body.get("intents") or [],
        "verdict": body.get("verdict"),
        "policy_verdict": body.get("policy_verdict"),
        "rules": [r.get("id") for r in body.get("rules") or () if isinstance(r, Mapping)],
        "elapsed_ms": body.get("elapsed_ms"),
        "time": body.get("time"),
        "flows": [],
        "datasets": [],
    }


def _text(value: Any) -> str:
    """Every string inside a JSON-like value, joined (iterative: nesting depth is not ours)."""
    parts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Mapping):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return " ".join(parts)


def html_table(rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None) -> str:
    """A small HTML table; every value is escaped (traces hold text from tools and models)."""
    if not rows:
        return "<p><em>none</em></p>"
    names = list(columns) if columns is not None else list(rows[0])
    head = "".join(f"<th>{html.escape(str(n))}</th>" for n in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(n, '')))}</td>" for n in names) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _describe_source(event: Mapping[str, Any]) -> str:
    if event.get("type") == "result":
        return f"{event.get('tool')} result"
    if event.get("type") == "message":
        return f"{event.get('role')} message"
    return str(event.get("node", "?"))
