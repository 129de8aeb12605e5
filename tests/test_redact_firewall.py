"""Firewall.after and placeholders across calls: stability, restoration, sessions, records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firewall import Firewall, ToolCall, Verdict, load_policy, policy_from_dict
from firewall.redact.engine import analyzer_for
from firewall.redact.vault import SessionVault, VaultStore, restore
from tests.conftest import POLICIES

SEEDED = {
    "email": "maria.lopez@example.com",
    "other_email": "dev.ops@corp-mail.net",
    "phone": "+1 415 555 0199",
    "ssn": "219-09-9999",
    "name": "Maria Lopez",
    "password": "Tr0ub4dor&3x",
}


@pytest.fixture(scope="module", autouse=True)
def engine() -> None:
    analyzer_for(True)  # build once for the module


def crm_lookup() -> ToolCall:
    return ToolCall(name="search_docs", arguments={"query": "customer 17"}, id="c1")


def customer() -> dict:
    return {
        "name": SEEDED["name"],
        "email": SEEDED["email"],
        "phone": SEEDED["phone"],
        "ssn": SEEDED["ssn"],
        "notes": f"Prefers mail to {SEEDED['email']}; db password={SEEDED['password']}",
    }


@pytest.fixture
def fw() -> Firewall:
    return Firewall(load_policy(POLICIES / "default.yaml"))


def test_after_replaces_pii_with_stable_placeholders(fw: Firewall) -> None:
    out = fw.after(crm_lookup(), customer(), session="s1")
    assert out.output["email"] == "<EMAIL_ADDRESS_1>"
    assert out.output["notes"].startswith("Prefers mail to <EMAIL_ADDRESS_1>;")
    assert out.entities["EMAIL_ADDRESS"] == 2
    assert out.labels == frozenset({"pii", "secret"})
    again = fw.after(
        crm_lookup(), {"to": SEEDED["email"], "cc": SEEDED["other_email"]}, session="s1"
    )
    assert again.output == {"to": "<EMAIL_ADDRESS_1>", "cc": "<EMAIL_ADDRESS_2>"}


def test_the_output_never_holds_a_seeded_value(fw: Firewall) -> None:
    text = json.dumps(fw.after(crm_lookup(), customer(), session="s1").output)
    for value in SEEDED.values():
        assert value not in text


def test_sessions_never_share_placeholders(fw: Firewall) -> None:
    fw.after(crm_lookup(), {"email": SEEDED["email"]}, session="alice")
    out = fw.after(crm_lookup(), {"email": SEEDED["other_email"]}, session="bob")
    assert out.output == {"email": "<EMAIL_ADDRESS_1>"}
    # bob's <EMAIL_ADDRESS_1> is bob's address, never alice's
    call = ToolCall(name="send_email", arguments={"to": "<EMAIL_ADDRESS_1>", "body": "hi"})
    decision = fw.check(call, session="bob")
    assert decision.arguments == {"to": SEEDED["other_email"], "body": "hi"}
    # and a session that never saw the placeholder cannot resolve it
    stranger = fw.check(call, session="carol")
    assert stranger.arguments is None
    assert stranger.facts["redaction"]["unknown_placeholders"] == ["<EMAIL_ADDRESS_1>"]


def test_placeholders_in_arguments_are_restored_before_the_rules(fw: Firewall) -> None:
    fw.after(crm_lookup(), {"email": "ops@example.com", "name": SEEDED["name"]}, session="s")
    call = ToolCall(
        name="send_email",
        arguments={"to": "<EMAIL_ADDRESS_1>", "body": "Dear <PERSON_1>, all set."},
    )
    decision = fw.check(call, session="s")
    # The rules saw the real recipient: internal mail is allowed.
    assert "internal-mail-allowed" in decision.rule_ids
    assert decision.arguments == {
        "to": "ops@example.com",
        "body": f"Dear {SEEDED['name']}, all set.",
    }
    assert decision.arguments_for(call) == decision.arguments
    assert decision.facts["redaction"] == {
        "restored": {"to": ["EMAIL_ADDRESS"], "body": ["PERSON"]},
        "unknown_placeholders": [],
    }


def test_restored_values_stay_out_of_serialised_decisions(fw: Firewall) -> None:
    fw.after(crm_lookup(), {"email": SEEDED["email"]}, session="s")
    call = ToolCall(name="send_email", arguments={"to": "<EMAIL_ADDRESS_1>", "body": "x"})
    decision = fw.check(call, session="s")
    assert decision.arguments == {"to": SEEDED["email"], "body": "x"}
    assert SEEDED["email"] not in decision.model_dump_json()
    assert SEEDED["email"] not in repr(decision)
    assert "arguments" not in decision.model_dump()


@pytest.mark.parametrize(
    "mangled",
    ["<EMAIL_ADDRESS_7>", "<email_address_1>", "<EMAIL_ADDRESS 1>", "EMAIL_ADDRESS_1", "<EMAIL_1>"],
)
def test_mangled_or_invented_placeholders_are_left_and_flagged(fw: Firewall, mangled: str) -> None:
    fw.after(crm_lookup(), {"email": SEEDED["email"]}, session="s")
    call = ToolCall(name="send_email", arguments={"to": mangled, "body": "x"})
    decision = fw.check(call, session="s")
    assert decision.arguments is None  # nothing restored: the tool gets the text as written
    assert decision.facts["redaction"]["unknown_placeholders"] == [mangled]
    assert decision.facts["redaction"]["restored"] == {}


def test_no_redaction_facts_without_placeholders(fw: Firewall) -> None:
    decision = fw.check(ToolCall(name="search_docs", arguments={"query": "refund policy"}))
    assert "redaction" not in decision.facts
    assert decision.arguments is None


def test_a_policy_rule_can_read_what_was_restored() -> None:
    policy = policy_from_dict(
        {
            "name": "restore-rules",
            "default": "allow",
            "tools": {"send_email": {"intents": ["message.send"]}},
            "rules": [
                {
                    "id": "no-ssn-out",
                    "match": {"tools": ["send_email"]},
                    "when": "has(facts.redaction) && facts.redaction.restored.exists(k, "
                    '"US_SSN" in facts.redaction.restored[k])',
                    "verdict": "deny",
                    "message": "A social security number may not be mailed.",
                },
                {
                    "id": "no-made-up-placeholders",
                    "match": {"tools": ["send_email"]},
                    "when": "has(facts.redaction)"
                    " && size(facts.redaction.unknown_placeholders) > 0",
                    "verdict": "deny",
                    "message": "The model wrote a placeholder that stands for nothing.",
                },
            ],
        }
    )
    fw = Firewall(policy)
    fw.after(crm_lookup(), {"ssn": SEEDED["ssn"], "email": SEEDED["email"]}, session="s")
    send = lambda body: fw.check(  # noqa: E731
        ToolCall(name="send_email", arguments={"to": "<EMAIL_ADDRESS_1>", "body": body}),
        session="s",
    )
    assert send("hello").verdict is Verdict.ALLOW
    assert send("your ssn is <US_SSN_1>").rule_ids == ["no-ssn-out"]
    assert send("see <PERSON_9>").rule_ids == ["no-made-up-placeholders"]


def test_exempt_tools_pass_through(fw: Firewall) -> None:
    out = fw.after(ToolCall(name="calculator", arguments={}), {"email": SEEDED["email"]})
    assert out.exempt and out.output == {"email": SEEDED["email"]}


def test_policy_actions_mask_and_withhold() -> None:
    policy = policy_from_dict(
        {
            "name": "actions",
            "redaction": {
                "actions": {"CREDIT_CARD": "mask", "US_SSN": "hash", "PRIVATE_KEY": "withhold"}
            },
        }
    )
    fw = Firewall(policy)
    out = fw.after(crm_lookup(), {"card": "4111 1111 1111 1111", "ssn": SEEDED["ssn"]})
    assert out.output["card"] == "*" * len("4111 1111 1111 1111")
    assert len(out.output["ssn"]) == 64 and SEEDED["ssn"] not in out.output["ssn"]
    key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    withheld = fw.after(crm_lookup(), f"config:\n{key}\nother: fine")
    assert withheld.withheld and withheld.entities["PRIVATE_KEY"] == 1
    assert "MIIEvQ" not in withheld.output and "PRIVATE_KEY" in withheld.output


def test_redaction_can_be_switched_off_by_policy() -> None:
    fw = Firewall(policy_from_dict({"name": "off", "redaction": {"enabled": False}}))
    out = fw.after(crm_lookup(), SEEDED["email"])
    assert out.exempt and out.output == SEEDED["email"]


def test_aafter_matches_after(fw: Firewall) -> None:
    out = asyncio.run(fw.aafter(crm_lookup(), {"email": SEEDED["email"]}, session="async"))
    assert out.output == {"email": "<EMAIL_ADDRESS_1>"}


def test_nothing_the_firewall_recorded_holds_a_seeded_value(fw: Firewall) -> None:
    fw.after(crm_lookup(), customer(), session="scan")
    calls = [
        ToolCall(name="send_email", arguments={"to": "<EMAIL_ADDRESS_1>", "body": "<PERSON_1>"}),
        ToolCall(name="send_slack_message", arguments={"text": "call <PHONE_NUMBER_1>"}),
        ToolCall(name="search_docs", arguments={"query": "ssn <US_SSN_1> <PASSWORD_1>"}),
        ToolCall(name="frobnicate", arguments={"x": "<EMAIL_ADDRESS_1>"}),
    ]
    decisions = [fw.check(c, session="scan", context={"env": "production"}) for c in calls]
    assert any(d.arguments for d in decisions)  # values were restored for the tools...
    recorded = json.dumps(
        [d.model_dump(mode="json") for d in fw.memory.decisions], ensure_ascii=False
    )
    recorded += repr(fw.memory.decisions)
    for value in SEEDED.values():  # ...and never written down
        assert value not in recorded


def test_nothing_reaches_the_audit_log_in_clear(tmp_path: Path) -> None:
    from firewall.audit.scrub import redactor_for
    from firewall.audit.sink import AuditSink

    fw = Firewall(load_policy(POLICIES / "default.yaml"))
    path = tmp_path / "audit.db"
    fw.sinks.append(AuditSink(path, redactor=redactor_for(fw)))
    fw.after(crm_lookup(), customer(), session="audit")
    for call in (
        ToolCall(name="send_email", arguments={"to": "<EMAIL_ADDRESS_1>", "body": "<PERSON_1>"}),
        ToolCall(name="search_docs", arguments={"query": f"ssn <US_SSN_1> {SEEDED['phone']}"}),
    ):
        fw.check(call, session="audit")
    stored = path.read_bytes()
    for sidecar in tmp_path.glob("audit.db-*"):  # the write-ahead log, if any
        stored += sidecar.read_bytes()
    assert b"redaction" in stored  # the redaction itself was logged (types and counts)
    for value in SEEDED.values():
        assert value.encode() not in stored


def test_vault_store_evicts_the_oldest_session() -> None:
    store = VaultStore(max_sessions=2)
    store.get("a").placeholder("EMAIL_ADDRESS", "a@example.com")
    store.get("b")
    store.get("c")
    assert store.peek("a") is None and len(store) == 2
    assert restore({"to": "<EMAIL_ADDRESS_1>"}, store.peek("a")).unknown == ["<EMAIL_ADDRESS_1>"]


def test_vault_numbers_per_entity_and_restores_nested_arguments() -> None:
    vault = SessionVault()
    assert vault.placeholder("PERSON", "Ann") == "<PERSON_1>"
    assert vault.placeholder("EMAIL_ADDRESS", "a@x.io") == "<EMAIL_ADDRESS_1>"
    assert vault.placeholder("PERSON", "Bo") == "<PERSON_2>"
    assert vault.placeholder("PERSON", "Ann") == "<PERSON_1>"
    result = restore({"to": ["<EMAIL_ADDRESS_1>"], "meta": {"n": "<PERSON_2> & <PERSON_1>"}}, vault)
    assert result.arguments == {"to": ["a@x.io"], "meta": {"n": "Bo & Ann"}}
    assert result.restored == {"to.0": ["EMAIL_ADDRESS"], "meta.n": ["PERSON"]}


def test_a_full_vault_fails_closed() -> None:
    vault = SessionVault(max_values=1)
    vault.placeholder("PERSON", "Ann")
    with pytest.raises(OverflowError):
        vault.placeholder("PERSON", "Bo")


def test_concurrent_sessions_keep_their_own_placeholders() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fw = Firewall(load_policy(POLICIES / "default.yaml"))

    def session(n: int) -> tuple[str, dict | None]:
        name = f"t{n}"
        email = f"user{n}@example.org"
        out = fw.after(crm_lookup(), {"email": email, "note": f"reach {email}"}, session=name)
        call = ToolCall(name="send_email", arguments={"to": out.output["email"], "body": "x"})
        return email, fw.check(call, session=name).arguments

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(session, range(12)))
    for email, arguments in results:
        assert arguments == {"to": email, "body": "x"}
