"""The demo session end to end: the injected instructions are all blocked, real work is done."""

from __future__ import annotations

import io
import re

from firewall.demo import run


def test_demo_blocks_the_injection_and_keeps_the_database_intact():
    out = io.StringIO()
    assert run(out) == 0
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
    assert "read_email result (pii, untrusted) -> send_money.recipient [deny]" in text
