"""``pii`` and ``secret`` label the values redaction found, not every value of their result.

A customer record holds an order id and a phone number: a mail quoting only the order id
carries no personal data and leaves; a mail carrying the phone number (or the placeholder
the model saw instead) is still held. ``untrusted`` keeps covering the whole result.
"""

from __future__ import annotations

import pytest

from firewall import Firewall, ToolCall, Verdict, load_policy
from firewall.graph import SessionGraph
from firewall.redact.engine import analyzer_for
from tests.conftest import POLICIES

PHONE = "+1 415 555 0199"
ORDER = "ORD-2024-88412"
NAME = "Maria Lopez"
API_KEY = "sk_live_51Hx9QvLkM2n8Rt4YpZ7wEa3B"
TICKET = "INC-77120-B"
PII_RULE = "personal-data-leaving-needs-approval"


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)  # build once for the module


@pytest.fixture
def fw() -> Firewall:
    return Firewall(load_policy(POLICIES / "default.yaml"))


def lookup_customer(fw: Firewall, session: str) -> dict:
    call = ToolCall(name="lookup_customer", arguments={"customer": "17"}, id="c1")
    record = {"name": NAME, "phone": PHONE, "last_order": ORDER, "status": "shipped"}
    out = fw.after(call, record, session=session)
    assert out.labels == {"pii"}
    assert out.output["phone"] == "<PHONE_NUMBER_1>" and out.output["last_order"] == ORDER
    return out.output


def mail(fw: Firewall, session: str, body: str):
    call = ToolCall(name="send_email", arguments={"to": "ops@example.com", "body": body})
    return fw.check(call, session=session)


def test_a_mail_quoting_only_the_order_id_is_not_personal_data(fw: Firewall) -> None:
    lookup_customer(fw, "s")
    decision = mail(fw, "s", f"Your order {ORDER} has shipped.")
    assert decision.verdict is Verdict.ALLOW
    assert PII_RULE not in decision.rule_ids
    # The order id still comes from the lookup: its origin is kept, only the label is not.
    graph = fw.graphs.get("s")
    flow = graph.provenance({"body": f"Your order {ORDER} has shipped."}).arguments["body"]
    assert flow.found and flow.tools == {"lookup_customer"} and "pii" not in flow.labels
    result = graph.nodes("result")[0]
    assert "pii" in result.labels  # the result as a whole did hold personal data
    assert any(e.src == result.id and e.kind == "flows_to" for e in graph.edges())


@pytest.mark.parametrize(
    "body",
    [
        f"Your order {ORDER} has shipped, we called {PHONE}.",
        f"Call {PHONE.replace(' ', '')} about {ORDER}.",
        "Your order shipped, we called <PHONE_NUMBER_1>.",
        "Dear <PERSON_1>, your order has shipped.",
    ],
    ids=["phone", "phone-respaced", "phone-placeholder", "name-placeholder"],
)
def test_a_mail_carrying_the_redacted_value_is_still_held(fw: Firewall, body: str) -> None:
    lookup_customer(fw, "s")
    decision = mail(fw, "s", body)
    assert decision.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert decision.verdict is not Verdict.ALLOW  # no approver is configured
    assert PII_RULE in decision.rule_ids


def test_a_secret_labels_only_the_secret(fw: Firewall) -> None:
    call = ToolCall(name="get_service_config", arguments={}, id="c2")
    out = fw.after(call, {"service": "billing", "api_key": API_KEY, "ticket": TICKET}, session="k")
    assert out.labels == {"secret"} and API_KEY not in str(out.output)
    placeholder = out.output["api_key"]
    quoting_ticket = mail(fw, "k", f"Please look at ticket {TICKET}.")
    # Every egress after a secret waits for a person (the session rule), but the mail
    # itself carries no secret.
    assert PII_RULE not in quoting_ticket.rule_ids
    assert "egress-after-a-secret-was-read-needs-approval" in quoting_ticket.rule_ids
    for body in (f"The key is {API_KEY}", f"The key is {placeholder}"):
        assert PII_RULE in mail(fw, "k", body).rule_ids, body
    flow = fw.graphs.get("k").provenance({"a": TICKET, "b": API_KEY}).arguments
    assert "secret" not in flow["a"].labels and "secret" in flow["b"].labels


def test_untrusted_still_covers_every_value_of_an_untrusted_result(fw: Firewall) -> None:
    call = ToolCall(name="read_email", arguments={"folder": "inbox"}, id="c3")
    text = f"Hi, I am {NAME}, call me at {PHONE} about order {ORDER} or see https://shop.test/o/9"
    out = fw.after(call, text, session="u")
    assert out.labels == {"pii"}
    graph = fw.graphs.get("u")
    # One argument per lookup: neighbouring arguments are also read joined together.
    values = {"order": ORDER, "link": "https://shop.test/o/9", "phone": PHONE}
    values["held"] = "<PHONE_NUMBER_1>"
    flows = {k: graph.provenance({k: v}).arguments[k] for k, v in values.items()}
    for name, flow in flows.items():
        assert "untrusted" in flow.labels, name
    assert "pii" not in flows["order"].labels and "pii" not in flows["link"].labels
    assert "pii" in flows["phone"].labels and "pii" in flows["held"].labels
    assert graph.nodes("result")[0].labels == {"untrusted", "pii"}


def test_per_field_labels_and_value_labels_combine() -> None:
    graph = SessionGraph("f")
    from firewall.fieldlabels import FieldLabels

    fields = FieldLabels.parse({"untrusted": ["body"], "directory": ["sender"]})
    graph.add_result(
        {"sender": "<EMAIL_ADDRESS_1>", "body": f"order {ORDER}"},
        original={"sender": "ann@corp.test", "body": f"order {ORDER}"},
        field_labels=fields,
        value_labels={"pii": ["ann@corp.test", "<EMAIL_ADDRESS_1>"]},
    )
    flows = graph.provenance({"to": "ann@corp.test", "ref": ORDER}).arguments
    assert flows["to"].labels == {"directory", "pii"}
    assert flows["ref"].labels == {"untrusted"}


def test_eviction_leaves_no_stale_labels() -> None:
    graph = SessionGraph("e", max_events=10)  # past 10 events, the oldest one goes
    graph.add_result(
        f"phone {PHONE}, order {ORDER}",
        labels={"untrusted"},
        value_labels={"pii": [PHONE, "<PHONE_NUMBER_1>"]},
    )
    graph.add_message("assistant", "looking further")
    # A later result holds the same phone number without any label.
    graph.add_result(f"callback list: {PHONE}")
    lookup = lambda: {  # noqa: E731
        k: graph.provenance({k: v}).arguments[k]
        for k, v in {"p": PHONE, "o": ORDER, "h": "<PHONE_NUMBER_1>"}.items()
    }
    before = lookup()
    assert before["p"].labels == {"untrusted", "pii"} and before["o"].labels == {"untrusted"}
    assert before["h"].labels == {"untrusted", "pii"}
    for i in range(8):
        graph.add_message("assistant", f"note {i}")
    assert [n.id for n in graph.nodes("result")] == ["r3"]  # the first result is evicted
    after = lookup()
    assert after["p"].found and after["p"].labels == set() and after["p"].sources == ["r3"]
    assert not after["o"].found and not after["h"].found
    for i in range(10):
        graph.add_message("assistant", f"more {i}")
    assert graph.nodes("result") == []
    assert not any(found.found for found in lookup().values())
    # What is left are the messages' own keys, with no label of the evicted results.
    assert len(graph._index) > 0
    index = graph._index
    assert not any(set(index._get(key).labels()) for key in list(index._entries))


def test_a_replayed_trace_decides_as_the_session_did(fw: Firewall, tmp_path) -> None:
    from firewall.export import read_trace, write_trace
    from firewall.replay import replay

    lookup_customer(fw, "t")
    live = [
        mail(fw, "t", body).policy_verdict
        for body in (f"Order {ORDER} shipped.", "We called <PHONE_NUMBER_1>.")
    ]
    assert live == [Verdict.ALLOW, Verdict.REQUIRE_APPROVAL]
    trace = tmp_path / "t.jsonl"
    write_trace(fw.graph("t"), trace, arguments="clear")
    text = trace.read_text()
    assert PHONE not in text and '"value_labels": {"pii": [' in text
    report = replay(read_trace(trace), load_policy(POLICIES / "default.yaml"))
    assert report.replayed == 2 and not report.changed, report.summary()


@pytest.mark.parametrize("broken", ["<PHONE_NUMBER_1>", {"pii": "<PHONE_NUMBER_1>"}, {"pii": [7]}])
def test_a_trace_with_unreadable_value_labels_labels_the_whole_result(broken) -> None:
    from firewall.replay import replay

    result = {"type": "result", "session": "m", "tool": "lookup_customer", "labels": ["pii"]}
    result |= {"output": f"order {ORDER}, phone <PHONE_NUMBER_1>", "value_labels": broken}
    body = {"to": "ops@example.com", "body": f"Order {ORDER} shipped."}
    call = {"type": "call", "session": "m", "tool": "send_email", "arguments": body}
    report = replay([result, call | {"policy_verdict": "allow"}], fw_policy())
    assert report.replayed == 1 and report.changed  # held: pii covers every value
    assert PII_RULE in report.changes[0].rules_after


def fw_policy():
    return load_policy(POLICIES / "default.yaml")


def test_a_cut_long_output_labels_the_values_of_its_head() -> None:
    import dataclasses

    policy = load_policy(POLICIES / "default.yaml")
    # A long output: its head is redacted and shown, the rest cut.
    redaction = policy.redaction.model_copy(update={"max_chars": 400})
    fw = Firewall(dataclasses.replace(policy, redaction=redaction))
    call = ToolCall(name="lookup_customer", arguments={}, id="c9")
    head = f"customer: {NAME}\nphone: {PHONE}\norder: {ORDER}\n"
    out = fw.after(call, head + "filler line of the log\n" * 40, session="c")
    assert out.truncated and out.labels == {"pii"} and PHONE not in out.output
    assert PII_RULE not in mail(fw, "c", f"Order {ORDER} shipped.").rule_ids
    assert PII_RULE in mail(fw, "c", "We called <PHONE_NUMBER_1>.").rule_ids
