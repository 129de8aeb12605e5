"""Rich HTML for a notebook: a decision, a session graph and a loaded trace display
themselves (``_repr_html_``) as coloured verdicts, tables and the action-graph picture.

Every value is escaped: traces hold text written by tools, models and attackers.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

from firewall.traceview import TraceView, display_name, from_graphs, html_table

if TYPE_CHECKING:
    from firewall.graph import SessionGraph
    from firewall.model import Decision

COLOURS = {"allow": "#2ca02c", "require_approval": "#f0a30a", "deny": "#d62728"}
CALL_COLUMNS = ["seq", "tool", "intents", "verdict", "policy verdict", "rules", "ms"]


def badge(verdict: str, text: str | None = None) -> str:
    """A verdict as a coloured label."""
    colour = COLOURS.get(verdict, "#777777")
    return (
        f'<span style="background:{colour};color:white;border-radius:3px;padding:1px 6px;'
        f'font-weight:bold;font-size:90%">{html.escape(text or verdict.upper())}</span>'
    )


def decision_html(decision: Decision) -> str:
    """One decision: verdict, tool, intents, every matching rule with its message."""
    e = html.escape
    head = (
        f"{badge(decision.verdict.label)} <b>{e(decision.tool)}</b>"
        f" &nbsp;intents: {e(', '.join(decision.intents) or '-')}"
        f" &nbsp;<span style='color:#777'>{decision.elapsed_ms:.2f} ms</span>"
    )
    notes = []
    if decision.policy_verdict is not decision.verdict:
        notes.append(f"policy said {e(decision.policy_verdict.label)}")
    if decision.approved_by:
        notes.append(f"approved by {e(decision.approved_by)}")
    if decision.mode == "monitor":
        notes.append("monitor mode")
    if decision.session:
        notes.append(f"session {e(decision.session)}")
    rows = [
        {
            "rule": r.rule_id,
            "verdict": r.verdict.label + (" (monitor)" if r.monitor_only else ""),
            "message": r.message,
        }
        for r in decision.reasons
    ]
    errors = "".join(f"<li>{e(err)}</li>" for err in decision.errors)
    return (
        f"<div>{head}"
        + (f"<div style='color:#555'>{'; '.join(notes)}</div>" if notes else "")
        + html_table(rows)
        + (f"<div>errors:<ul>{errors}</ul></div>" if errors else "")
        + "</div>"
    )


def graph_html(graph: SessionGraph) -> str:
    """A session graph: what it holds, its calls, and the picture when ``view`` is installed."""
    view = from_graphs(graph)
    return (
        f"<div><b>Session {html.escape(str(graph.session))}</b>: {_counts(view)}"
        + _picture(view)
        + html_table(call_rows(view), CALL_COLUMNS)
        + "</div>"
    )


def trace_html(view: TraceView) -> str:
    """A loaded trace: its source, verdicts, the audit check and the calls (the picture is
    ``firewall.view.draw``: a trace may hold many sessions)."""
    e = html.escape
    verdicts = " ".join(
        badge(v, f"{n} {v.replace('_', ' ')}") for v, n in sorted(view.verdicts().items())
    )
    lines = [f"<b>{e(display_name(view.source))}</b>: {_counts(view)} {verdicts}"]
    if view.verified is not None:
        report = view.verified
        state = (
            badge("allow", "INTACT")
            if report.ok
            else badge("deny", "BROKEN") + " " + e(str(report.problems[0]))
        )
        lines.append(f"audit log: {report.records} chained records {state}")
    return "<div>" + "<br>".join(lines) + html_table(call_rows(view), CALL_COLUMNS) + "</div>"


def call_rows(view: TraceView) -> list[dict[str, Any]]:
    """The call rows of a trace with their time to decide."""
    rows = view.call_rows()
    for row, call in zip(rows, view.calls, strict=True):
        ms = call.get("elapsed_ms")
        row["ms"] = f"{ms:.2f}" if isinstance(ms, int | float) else ""
    return rows


def _counts(view: TraceView) -> str:
    kinds: dict[str, int] = {}
    for event in view.events:
        kinds[str(event.get("type"))] = kinds.get(str(event.get("type")), 0) + 1
    return ", ".join(f"{n} {k}s" for k, n in sorted(kinds.items())) or "empty"


def _picture(view: TraceView) -> str:
    """The action graph as an inline PNG, or nothing when the ``view`` extra is missing."""
    if not view.calls:
        return ""
    try:
        from firewall.view.picture import draw, to_png
    except ImportError:
        return ""
    png = base64.b64encode(to_png(draw(view, dpi=80))).decode("ascii")
    return f'<div><img style="max-width:100%" src="data:image/png;base64,{png}"></div>'
