"""The trace notebook runs top to bottom on a real trace and shows what a reviewer needs."""

from __future__ import annotations

import io
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from firewall.demo import run
from firewall.traceview import html_table, load_trace
from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "inspect_trace.ipynb"


def demo_trace(tmp_path: Path) -> Path:
    path = tmp_path / "trace.jsonl"
    run(io.StringIO(), trace_path=path)
    return path


def test_trace_view_answers_what_was_blocked_and_where_data_came_from(tmp_path):
    trace = load_trace(demo_trace(tmp_path))
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


def test_html_table_escapes_what_tools_and_models_wrote():
    table = html_table([{"tool": "<script>alert(1)</script>", "verdict": "deny"}])
    assert "<script>" not in table
    assert "&lt;script&gt;" in table


def test_notebook_executes_on_a_trace(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREWALL_TRACE", str(demo_trace(tmp_path)))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute(env=dict(os.environ))
    outputs = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/html", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "9 calls" in outputs
    assert "payment-recipient-from-untrusted-content" in outputs
    assert "send_money.recipient" in outputs
    assert "table:orders" in outputs
