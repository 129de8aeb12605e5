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
    assert "read_email result [pii, untrusted] -> send_money.recipient [deny]" in text
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
