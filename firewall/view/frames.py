"""A trace as pandas DataFrames: decisions to filter, flows into stopped calls, lineage of
each table, redactions per entity and the time each decision took.

Each function takes a ``TraceView`` (``firewall.traceview.load`` / ``load_trace`` /
``load_audit`` / ``from_graphs``) and returns a plain DataFrame, so the usual pandas
tools (``query``, ``groupby``, ``plot``) apply.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pandas as pd

from firewall.traceview import TraceView
from firewall.view.actiongraph import action_graph, denied_flows

DECISION_COLUMNS = [
    "seq",
    "session",
    "principal",
    "tool",
    "intents",
    "verdict",
    "policy_verdict",
    "rules",
    "elapsed_ms",
    "flows_from",
    "node",
]


def decisions(view: TraceView) -> pd.DataFrame:
    """One row per decided call, in order. ``intents`` and ``rules`` are lists."""
    rows = []
    for call in view.calls:
        principal = call.get("principal") or {}
        sources = []
        for flow in call.get("flows") or ():
            event = view.by_node.get((call.get("session"), str(flow.get("from"))), {})
            sources.append(_source_name(event, str(flow.get("from"))))
        rows.append(
            {
                "seq": call.get("seq"),
                "session": call.get("session"),
                "principal": principal.get("id") if isinstance(principal, dict) else None,
                "tool": call.get("tool"),
                "intents": list(call.get("intents") or ()),
                "verdict": call.get("verdict"),
                "policy_verdict": call.get("policy_verdict"),
                "rules": list(call.get("rules") or ()),
                "elapsed_ms": _number(call.get("elapsed_ms")),
                "flows_from": sorted(set(sources)),
                "node": call.get("node"),
            }
        )
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def select(
    frame: pd.DataFrame,
    *,
    verdict: str | Collection[str] | None = None,
    tool: str | Collection[str] | None = None,
    rule: str | Collection[str] | None = None,
    principal: str | Collection[str] | None = None,
    session: str | Collection[str] | None = None,
) -> pd.DataFrame:
    """The decisions matching every filter given; each takes one value or several.

    ``rule`` keeps the calls where any of the named rules matched.
    """
    mask = pd.Series(True, index=frame.index)
    for column, wanted in (
        ("verdict", verdict),
        ("tool", tool),
        ("principal", principal),
        ("session", session),
    ):
        if wanted is not None:
            mask &= frame[column].isin(_values(wanted))
    if rule is not None:
        rules = _values(rule)
        mask &= frame["rules"].map(lambda matched: any(r in rules for r in matched))
    return frame[mask]


def stopped_flows(view: TraceView) -> pd.DataFrame:
    """Data that reached a call which did not run, traced back to where it entered."""
    rows = []
    for session in view.sessions():
        for row in denied_flows(action_graph(view, session)):
            rows.append({"session": session, **{k: v for k, v in row.items() if k != "path"}})
    columns = ["session", "call", "tool", "verdict", "argument", "source", "labels", "chain"]
    return pd.DataFrame(rows, columns=columns)


def lineage(view: TraceView) -> pd.DataFrame:
    """Which calls read and wrote each table, file or host (one row per access)."""
    rows = [
        {
            "dataset": dataset.get("id"),
            "access": dataset.get("access", "reads"),
            "seq": call.get("seq"),
            "session": call.get("session"),
            "tool": call.get("tool"),
            "verdict": call.get("verdict"),
            "ran": call.get("verdict") == "allow",
        }
        for call in view.calls
        for dataset in call.get("datasets") or ()
    ]
    columns = ["dataset", "access", "seq", "session", "tool", "verdict", "ran"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["dataset", "seq"], kind="stable").reset_index(drop=True)


def lineage_summary(view: TraceView) -> pd.DataFrame:
    """Per dataset: reads and writes that ran, and the attempts that were stopped."""
    frame = lineage(view)
    if frame.empty:
        return pd.DataFrame(columns=["reads", "writes", "stopped"])
    ran = frame[frame["ran"]]
    summary = pd.DataFrame(
        {
            "reads": ran[ran["access"] == "reads"].groupby("dataset").size(),
            "writes": ran[ran["access"] == "writes"].groupby("dataset").size(),
            "stopped": frame[~frame["ran"]].groupby("dataset").size(),
        },
        index=sorted(frame["dataset"].unique()),
    )
    return summary.fillna(0).astype(int).rename_axis("dataset")


def redactions(view: TraceView) -> pd.DataFrame:
    """Entities taken out of tool outputs, per type, most frequent first."""
    counts = view.redaction_counts()
    frame = pd.DataFrame(sorted(counts.items()), columns=["entity", "count"])
    return frame.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)


def latency(view: TraceView) -> pd.DataFrame:
    """Milliseconds each call spent in the firewall, from arrival to decision."""
    frame = decisions(view)[["seq", "tool", "verdict", "policy_verdict", "elapsed_ms"]]
    return frame.reset_index(drop=True)


def _source_name(event: dict[str, Any], fallback: str) -> str:
    if event.get("type") == "result":
        return f"{event.get('tool')} result"
    if event.get("type") == "message":
        return f"{event.get('role')} message"
    return fallback


def _values(wanted: str | Collection[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else list(wanted)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
