"""The demo session end to end: the injected instructions are all blocked, real work is done,
and the run leaves a verified audit log, a trace and a picture of its action graph."""

from __future__ import annotations

import io
import re

from PIL import Image

from firewall.demo import main, run
from firewall.export.jsonl import read_trace


def test_demo_blocks_the_injection_and_keeps_the_database_intact(tmp_path):
    out = io.StringIO()
    result = run(out, directory=tmp_path)
    text = out.getvalue()
    # The reply reached the customer, with the address restored from its placeholder.
    assert "mail sent: ['dana.whitfield@mailbox.test']" in text
    assert '"to": "<EMAIL_ADDRESS_1>"' in text
    # Nothing the injected mail asked for happened.
    assert (
        "database after the run: {'customers': 3, 'orders': 3, 'inbox': 1, 'payments': 0}" in text
    )
    assert "[payment-recipient-from-untrusted-content]" in text
    assert "[sql-drop-and-truncate-denied]" in text
    assert "[shell-download-and-execute-denied]" in text
    # The model never saw the customer's address or the attacker's IBAN in clear.
    seen = "\n".join(line for line in text.splitlines() if "model sees:" in line)
    assert "dana.whitfield@mailbox.test" not in seen
    assert "GB33BUKB20201555555555" not in seen
    assert re.search(r"audit log: \d+ chained records, intact", text)
    assert re.search(
        r"read_email result \[pii, untrusted\] -> send_money\.[a-z, ]*recipient \[deny\]", text
    )
    assert result.verified.ok


def test_demo_writes_audit_log_trace_and_picture(tmp_path):
    out = io.StringIO()
    result = run(out, directory=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {"audit.db", "trace.jsonl", "demo-graph.png"}
    events = list(read_trace(result.trace_path))
    assert sum(e["type"] == "call" for e in events) == 9
    assert Image.open(result.graph_path).format == "PNG"
    # A second run starts a new shop and a new chain, not one on top of the last.
    again = run(io.StringIO(), directory=tmp_path)
    assert again.verified.ok and again.verified.records == result.verified.records
    for path in ("audit.db", "trace.jsonl", "demo-graph.png"):
        assert f"wrote {tmp_path / path}" in out.getvalue()


def test_demo_command_line_exits_zero_with_an_intact_log(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    assert "9 calls: 4 allowed, 5 denied" in capsys.readouterr().out


def test_demo_runs_a_langchain_agent_whose_model_never_sees_customer_data(tmp_path):
    from langchain_core.messages import ToolMessage

    from firewall.demo.agent import ScriptedChatModel
    from firewall.demo.script import SCRIPT
    from firewall.demo.shop import CUSTOMERS, INJECTED_MAIL

    result = run(io.StringIO(), directory=tmp_path)
    model = result.model
    assert isinstance(model, ScriptedChatModel)
    assert len(model.transcript) == len(SCRIPT)  # one model call per turn, through create_agent
    everything = "\n".join(str(m.content) for turn in model.transcript for m in turn)
    for _, name, email, phone, iban in CUSTOMERS:
        for value in (name, email, phone, iban):
            assert value not in everything
    assert "GB33BUKB20201555555555" not in everything and "203.0.113.7" not in everything
    assert "ignore your previous instructions" in INJECTED_MAIL and (
        "ignore your previous instructions" in everything
    )  # the injection itself did reach the model: the firewall stopped what it caused
    told = [
        m.content
        for m in model.transcript[-1]
        if isinstance(m, ToolMessage) and m.status == "error"
    ]
    assert any("send_money" in t and "untrusted content" in t for t in told)


def test_interactive_approval_is_the_persons_answer(tmp_path):
    # The person refuses the reply mail and approves the bulk delete.
    out = io.StringIO()
    result = run(out, directory=tmp_path, interactive=True, answers=io.StringIO("n\ny\n"))
    assert result.tools.outbox == []
    decisions = {d.tool + ":" + d.verdict.label for d in result.firewall.memory.decisions}
    assert "send_email:deny" in decisions
    delete = next(
        d for d in result.firewall.memory.decisions if d.approved_by and d.tool == "run_sql"
    )
    assert delete.approved_by == "you" and "data.delete" in delete.intents
    assert "'customers': 0" in out.getvalue()


def test_plain_text_when_not_a_terminal_and_a_picture_of_the_run_on_request(tmp_path):
    out = io.StringIO()
    run(out, directory=tmp_path, svg=tmp_path / "run.svg")
    svg = (tmp_path / "run.svg").read_text(encoding="utf-8").replace("&#160;", " ")
    assert svg.startswith("<svg") and "make demo" in svg
    for word in ("send_money", "DENY", "APPROVED", "summary"):
        assert word in svg
    plain = io.StringIO()
    run(plain, directory=tmp_path / "plain")
    assert "\x1b[" not in plain.getvalue() and "9 calls: 4 allowed, 5 denied" in plain.getvalue()
