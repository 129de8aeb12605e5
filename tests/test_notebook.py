"""The trace notebook runs top to bottom on the demo, a trace file or an audit log, and shows
what a reviewer needs: the verdicts, the picture, the injected email's path into the
denied payment, the verified log. The committed copy carries its outputs and no PII."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from firewall.demo import run
from firewall.traceview import html_table, load, load_trace
from firewall.view import frames
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "inspect_trace.ipynb"

#: The demo as a user expects it: real work allowed (the mail approved), the injection denied.
DEMO_VERDICTS = [
    ["run_sql", "allow"],
    ["send_email", "allow"],
    ["read_email", "allow"],
    ["send_money", "deny"],
    ["run_sql", "deny"],
    ["run_sql", "deny"],
    ["run_sql", "deny"],
    ["run_shell", "deny"],
    ["run_sql", "allow"],
]

#: Appended to the executed copy (never saved): what the notebook's own objects hold.
CHECK_CELL = """
import json as _json
_figure = draw(graph)
print("CHECK " + _json.dumps({
    "verdicts": [[t, v] for t, v in zip(decisions.tool, decisions.verdict)],
    "graph_nodes": {k: int(n) for k, n in nodes.items()},
    "drawn_nodes": sum(len(c.get_offsets()) for c in _figure.axes[0].collections),
    "graph_size": graph.number_of_nodes(),
    "trace": {
        "call": len(trace.calls),
        "result": len(trace.results),
        "dataset": len({d["id"] for c in trace.calls for d in c.get("datasets") or ()}),
        "message": sum(e["type"] == "message" for e in trace.events),
    },
    "stopped": frames.stopped_flows(trace)[["tool", "argument", "source"]].values.tolist(),
    "verified": None if trace.verified is None else trace.verified.ok,
    "redactions": {e: int(n) for e, n in zip(redactions.entity, redactions["count"])},
    "latency": latency.elapsed_ms.tolist(),
}))
"""


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> tuple[Path, Path]:
    result = run(io.StringIO(), directory=tmp_path_factory.mktemp("demo"))
    return result.trace_path, result.audit_path


def execute(env: dict[str, str]) -> tuple[nbformat.NotebookNode, dict]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # what is checked is what this run printed
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FIREWALL_")}
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute(env={**environment, **env})
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    return notebook, json.loads(printed.split("CHECK ", 1)[1])


def images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_notebook_on_the_demo_shows_verdicts_picture_and_the_injected_flow():
    notebook, seen = execute({})
    assert seen["verdicts"] == DEMO_VERDICTS
    # The picture has one node per call, result, dataset and message, and all are drawn.
    trace = seen["trace"]
    assert trace["call"] == 9 and trace["result"] == 4 and trace["dataset"] == 2
    assert seen["graph_nodes"] == {k: n for k, n in trace.items() if n}
    assert seen["drawn_nodes"] == seen["graph_size"] == sum(trace.values())
    assert images(notebook) >= 2  # the action graph and the time per decision
    assert any(  # and the graph to explore, as plotly data
        "application/vnd.plotly.v1+json" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    # The injected email's data is traced into the denied payment's recipient.
    assert injected_flow_reaches_the_payment(seen["stopped"])
    assert seen["verified"] is True
    assert seen["redactions"]["EMAIL_ADDRESS"] >= 2 and seen["redactions"]["IBAN_CODE"] == 1
    assert len(seen["latency"]) == 9 and all(ms > 0 for ms in seen["latency"])


def injected_flow_reaches_the_payment(stopped: list[list[str]]) -> bool:
    """A stopped-flow row from the injected mail into the payment's recipient."""
    return any(
        call == "send_money"
        and "recipient" in argument.split(", ")
        and source == "read_email result [pii, untrusted]"
        for call, argument, source in stopped
    )


def test_notebook_on_a_trace_file(demo_files):
    trace, _ = demo_files
    _, seen = execute({"FIREWALL_TRACE": str(trace)})
    assert seen["verdicts"] == DEMO_VERDICTS
    assert seen["verified"] is None  # no audit log given
    assert injected_flow_reaches_the_payment(seen["stopped"])
    # Without the log, redactions are counted from the placeholders the model saw.
    assert seen["redactions"]["IBAN_CODE"] == 1


def test_notebook_on_an_audit_log(demo_files):
    _, audit = demo_files
    _, seen = execute({"FIREWALL_AUDIT": str(audit)})
    assert seen["verdicts"] == DEMO_VERDICTS
    assert seen["verified"] is True
    assert seen["graph_nodes"] == {"call": 9}  # a log holds decisions, not results or flows
    assert seen["redactions"]["EMAIL_ADDRESS"] >= 2


def test_committed_notebook_has_its_outputs_and_no_customer_data():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs for cell in code if "demo.graph" not in cell.source)
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert images(notebook) >= 2
    text = NOTEBOOK.read_text(encoding="utf-8")
    for secret in ("dana.whitfield@mailbox.test", "GB33BUKB20201555555555", "/tmp/"):
        assert secret not in text


def test_trace_view_answers_what_was_blocked_and_where_data_came_from(demo_files):
    trace = load_trace(demo_files[0])
    assert trace.verdicts() == {"allow": 4, "deny": 5}
    blocked = {(r["tool"], r["rules"].split(", ")[-1]) for r in trace.blocked_rows()}
    assert ("send_money", "payment-recipient-from-untrusted-content") in blocked
    flows = trace.flow_rows()
    assert {
        "from": "read_email result",
        "labels": "pii, untrusted",
        "into": "send_money.recipient",
        "verdict": "deny",
    } in flows
    datasets = {r["dataset"]: r for r in trace.dataset_rows()}
    assert datasets["table:orders"]["denied"] == 2


def test_decisions_frame_filters_by_verdict_tool_rule_principal_and_session(demo_files):
    decisions = frames.decisions(load(*demo_files))
    assert len(frames.select(decisions, verdict="deny")) == 5
    assert list(frames.select(decisions, tool="run_sql", verdict="allow").seq) == sorted(
        decisions[(decisions.tool == "run_sql") & (decisions.verdict == "allow")].seq
    )
    drops = frames.select(decisions, rule="sql-drop-and-truncate-denied")
    assert list(drops.tool) == ["run_sql", "run_sql"]
    assert frames.select(decisions, principal="someone-else").empty
    assert len(frames.select(decisions, session=["demo-session", "other"])) == 9


def test_html_views_escape_what_tools_and_models_wrote(demo_files):
    table = html_table([{"tool": "<script>alert(1)</script>", "verdict": "deny"}])
    assert "<script>" not in table
    assert "&lt;script&gt;" in table
    trace = load_trace(demo_files[0])
    trace.calls[0]["tool"] = "<img src=x onerror=alert(1)>"
    assert "<img src=x" not in trace._repr_html_()


def test_loaded_log_names_the_changed_record(demo_files, tmp_path):
    import shutil
    import sqlite3

    copy = tmp_path / "audit.db"
    shutil.copy(demo_files[1], copy)
    with sqlite3.connect(copy) as db:
        table = next(
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if "body" in {c[1] for c in db.execute(f"PRAGMA table_info({name})")}
        )
        db.execute(
            f'UPDATE {table} SET body = replace(body, \'"verdict":"deny"\', '
            '\'"verdict":"allow"\') WHERE seq = (SELECT MIN(seq) FROM '
            f'{table} WHERE body LIKE \'%"verdict":"deny"%\')'
        )
    view = load(audit=copy)
    assert view.verified is not None and not view.verified.ok
    assert "changed" in view._repr_html_() and "BROKEN" in view._repr_html_()
