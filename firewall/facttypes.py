"""Type checks of rule conditions against the declared type of each fact.

CEL compares values of different types as "not equal" (or fails at run time), so a rule
written as ``facts.shell.sudo == "yes"`` loads, never fires and nobody notices. Policy
loading runs ``check_fact_comparisons`` on each condition: a comparison of a fact with a
literal of a type it can never have is an error that names the declared type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

FactTypes = Mapping[str, Mapping[str, str]]
_DATA = Path(__file__).parent / "intent" / "fact_types.yaml"

_STRING = r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"""


def _literal(tag: str) -> str:
    return rf"(?P<lit{tag}>{_STRING}|-?\d+(?:\.\d+)?[uU]?|true|false|null|\[|\{{)"


def _reference(tag: str) -> str:
    name = r"[A-Za-z_]\w*"
    return rf"(?<![\w.])facts\.(?P<kind{tag}>{name})\.(?P<fact{tag}>{name})(?!\s*[.\[(\w])"


def _operator(tag: str) -> str:
    return rf"\s*(?P<op{tag}>==|!=|<=|>=|<|>|\bin\b)\s*"


#: literal OP fact | fact OP literal | any other string literal (skipped whole, so text
#: inside a string is never read as a comparison).
_PATTERN = re.compile(
    rf"{_literal('1')}{_operator('1')}{_reference('1')}"
    rf"|{_reference('2')}{_operator('2')}{_literal('2')}"
    rf"|{_STRING}"
)


@lru_cache(maxsize=1)
def declared_fact_types() -> dict[str, dict[str, str]]:
    """``{classifier: {fact: type}}`` for the built-in classifiers and the engine's facts."""
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return {kind: dict(facts) for kind, facts in data.items()}


def literal_type(text: str) -> str:
    if text[0] in "\"'":
        return "string"
    if text in ("true", "false"):
        return "bool"
    if text == "null":
        return "null"
    if text == "[":
        return "list"
    if text == "{":
        return "map"
    return "number"


def _compatible(fact_type: str, literal: str, op: str, literal_left: bool) -> str | None:
    """Why the comparison can never hold (``None`` when it can)."""
    if op == "in":
        if literal_left and fact_type not in ("list", "map", "string"):
            return "'in' needs a list or map on its right"
        if not literal_left and literal not in ("list", "map"):
            return f"'in' needs a list or map on its right, not a {literal}"
        return None
    if literal == "null":
        return None
    if fact_type in ("list", "map") and literal in ("string", "number", "bool"):
        return f"it is never equal to a {literal}; test membership with  <value> in <fact>"
    if fact_type == "int":
        ok = literal == "number"
    elif fact_type in ("list", "map"):
        ok = literal == fact_type and op in ("==", "!=")
    else:
        ok = literal == fact_type and (fact_type == "string" or op in ("==", "!="))
    return None if ok else f"comparing it with a {literal} using {op} is never true"


def check_fact_comparisons(source: str, types: FactTypes | None = None) -> None:
    """Raise ``ValueError`` when a condition compares a fact with a literal it can never equal."""
    table = declared_fact_types() if types is None else types
    for match in _PATTERN.finditer(source):
        if match.group("lit1") is not None:
            kind, fact, op = match.group("kind1"), match.group("fact1"), match.group("op1")
            literal, literal_left = match.group("lit1"), True
        elif match.group("kind2") is not None:
            kind, fact, op = match.group("kind2"), match.group("fact2"), match.group("op2")
            literal, literal_left = match.group("lit2"), False
        else:
            continue  # a string literal on its own
        fact_type = table.get(kind, {}).get(fact)
        if fact_type is None:
            continue  # a classifier that declares no types (registered by the user)
        problem = _compatible(fact_type, literal_type(literal), op, literal_left)
        if problem is not None:
            raise ValueError(f"'facts.{kind}.{fact}' is a {fact_type}: {problem}")
