"""The decision engine: verdict paths, severity, monitor mode, includes, conditions, failures."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from firewall import (
    Classification,
    Classifier,
    Firewall,
    Principal,
    ToolCall,
    Verdict,
    load_policy,
    policy_from_yaml,
    register,
)


def _count_words(value: Any, options: Mapping[str, Any]) -> Classification:
    """A tiny real classifier for tests: counts words, flags 'delete' as data.delete."""
    if not isinstance(value, str):
        return Classification.unknown("not text")
    words = value.split()
    intents = {"data.delete"} if "delete" in words else {"data.read"}
    return Classification(intents=frozenset(intents), facts={"count": len(words), "words": words})


def _explode(value: Any, options: Mapping[str, Any]) -> Classification:
    raise RuntimeError("classifier bug")


register(Classifier(name="words", func=_count_words, facts=frozenset({"count", "words"})))
register(Classifier(name="exploding", func=_explode, facts=frozenset()))

POLICY = """
name: engine-test
version: "7"
default: deny
tools:
  search: {intents: [data.read]}
  mail: {intents: [message.send, network.egress]}
  pay: {intents: [payment.send]}
  text_tool:
    classify: {classifier: words, argument: text}
  broken_tool:
    classify: {classifier: exploding, argument: text}
  "db_*": {intents: [data.write]}
rules:
  - id: reads
    match: {intents: [data.read]}
    verdict: allow
  - id: mail-allowed
    match: {tools: [mail]}
    verdict: allow
  - id: mail-external
    match: {tools: [mail]}
    when: '!call.arguments.to.endsWith("@corp.test")'
    verdict: require_approval
    message: external mail needs approval
  - id: mail-blocked-domain
    match: {tools: [mail]}
    when: call.arguments.to.endsWith("@evil.test")
    verdict: deny
    message: that domain is blocked
  - id: payments
    match: {intents: [payment]}
    verdict: require_approval
    message: payments need approval
  - id: payments-admins-only-in-prod
    match: {intents: [payment.send]}
    when: context.env == "prod" && !("admin" in principal.roles)
    verdict: deny
    message: only admins pay in prod
  - id: long-text
    match: {tools: [text_tool]}
    when: facts.words.count > 5
    verdict: require_approval
    message: long texts need approval
  - id: deletes
    match: {intents: [data.delete]}
    when: '"data.delete" in intents'
    verdict: deny
    message: no deletes
  - id: humans-only
    match: {tools: [search], principals: {kinds: [human]}}
    when: principal.id == "eve"
    verdict: deny
    message: eve may not search
  - id: db-writes
    match: {tools: ["db_*"]}
    verdict: allow
  - id: db-writes-watch
    match: {tools: ["db_*"]}
    mode: monitor
    verdict: deny
    message: would block db writes
"""


@pytest.fixture(scope="module")
def policy():
    return policy_from_yaml(POLICY, source="engine-test.yaml")


@pytest.fixture
def fw(policy):
    return Firewall(policy)


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


def test_allow_when_an_allow_rule_matches(fw):
    d = fw.check(call("search", q="refunds"))
    assert d.verdict is Verdict.ALLOW and d.allowed
    assert d.rule_ids == ["reads"]
    assert d.intents == ("data.read",)
    assert d.policy == "engine-test" and d.policy_version == "7"


def test_default_verdict_when_nothing_matches(fw):
    d = fw.check(call("search_other"))
    assert d.verdict is Verdict.DENY
    assert d.rule_ids == ["default"]
    assert d.intents == ("unknown",)


def test_deny_beats_approval_beats_allow(fw):
    allowed = fw.check(call("mail", to="a@corp.test"))
    held = fw.evaluate(call("mail", to="a@partner.test"))
    denied = fw.check(call("mail", to="a@evil.test"))
    assert allowed.verdict is Verdict.ALLOW and allowed.rule_ids == ["mail-allowed"]
    assert held.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert [r.rule_id for r in held.reasons] == ["mail-allowed", "mail-external"]
    assert denied.verdict is Verdict.DENY
    assert denied.rule_ids == ["mail-allowed", "mail-external", "mail-blocked-domain"]
    assert "that domain is blocked" in denied.message_for_model()


def test_rule_order_never_changes_the_outcome(policy):
    shuffled = dataclasses.replace(policy, rules=tuple(reversed(policy.rules)))
    for target in ("a@evil.test", "a@partner.test", "a@corp.test"):
        a = Firewall(policy).evaluate(call("mail", to=target))
        b = Firewall(shuffled).evaluate(call("mail", to=target))
        assert a.policy_verdict is b.policy_verdict
        assert sorted(r.rule_id for r in a.reasons) == sorted(r.rule_id for r in b.reasons)


def test_require_approval_without_an_approver_is_denied(fw):
    d = fw.check(call("mail", to="a@partner.test"))
    assert d.verdict is Verdict.DENY
    assert d.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert d.reasons[-1].rule_id == "approval"
    assert "refused" in d.reasons[-1].message


def test_conditions_on_principal_and_context(fw):
    admin = Principal(id="root", kind="human", roles=("admin",))
    clerk = Principal(id="bob", kind="agent", roles=("clerk",))
    assert fw.evaluate(call("pay", amount=1), clerk, {"env": "prod"}).policy_verdict is Verdict.DENY
    assert (
        fw.evaluate(call("pay", amount=1), admin, {"env": "prod"}).policy_verdict
        is Verdict.REQUIRE_APPROVAL
    )
    assert (
        fw.evaluate(call("pay", amount=1), clerk, {"env": "dev"}).policy_verdict
        is Verdict.REQUIRE_APPROVAL
    )


def test_principal_match_by_kind_and_condition_on_id(fw):
    eve = Principal(id="eve", kind="human")
    eve_agent = Principal(id="eve", kind="agent")
    assert fw.check(call("search", q="x"), eve).verdict is Verdict.DENY
    assert fw.check(call("search", q="x"), eve_agent).verdict is Verdict.ALLOW


def test_conditions_on_facts_and_intents_from_a_classifier(fw):
    short = fw.check(call("text_tool", text="read me"))
    long = fw.evaluate(call("text_tool", text="one two three four five six seven"))
    delete = fw.check(call("text_tool", text="delete it"))
    assert short.verdict is Verdict.ALLOW
    assert short.facts == {"words": {"count": 2, "words": ["read", "me"]}}
    assert long.policy_verdict is Verdict.REQUIRE_APPROVAL
    assert delete.verdict is Verdict.DENY and "deletes" in delete.rule_ids


def test_missing_classified_argument_is_unknown(fw):
    d = fw.check(call("text_tool"))
    assert "unknown" in d.intents
    assert "missing" in d.facts["words"]["error"]
    assert d.verdict is Verdict.DENY


def test_invalid_json_arguments_are_unknown_never_allowed(fw):
    bad = ToolCall.from_json("search", '{"q": "x"')
    assert bad.raw_arguments == '{"q": "x"' and bad.arguments == {}
    d = fw.check(bad)
    assert d.intents == ("unknown",)
    assert d.verdict is Verdict.DENY
    not_object = ToolCall.from_json("search", "[1, 2]")
    assert fw.check(not_object).verdict is Verdict.DENY


def test_condition_error_applies_blocking_rules_and_skips_allow_rules(fw):
    # `to` is missing: the deny/approval conditions fail -> they apply (fail closed).
    d = fw.evaluate(call("mail", subject="hi"))
    assert d.policy_verdict is Verdict.DENY
    assert {"mail-external", "mail-blocked-domain"} <= {r.rule_id for r in d.reasons}
    assert any("condition failed" in e for e in d.errors)


def test_condition_error_never_allows():
    policy = policy_from_yaml(
        """
name: p
default: deny
tools: {t: {intents: [data.write]}}
rules:
  - id: allow-small
    match: {tools: [t]}
    when: call.arguments.n < 10
    verdict: allow
"""
    )
    fw = Firewall(policy)
    assert fw.check(call("t", n=3)).verdict is Verdict.ALLOW
    d = fw.check(call("t", n="three"))
    assert d.verdict is Verdict.DENY and d.rule_ids == ["default"]
    assert d.errors and "allow-small" in d.errors[0]


def test_crashing_classifier_is_a_deny_with_the_error(fw):
    d = fw.check(call("broken_tool", text="x"))
    assert d.verdict is Verdict.DENY
    assert d.rule_ids == ["firewall.error"]
    assert "classifier bug" in d.errors[0]


def test_failing_sink_makes_the_decision_a_deny(policy):
    class BrokenSink:
        def record(self, decision, call, principal, context):
            raise OSError("disk full")

    fw = Firewall(policy, sinks=[BrokenSink()])
    d = fw.check(call("search", q="x"))
    assert d.verdict is Verdict.DENY
    assert "disk full" in d.errors[-1]
    assert fw.memory.decisions[-1].verdict is Verdict.DENY


def test_every_decision_is_recorded(fw):
    fw.check(call("search", q="x"))
    fw.check(call("mail", to="a@evil.test"))
    assert [d.tool for d in fw.memory.decisions] == ["search", "mail"]


def test_rule_level_monitor_reports_but_does_not_block(fw):
    d = fw.check(call("db_insert", row=1))
    assert d.verdict is Verdict.ALLOW
    monitored = [r for r in d.reasons if r.monitor_only]
    assert [r.rule_id for r in monitored] == ["db-writes-watch"]


def test_policy_monitor_mode_records_but_blocks_nothing():
    policy = policy_from_yaml(POLICY.replace("default: deny", "default: deny\nmode: monitor"))
    fw = Firewall(policy)
    d = fw.check(call("mail", to="a@evil.test"))
    assert d.verdict is Verdict.ALLOW
    assert d.policy_verdict is Verdict.DENY
    assert d.mode == "monitor"
    assert fw.memory.decisions[-1].policy_verdict is Verdict.DENY


def test_glob_tool_declaration(fw):
    assert fw.check(call("db_update")).intents == ("data.write",)


def test_include_merges_tools_and_rules(tmp_path: Path):
    (tmp_path / "base.yaml").write_text(
        "name: base\ntools:\n  mail: {intents: [message.send]}\n"
        "rules:\n  - id: mail-ok\n    match: {tools: [mail]}\n    verdict: allow\n"
    )
    (tmp_path / "top.yaml").write_text(
        "name: top\ndefault: deny\ninclude: [base.yaml]\n"
        "rules:\n  - id: no-mail-for-bots\n"
        "    match: {intents: [message], principals: {kinds: [service]}}\n"
        "    verdict: deny\n    message: services do not mail\n"
    )
    fw = Firewall(load_policy(tmp_path / "top.yaml"))
    assert fw.check(call("mail")).verdict is Verdict.ALLOW
    service = Principal(id="cron", kind="service")
    d = fw.check(call("mail"), service)
    assert d.verdict is Verdict.DENY and d.rule_ids == ["mail-ok", "no-mail-for-bots"]
    assert fw.policy.name == "top"


def test_intent_prefix_matches_the_whole_family():
    policy = policy_from_yaml(
        """
name: p
default: allow
tools:
  drop: {intents: [schema.drop]}
  alter: {intents: [schema.alter]}
  grant: {intents: [privilege.grant]}
rules:
  - id: no-schema-changes
    match: {intents: [schema]}
    verdict: deny
    message: no schema changes
"""
    )
    fw = Firewall(policy)
    assert fw.check(call("drop")).verdict is Verdict.DENY
    assert fw.check(call("alter")).verdict is Verdict.DENY
    assert fw.check(call("grant")).verdict is Verdict.ALLOW


def test_many_threads_share_one_firewall(policy):
    fw = Firewall(policy)
    targets = ["a@corp.test", "a@evil.test", "a@partner.test"]
    expected = {
        "a@corp.test": Verdict.ALLOW,
        "a@evil.test": Verdict.DENY,
        "a@partner.test": Verdict.DENY,  # approval refused by the default approver
    }
    wrong: list[str] = []
    barrier = threading.Barrier(8)

    def worker(seed: int) -> None:
        barrier.wait()
        for i in range(300):
            target = targets[(seed + i) % 3]
            d = fw.check(call("mail", to=target), context={"n": i})
            if d.verdict is not expected[target]:
                wrong.append(f"{target}: {d.verdict}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
    assert len(fw.memory) == 8 * 300


def test_async_check_matches_sync(policy):
    fw = Firewall(policy)

    async def main() -> list[Verdict]:
        calls = [call("mail", to=t) for t in ("a@corp.test", "a@evil.test")] * 20
        decisions = await asyncio.gather(*(fw.acheck(c) for c in calls))
        return [d.verdict for d in decisions]

    verdicts = asyncio.run(main())
    assert verdicts == [Verdict.ALLOW, Verdict.DENY] * 20


def test_fingerprint_ignores_key_order_but_not_values():
    a = ToolCall(name="t", arguments={"x": 1, "y": [1, 2]})
    b = ToolCall(name="t", arguments={"y": [1, 2], "x": 1})
    c = ToolCall(name="t", arguments={"x": 2, "y": [1, 2]})
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert ToolCall(name="u", arguments=a.arguments).fingerprint() != a.fingerprint()


def test_only_intents_requires_every_intent_to_fit():
    policy = policy_from_yaml(
        """
name: p
default: require_approval
tools:
  read: {intents: [data.read]}
  read_and_delete: {intents: [data.read, data.delete]}
  nothing: {intents: []}
rules:
  - id: reads-any
    match: {tools: [read_and_delete], intents: [data.read]}
    verdict: allow
  - id: reads-only
    match: {only_intents: [data.read]}
    verdict: allow
"""
    )
    fw = Firewall(policy)
    assert fw.check(call("read")).rule_ids == ["reads-only"]
    mixed = fw.evaluate(call("read_and_delete"))
    # `intents` is any-of and lets it in; `only_intents` does not.
    assert [r.rule_id for r in mixed.reasons] == ["reads-any"]
    assert fw.check(call("nothing")).rule_ids == ["reads-only"]


def test_explain_evaluates_every_condition_with_its_inputs():
    from firewall.explain import explain

    policy = policy_from_yaml(POLICY)
    fw = Firewall(policy)
    traces = {
        t.rule_id: t
        for t in explain(
            fw, call("pay", amount=1), Principal(id="a", roles=("x",)), {"env": "prod"}
        ).rules
    }
    assert traces["payments-admins-only-in-prod"].matched
    assert "condition is true" in traces["payments-admins-only-in-prod"].why
    assert "is not one of" in traces["mail-external"].why
    assert not any("condition failed" in t.why for t in traces.values())


def test_missing_ner_model_is_a_clear_error_when_the_firewall_is_built(monkeypatch):
    import firewall.engine as engine_module
    from firewall import FirewallError

    monkeypatch.setattr(engine_module, "ner_model_installed", lambda: False)
    with pytest.raises(FirewallError, match=r"redaction.ner: false"):
        Firewall(policy_from_yaml("name: p\n"))
    # A policy that does not ask for names and places needs no model.
    Firewall(policy_from_yaml("name: p\nredaction: {ner: false}\n"))
