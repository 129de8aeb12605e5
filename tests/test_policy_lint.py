"""Lint catches the mistakes that would otherwise disable a rule without a word."""

from __future__ import annotations

import textwrap
import time

import pytest

from firewall import PolicyError, policy_from_yaml
from firewall.facttypes import declared_fact_types
from firewall.intent import get_classifier

BUILT_IN = ("http", "path", "shell", "sql")  # tests register others; users may too


def load(text: str):
    return policy_from_yaml(textwrap.dedent(text))


def error_of(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load(text)
    return caught.value


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ('facts.shell.sudo == "yes"', "is a bool"),
        ("facts.sql.write_count > '5'", "is a int"),
        ('facts.sql.tables_written == "users"', "test membership"),
        ('"x" in facts.shell.sudo', "'in' needs a list"),
        ("facts.http.port == '443'", "is a int"),
        ("1 < facts.sql.unbounded_write", "is a bool"),
    ],
)
def test_a_comparison_that_can_never_hold_is_rejected(condition: str, words: str) -> None:
    error = error_of(
        f"""
        name: p
        tools: {{run: {{classify: [{{classifier: shell, argument: cmd}}]}}}}
        rules:
          - id: r
            match: {{tools: [run]}}
            when: {condition!r}
            verdict: deny
            message: m
        """
    )
    assert words in str(error) and error.rule == "r" and error.field == "when"


@pytest.mark.parametrize(
    "condition",
    [
        "facts.shell.sudo",
        "facts.sql.write_count > 5",
        '"users" in facts.sql.tables_written',
        'facts.sql.dialect in ["mysql", "postgres"]',
        'call.name == "facts.shell.sudo == 1"',
        "size(facts.shell.egress_hosts) > 0",
    ],
)
def test_comparisons_of_the_right_type_load(condition: str) -> None:
    load(
        f"""
        name: p
        rules:
          - id: r
            match: {{tools: [run]}}
            when: {condition!r}
            verdict: deny
            message: m
        """
    )


def test_every_fact_of_every_built_in_classifier_has_a_declared_type() -> None:
    types = declared_fact_types()
    for name in BUILT_IN:
        missing = sorted(get_classifier(name).facts - set(types.get(name, {})))
        assert not missing, f"facts of '{name}' without a type in fact_types.yaml: {missing}"


def test_a_misspelt_tool_name_gets_a_suggestion() -> None:
    error = error_of(
        """
        name: p
        tools: {send_email: {intents: [message.send]}}
        rules:
          - id: r
            match: {tools: [send_emial]}
            verdict: deny
            message: m
        """
    )
    assert "did you mean 'send_email'" in str(error) and error.field == "match.tools.0"


def test_a_tool_far_from_any_declaration_is_fine() -> None:
    load(
        """
        name: p
        tools: {send_email: {intents: [message.send]}}
        rules:
          - id: r
            match: {tools: [delete_repository, "send_*"]}
            verdict: deny
            message: m
        """
    )


def test_an_allow_rule_that_matches_everything_must_say_so() -> None:
    error = error_of("name: p\nrules:\n  - id: open\n    verdict: allow\n")
    assert "allows every call" in str(error) and error.rule == "open"
    policy = load(
        """
        name: p
        rules:
          - id: open
            match: {all_calls: true}
            verdict: allow
        """
    )
    assert policy.rules[0].id == "open"


def test_an_alias_bomb_is_refused_quickly() -> None:
    lines = ["name: x", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    with pytest.raises(PolicyError) as caught:
        policy_from_yaml("\n".join(lines))
    assert time.perf_counter() - started < 2
    assert "anchors and aliases" in str(caught.value)


def test_a_few_aliases_are_still_fine() -> None:
    policy = load(
        """
        name: p
        tools:
          a: &decl {intents: [data.read]}
          b: *decl
        """
    )
    assert set(policy.tools) == {"a", "b"}


def test_an_unquoted_yaml_boolean_message_gets_a_hint() -> None:
    error = error_of(
        "name: p\nrules:\n  - id: r\n    match: {tools: [x]}\n    verdict: deny\n    message: no\n"
    )
    assert "boolean" in str(error) and "quotes" in str(error) and error.line == 6
