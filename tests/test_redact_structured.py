"""Tool output of every shape keeps its shape: strings, JSON text, nested data, DB rows."""

from __future__ import annotations

import json
import sqlite3
from collections import namedtuple
from dataclasses import dataclass

import pytest

from firewall.redact.engine import analyzer_for
from firewall.redact.redactor import Redactor
from firewall.redact.settings import RedactionSettings
from firewall.redact.structured import flatten, normalise_key


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(RedactionSettings(), bundle=analyzer_for(True))


def test_nested_json_keeps_structure_and_types(redactor: Redactor) -> None:
    output = {
        "customer": {
            "id": 1042,
            "active": True,
            "balance": 12.5,
            "contact": {"email": "maria.lopez@example.com", "phones": ["+1 415 555 0199"]},
            "notes": None,
        },
        "orders": [{"sku": "A-17", "qty": 2}, {"sku": "B-3", "qty": 1}],
    }
    out = redactor.redact(output, session="shape")
    assert out.output["customer"]["id"] == 1042
    assert out.output["customer"]["active"] is True
    assert out.output["customer"]["balance"] == 12.5
    assert out.output["customer"]["notes"] is None
    assert out.output["orders"] == output["orders"]
    assert out.output["customer"]["contact"]["email"] == "<EMAIL_ADDRESS_1>"
    assert out.output["customer"]["contact"]["phones"] == ["<PHONE_NUMBER_1>"]
    assert out.entities == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert out.labels == frozenset({"pii"})


def test_json_text_comes_back_as_valid_json(redactor: Redactor) -> None:
    text = json.dumps({"rows": [{"name": "Maria Lopez", "email": "maria.lopez@example.com"}]})
    out = redactor.redact(text, session="json-text")
    assert isinstance(out.output, str)
    parsed = json.loads(out.output)
    assert parsed == {"rows": [{"name": "<PERSON_1>", "email": "<EMAIL_ADDRESS_1>"}]}


def test_text_that_only_looks_like_json_is_redacted_as_text(redactor: Redactor) -> None:
    out = redactor.redact("{not json} mail maria.lopez@example.com", session="t")
    assert out.output == "{not json} mail <EMAIL_ADDRESS_1>"


def test_sqlite_rows_use_column_names(redactor: Redactor) -> None:
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("create table users (id integer, full_name text, ssn text, password text)")
    conn.execute("insert into users values (7, 'Maria Lopez', '219-09-9999', 'hunter2')")
    rows = conn.execute("select * from users").fetchall()
    out = redactor.redact(rows, session="rows")
    assert out.output == [
        {"id": 7, "full_name": "<PERSON_1>", "ssn": "<US_SSN_1>", "password": "<PASSWORD_1>"}
    ]
    assert out.labels == frozenset({"pii", "secret"})


def test_tuple_rows_stay_tuples(redactor: Redactor) -> None:
    out = redactor.redact([(1, "maria.lopez@example.com"), (2, "no one")], session="tuples")
    assert out.output == [(1, "<EMAIL_ADDRESS_1>"), (2, "no one")]


def test_named_tuples_and_dataclasses(redactor: Redactor) -> None:
    Row = namedtuple("Row", "id email")

    @dataclass
    class User:
        name: str
        email: str

    out = redactor.redact(
        {"row": Row(1, "a.b@example.com"), "user": User("x", "c.d@example.com")}, session="objs"
    )
    assert out.output["row"] == Row(1, "<EMAIL_ADDRESS_1>")
    assert out.output["user"] == {"name": "x", "email": "<EMAIL_ADDRESS_2>"}


def test_a_key_name_marks_its_value_even_when_the_value_alone_says_nothing(
    redactor: Redactor,
) -> None:
    out = redactor.redact(
        {"password": "x", "apiKey": "abc", "lastName": "Li", "comment": "abc"}, session="hints"
    )
    assert out.output["password"] == "<PASSWORD_1>"
    assert out.output["apiKey"] == "<SECRET_1>"
    assert out.output["lastName"] == "<PERSON_1>"
    assert out.output["comment"] == "abc"


def test_column_context_raises_a_weak_match(redactor: Redactor) -> None:
    # A bare nine-digit number is too weak to redact; under a passport column it is not.
    plain = redactor.redact({"ref": "912803456"}, session="ctx")
    with_context = redactor.redact({"passport_number": "912803456"}, session="ctx")
    assert plain.output == {"ref": "912803456"}
    assert with_context.output == {"passport_number": "<US_PASSPORT_1>"}


def test_a_number_that_is_a_card_becomes_a_placeholder(redactor: Redactor) -> None:
    out = redactor.redact({"card": 4111111111111111, "count": 4}, session="num")
    assert out.output == {"card": "<CREDIT_CARD_1>", "count": 4}


def test_keys_that_are_data_are_redacted_too(redactor: Redactor) -> None:
    out = redactor.redact({"maria.lopez@example.com": {"visits": 3}}, session="keys")
    assert out.output == {"<EMAIL_ADDRESS_1>": {"visits": 3}}


def test_bytes_are_redacted_as_text(redactor: Redactor) -> None:
    out = redactor.redact({"body": b"from maria.lopez@example.com"}, session="bytes")
    assert out.output == {"body": "from <EMAIL_ADDRESS_1>"}


def test_unchanged_values_are_the_original_objects(redactor: Redactor) -> None:
    output = {"n": 3, "f": 1e100, "b": b"plain bytes", "s": "nothing here"}
    assert redactor.redact(output, session="same").output == output


def test_flatten_joins_leaves_as_key_lines() -> None:
    flat = flatten({"a": "x", "b": [1, "y"]})
    assert flat.text == "a: x\nb: 1\nb: y"
    assert [leaf.value for leaf in flat.leaves] == ["x", "1", "y"]
    assert flat.rebuild(["X", 1, "Y"]) == {"a": "X", "b": [1, "Y"]}


@pytest.mark.parametrize(
    ("key", "normal"),
    [("emailAddress", "email_address"), ("Email-Address", "email_address"), ("SSN", "ssn")],
)
def test_key_normalisation(key: str, normal: str) -> None:
    assert normalise_key(key) == normal
