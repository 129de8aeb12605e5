"""Reading a trace as a person would: what was called, what was blocked, where data flowed.

The functions here turn the events of a JSONL trace (``firewall.export.jsonl``) into plain
rows, and rows into HTML tables for a notebook. ``notebooks/inspect_trace.ipynb`` is built
on them; they work the same from a script.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firewall.export.jsonl import read_trace


@dataclass
class TraceView:
    """The events of one trace, indexed for the questions people ask of it."""

    events: list[dict[str, Any]]
    by_node: dict[tuple[str | None, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for event in self.events:
            self.by_node[(event.get("session"), event.get("node", ""))] = event

    @property
    def calls(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == "call"]

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


def load_trace(path: str | Path) -> TraceView:
    """A trace file as a ``TraceView`` (the header line is checked and dropped)."""
    return TraceView(events=list(read_trace(path)))


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
