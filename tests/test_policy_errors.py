"""Malformed policies: each must fail at load with an error naming the file, rule, field, line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from firewall import PolicyError, load_policy

R1 = "name: p\nrules:\n  - id: r1\n"
DENY = "    verdict: deny\n    message: m\n"
GOOD_RULE = """
  - id: ok-rule
    match: {tools: [x]}
    verdict: allow
"""

# (name, policy text, expected rule, expected field (substring), text the message must contain)
CASES = [
    (
        "unknown verdict",
        R1 + "    verdict: maybe\n    message: m\n",
        "r1",
        "rules.0.verdict",
        "allow",
    ),
    (
        "misspelt rule field",
        R1 + "    verdcit: deny\n" + DENY,
        "r1",
        "rules.0.verdcit",
        "unknown field",
    ),
    (
        "missing verdict",
        R1 + "    message: m\n",
        "r1",
        "rules.0.verdict",
        "Field required",
    ),
    (
        "CEL syntax error",
        R1 + "    when: call.name ==\n" + DENY,
        "r1",
        "when",
        "Syntax error",
    ),
    (
        "unknown CEL variable",
        R1 + "    when: request.name == 'x'\n" + DENY,
        "r1",
        "when",
        "unknown variable 'request'",
    ),
    (
        "unknown call field",
        R1 + "    when: call.nmae == 'x'\n" + DENY,
        "r1",
        "when",
        "unknown field 'call.nmae'",
    ),
    (
        "unknown principal field",
        R1 + "    when: principal.role == 'x'\n" + DENY,
        "r1",
        "when",
        "unknown field 'principal.role'",
    ),
    (
        "misspelt flow field",
        R1 + "    when: '\"untrusted\" in flow.recipient.lables'\n" + DENY,
        "r1",
        "when",
        "unknown field 'flow.recipient.lables'",
    ),
    (
        "unknown classifier in facts",
        R1 + "    when: facts.nosuch.x\n" + DENY,
        "r1",
        "when",
        "unknown classifier 'facts.nosuch'",
    ),
    (
        "unknown intent in a match",
        R1 + "    match: {intents: [data.nuke]}\n" + DENY,
        "r1",
        "rules.0.match.intents",
        "unknown intent or intent prefix 'data.nuke'",
    ),
    (
        "unknown principal kind",
        R1 + "    match: {principals: {kinds: [robot]}}\n    verdict: allow\n",
        "r1",
        "rules.0.match.principals.kinds",
        "human",
    ),
    (
        "deny rule without a message",
        R1 + "    verdict: deny\n",
        "r1",
        "message",
        "needs a message",
    ),
    (
        "duplicate rule id",
        "name: p\nrules:" + GOOD_RULE + GOOD_RULE,
        "ok-rule",
        "id",
        "duplicate rule id",
    ),
    (
        "rule id with spaces",
        "name: p\nrules:\n  - id: my rule\n    verdict: allow\n",
        "my rule",
        "rules.0.id",
        "rule ids use",
    ),
    (
        "rule without id",
        "name: p\nrules:\n  - verdict: allow\n",
        "#1",
        "rules.0.id",
        "Field required",
    ),
    (
        "unknown declared intent on a tool",
        "name: p\ntools:\n  t: {intents: [mail.send]}\n",
        None,
        "tools.t.intents",
        "unknown intent 'mail.send'",
    ),
    (
        "unknown classifier on a tool",
        "name: p\ntools:\n  t:\n    classify: {classifier: cobol, argument: src}\n",
        None,
        "tools.t.classify.0.classifier",
        "unknown classifier 'cobol'",
    ),
    (
        "unknown default verdict",
        "name: p\ndefault: permit\n",
        None,
        "default",
        "allow",
    ),
    (
        "unknown mode",
        "name: p\nmode: audit\n",
        None,
        "mode",
        "enforce",
    ),
    (
        "missing name",
        "rules: []\n",
        None,
        "name",
        "Field required",
    ),
    (
        "duplicate key",
        "name: p\nrules: []\nrules: []\n",
        None,
        None,
        "duplicate key 'rules'",
    ),
    (
        "not a mapping",
        "- just\n- a list\n",
        None,
        None,
        "must be a mapping",
    ),
    (
        "YAML syntax error",
        "name: p\nrules: [\n",
        None,
        None,
        "invalid YAML",
    ),
    (
        "condition that is not a string",
        R1 + "    when: [1, 2]\n" + DENY,
        "r1",
        "rules.0.when",
        "string",
    ),
    (
        "test with an unknown verdict",
        "name: p\ntests:\n  - call: {name: x}\n    expect: ok\n",
        None,
        "tests.0.expect",
        "allow",
    ),
]


@pytest.mark.parametrize(
    ("text", "rule", "field", "needle"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_policy_names_file_rule_and_field(
    tmp_path: Path, text: str, rule: str | None, field: str | None, needle: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    assert error.file == str(path)
    assert error.rule == rule
    if field is not None:
        assert error.field is not None and field in error.field
    assert needle in str(error)
    assert str(path) in str(error)
    assert error.line is not None and 1 <= error.line <= text.count("\n") + 1


def test_error_points_at_the_offending_line(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        name: p
        rules:
          - id: fine
            match: {tools: [x]}
            verdict: allow
          - id: broken
            match: {tools: [x]}
            when: call.arguments.to ==
            verdict: deny
            message: m
        """
    )
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.line == 8
    assert caught.value.rule == "broken"
    assert f"{path}:8: rule 'broken': field 'when'" in str(caught.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "absent.yaml")


def test_include_cycle_and_missing_include(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\ninclude: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("name: b\ninclude: [a.yaml]\n")
    with pytest.raises(PolicyError, match="include cycle"):
        load_policy(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("name: c\ninclude: [nowhere.yaml]\n")
    with pytest.raises(PolicyError, match="not found") as caught:
        load_policy(tmp_path / "c.yaml")
    assert caught.value.field == "include" and caught.value.line == 2


def test_error_inside_included_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "name: base\nrules:\n  - id: bad\n    verdict: deny\n    message: m\n    when: 1 +\n"
    )
    (tmp_path / "top.yaml").write_text("name: top\ninclude: [base.yaml]\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "top.yaml")
    assert caught.value.file is not None and caught.value.file.endswith("base.yaml")
    assert caught.value.rule == "bad"


def test_rule_id_duplicated_across_include(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("name: base\nrules:" + GOOD_RULE)
    (tmp_path / "top.yaml").write_text("name: top\ninclude: [base.yaml]\nrules:" + GOOD_RULE)
    with pytest.raises(PolicyError, match="duplicate rule id") as caught:
        load_policy(tmp_path / "top.yaml")
    assert caught.value.rule == "ok-rule"
