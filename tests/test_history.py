"""Rules over a session's history: counts, labels seen, sliding windows, shared counts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from firewall import Firewall, PolicyError, Principal, ToolCall, Verdict, policy_from_yaml
from firewall.history import HistoryStore, MemoryCounter

from .conftest import POSTGRES_URL, ROOT, need_server

TOOLS = """
tools:
  send_money: {intents: [payment.send]}
  send_email: {intents: [message.send, network.egress]}
  read_email: {intents: [data.read], output_labels: [untrusted]}
  fetch_secret: {intents: [data.read]}
  delete_rows: {intents: [data.delete]}
  search: {intents: [data.read]}
"""
WHO = Principal(id="agent-1")


def firewall(rules: str, *, clock=None, counter=None) -> Firewall:
    text = (
        "name: h\ndefault: allow\n"
        + TOOLS
        + "rules:\n"
        + textwrap.indent(textwrap.dedent(rules), "  ")
    )
    store = HistoryStore(counter, clock=clock) if clock else HistoryStore(counter)
    return Firewall(policy_from_yaml(text), history=store)


def call(name: str, **arguments) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_five_payments_per_session() -> None:
    fw = firewall(
        """
        - id: five-payments
          match: {tools: [send_money]}
          when: session.tools.send_money >= 5
          verdict: deny
          message: five payments per session at most
        """
    )
    verdicts = [fw.check(call("send_money", amount=1), WHO, session="s").verdict for _ in range(7)]
    assert verdicts == [Verdict.ALLOW] * 5 + [Verdict.DENY] * 2
    # another session has its own count
    assert fw.check(call("send_money", amount=1), WHO, session="t").allowed


def test_no_email_after_a_web_page_unless_approved() -> None:
    fw = firewall(
        """
        - id: mail-after-untrusted
          match: {tools: [send_email]}
          when: '"untrusted" in session.labels_seen'
          verdict: require_approval
          message: the session read untrusted content
        """
    )
    assert fw.check(call("send_email", to="a@b.test"), WHO, session="s").allowed
    fw.record_result(call("read_email"), "hello", session="s")
    decision = fw.check(call("send_email", to="a@b.test"), WHO, session="s")
    assert decision.policy_verdict is Verdict.REQUIRE_APPROVAL


def test_egress_after_a_secret_needs_approval_in_the_default_pack() -> None:
    from firewall import load_policy

    fw = Firewall(load_policy(ROOT / "policies" / "default.yaml"))
    before = fw.evaluate(call("send_email", to="ops@example.com", body="hi"), WHO, session="s")
    fw.record_result(call("fetch_secret"), "<AWS_KEY_1>", session="s", labels={"secret"})
    after = fw.evaluate(call("send_email", to="ops@example.com", body="hi"), WHO, session="s")
    rule = "egress-after-a-secret-was-read-needs-approval"
    assert rule not in [r.rule_id for r in before.reasons]
    assert rule in [r.rule_id for r in after.reasons]
    assert after.policy_verdict >= Verdict.REQUIRE_APPROVAL


def test_counts_of_calls_denials_approvals_and_intents() -> None:
    fw = firewall(
        """
        - id: no-deletes
          match: {tools: [delete_rows]}
          verdict: deny
          message: denied
        - id: report
          match: {tools: [search]}
          when: >-
            session.calls == 3 && session.allowed == 2 && session.denied == 1
            && session.intents["payment.send"] == 1 && session.tools.send_email == 1
            && session.tools.delete_rows == 0
          verdict: deny
          message: history as expected
        """
    )
    fw.check(call("send_money", amount=1), WHO, session="s")
    fw.check(call("delete_rows"), WHO, session="s")
    fw.check(call("send_email", to="x"), WHO, session="s")
    assert [r.rule_id for r in fw.check(call("search"), WHO, session="s").reasons] == ["report"]


def test_approved_calls_are_counted_as_approved() -> None:
    from firewall import CallbackApprover

    fw = firewall(
        """
        - id: ask
          match: {tools: [send_money]}
          verdict: require_approval
          message: ask
        - id: report
          match: {tools: [search]}
          when: session.approved == 1 && session.tools.send_money == 1
          verdict: deny
          message: one approved payment
        """
    )
    fw.approver = CallbackApprover(lambda request: True)
    assert fw.check(call("send_money", amount=1), WHO, session="s").allowed
    assert not fw.check(call("search"), WHO, session="s").allowed


def test_session_age_and_start() -> None:
    clock = Clock()
    fw = firewall(
        """
        - id: old-session
          match: {tools: [search]}
          when: session.age_seconds > 3600.0
          verdict: require_approval
          message: a long session
        """,
        clock=clock,
    )
    fw.record_message("s", "user", "hello")
    assert fw.check(call("search"), WHO, session="s").allowed
    clock.now += 7200
    assert fw.evaluate(call("search"), WHO, session="s").policy_verdict is (
        Verdict.REQUIRE_APPROVAL
    )
    assert fw.history.get("s").started == 1_000_000.0


def test_a_rate_window_slides() -> None:
    clock = Clock()
    fw = firewall(
        """
        - id: three-deletes-a-minute
          match: {intents: [data.delete]}
          when: calls("intent:data.delete", 60) >= 3
          verdict: deny
          message: too many deletes this minute
        """,
        clock=clock,
    )

    def delete_at(t: float) -> bool:
        clock.now = 1_000_000.0 + t
        return fw.check(call("delete_rows"), WHO, session="s").allowed

    assert [delete_at(t) for t in (10, 20, 30, 40)] == [True, True, True, False]
    assert delete_at(71)  # the window [11, 71] holds the deletes at 20 and 30
    assert not delete_at(72)  # [12, 72]: 20, 30, 71
    assert delete_at(81)  # [21, 81]: 30, 71 (the denied one at 72 never counted)


def test_attempts_count_denied_calls_and_calls_do_not() -> None:
    fw = firewall(
        """
        - id: deny-money
          match: {tools: [send_money]}
          verdict: deny
          message: denied
        - id: probing
          match: {tools: [search]}
          when: attempts("tool:send_money", 0) >= 3 && calls("tool:send_money", 0) == 0
          verdict: deny
          message: the agent keeps trying to pay
        """
    )
    for _ in range(3):
        fw.check(call("send_money", amount=1), WHO, session="s")
    assert not fw.check(call("search"), WHO, session="s").allowed


def test_per_principal_counts_span_sessions() -> None:
    fw = firewall(
        """
        - id: deletes-per-agent
          match: {intents: [data.delete]}
          when: principal_calls("intent:data", 3600) >= 2
          verdict: deny
          message: two data changes per hour per agent
        """
    )
    assert fw.check(call("delete_rows"), WHO, session="a").allowed
    assert fw.check(call("delete_rows"), WHO, session="b").allowed
    assert not fw.check(call("delete_rows"), WHO, session="c").allowed
    assert fw.check(call("delete_rows"), Principal(id="agent-2"), session="c").allowed


def test_a_bad_selector_fails_closed() -> None:
    fw = firewall(
        """
        - id: bad
          match: {tools: [send_money]}
          when: calls("payments", 60) > 100
          verdict: deny
          message: m
        - id: allow-search
          match: {tools: [search]}
          when: calls("bogus selector", 0) < 5
          verdict: allow
        """
    )
    assert fw.check(call("send_money"), WHO, session="s").verdict is Verdict.DENY
    decision = fw.evaluate(call("search"), WHO, session="s")
    assert "allow-search" not in [r.rule_id for r in decision.reasons]
    assert any("selector" in e for e in decision.errors)


def test_a_misspelt_session_field_is_a_load_error() -> None:
    with pytest.raises(PolicyError) as caught:
        firewall(
            """
            - id: r
              match: {tools: [search]}
              when: session.tool_counts.search > 1
              verdict: deny
              message: m
            """
        )
    assert "session.tool_counts" in str(caught.value)


def test_eight_threads_in_one_session_keep_exact_counts() -> None:
    fw = firewall(
        """
        - id: count
          match: {tools: [search]}
          when: session.calls < 0
          verdict: deny
          message: never
        """
    )
    per_thread = 250

    def work(n: int) -> None:
        for i in range(per_thread):
            tool = "send_money" if i % 2 else "search"
            fw.check(call(tool, n=n, i=i), WHO, session="busy")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    history = fw.history.get("busy")
    assert history.calls == 8 * per_thread
    assert history.tools == {"search": 1000, "send_money": 1000}
    view = fw.history.view("busy", WHO.id)
    assert view.functions()["calls"]("tool:send_money", 0) == 1000
    assert view.functions()["calls"]("intent:payment", 0) == 1000
    assert view.functions()["attempts"]("*", 0) == 2000


def test_window_memory_is_bounded() -> None:
    counter = MemoryCounter(max_times=100)
    for i in range(1000):
        counter.add(["s:x"], ["*"], float(i))
    assert counter.count("s:x", "*", 0.0) <= 200
    assert counter.count("s:x", "*", 950.0) == 50


WORKER = """
import sys
sys.path.insert(0, {root!r})
from firewall import Firewall, Principal, ToolCall, policy_from_yaml
from firewall.history import HistoryStore, PostgresCounter
policy = policy_from_yaml('''
name: w
default: allow
tools: {{delete_rows: {{intents: [data.delete]}}}}
rules:
  - id: limit
    match: {{intents: [data.delete]}}
    when: principal_calls("intent:data.delete", 3600) >= {limit}
    verdict: deny
    message: limit
''')
fw = Firewall(policy, history=HistoryStore(PostgresCounter({url!r}, table={table!r})))
allowed = sum(
    fw.check(ToolCall(name="delete_rows"), Principal(id="w"), session=sys.argv[1]).allowed
    for _ in range(int(sys.argv[2]))
)
print(allowed)
"""


def test_two_processes_share_one_count_on_postgresql(tmp_path) -> None:
    try:
        import psycopg

        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except Exception as exc:
        need_server("PostgreSQL", exc)
    table = f"events_i17_{uuid.uuid4().hex[:8]}"
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(root=str(ROOT), url=POSTGRES_URL, table=table, limit=10))
    try:
        first = subprocess.run(
            [sys.executable, str(script), "one", "6"], capture_output=True, text=True, timeout=120
        )
        second = subprocess.run(
            [sys.executable, str(script), "two", "6"], capture_output=True, text=True, timeout=120
        )
        assert first.returncode == 0, first.stderr
        assert second.returncode == 0, second.stderr
        # 6 allowed in the first process; the second sees them and stops at 10 in all
        assert (int(first.stdout), int(second.stdout)) == (6, 4)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
