"""CEL conditions: compiled once at policy load, checked for unknown names, evaluated per call.

A condition sees these variables:

- ``call``: ``name``, ``id``, ``arguments`` (the parsed JSON), ``raw_arguments``
- ``intents``: the list of the call's intents
- ``facts``: what classifiers found, ``facts.<classifier>.<fact>``
- ``principal``: ``id``, ``kind``, ``roles``, ``attributes``
- ``context``: the free mapping the caller passed (``env``, ``tenant``, ...)
- ``flow``: where the argument values came from (see the action graph)
- ``session``: what the session did so far, and the functions ``calls``, ``attempts`` and
  ``principal_calls`` (see ``firewall.history``)

Each condition records which parts of which variables it reads, so the engine converts
only those into CEL values (the expensive step), once per call.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import cel

from firewall import intent as classifiers
from firewall.history import HISTORY_FUNCTIONS, SESSION_FIELDS

VARIABLES = ("call", "intents", "facts", "principal", "context", "flow", "session")

#: Facts the engine itself adds (not a classifier): ``facts.redaction`` appears when the
#: arguments held placeholders, ``restored`` maps argument paths to the entity types put
#: back, ``unknown_placeholders`` lists placeholder-like text no vault entry matched.
ENGINE_FACTS: dict[str, frozenset[str]] = {
    "redaction": frozenset({"restored", "unknown_placeholders"}),
    # For tools declaring ``recipients``: every address, split (see firewall.recipients).
    "message": frozenset({"recipients", "domains", "count", "invalid"}),
}

#: Fields of the structured variables; ``None`` means "free-form below this point".
KNOWN_FIELDS: dict[str, frozenset[str] | None] = {
    "call": frozenset({"name", "id", "arguments", "raw_arguments"}),
    "principal": frozenset({"id", "kind", "roles", "attributes"}),
    "context": None,
    "intents": frozenset(),
    "session": SESSION_FIELDS,
}

#: A call of a history function: its per-call state travels with the ``session`` variable.
_HISTORY_CALL = re.compile(r"(?<![\w.])(?:" + "|".join(HISTORY_FUNCTIONS) + r")\s*\(")
_STRING_LITERAL = re.compile(r"""'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*\"""")
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists_one|exists|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_REFERENCE = re.compile(r"(?<![\w.])(" + "|".join(VARIABLES) + r")\b((?:\s*\.\s*[A-Za-z_]\w*)*)")


class ConditionError(ValueError):
    """A condition that does not compile or names something that does not exist."""


#: Which parts of a variable a condition reads: ``None`` is "all of it", a mapping names
#: the keys read below this point (``{"arguments": {"to": None}}`` for ``call.arguments.to``).
Projection = dict[str, "Projection | None"] | None


@dataclass(frozen=True)
class Condition:
    """A compiled CEL expression and the parts of the variables it reads (by name)."""

    source: str
    program: Any
    projections: Mapping[str, Projection]

    def evaluate(self, activation: Any) -> bool:
        """Run the condition on a ``cel.Context`` (or mapping) holding the variables it needs.

        Raises on a runtime error (a missing field, a wrong type, a non-boolean result):
        the engine decides what an error means for the rule.
        """
        result = self.program.execute(activation)
        if not isinstance(result, bool):
            raise ConditionError(f"condition returned {type(result).__name__}, not a boolean")
        return result


def merge_projections(first: Projection, second: Projection) -> Projection:
    """The parts of a variable that either of two conditions reads."""
    if first is None or second is None:
        return None
    merged = dict(first)
    for key, sub in second.items():
        merged[key] = merge_projections(merged[key], sub) if key in merged else sub
    return merged


def project(value: Any, projection: Projection) -> Any:
    """Keep only the parts of ``value`` a projection names: converting less is faster."""
    if projection is None or not isinstance(value, Mapping):
        return value
    return {key: project(value[key], sub) for key, sub in projection.items() if key in value}


def _references(source: str) -> Iterator[tuple[str, list[str]]]:
    """Each use of a variable in the (string-stripped) source, with the field path after it.

    A trailing method call (``.exists(...)``, ``.size()``) is not part of the path; an
    empty path means the variable is used whole (``size(intents)``, ``call["name"]``).
    """
    for match in _REFERENCE.finditer(source):
        path = [p.strip() for p in match.group(2).split(".") if p.strip()]
        if path and source[match.end() :].lstrip().startswith("("):
            path.pop()
        yield match.group(1), path


def _projections(source: str, names: set[str]) -> dict[str, Projection]:
    """For each variable in ``names``, the parts of it the source reads."""
    result: dict[str, Projection] = {name: {} for name in names}
    for name, path in _references(source):
        if name not in result or result[name] is None:
            continue
        if not path:
            result[name] = None
            continue
        tree: dict[str, Projection] = {}
        node = tree
        for part in path[:-1]:
            node[part] = {}
            node = node[part]  # type: ignore[assignment]
        node[path[-1]] = None
        result[name] = merge_projections(result[name], tree)
    return result


def compile_condition(
    source: str, fact_fields: Mapping[str, frozenset[str]] | None = None
) -> Condition:
    """Compile ``source`` and reject references to unknown variables and fields.

    ``fact_fields`` maps classifier names to the facts they produce; by default every
    registered classifier is asked.
    """
    if not isinstance(source, str) or not source.strip():
        raise ConditionError("condition is empty")
    try:
        program = cel.compile(source)
    except ValueError as exc:
        raise ConditionError(_first_line(str(exc))) from None
    except Exception as exc:  # the binding may raise other types on odd input
        raise ConditionError(f"cannot compile: {exc}") from None

    stripped = _STRING_LITERAL.sub("''", source)
    bound = set(_MACRO_VARIABLE.findall(stripped))
    names = set(program.variables()) - bound
    if _HISTORY_CALL.search(stripped):
        names.add("session")
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        raise ConditionError(
            f"unknown variable '{unknown[0]}' (conditions may use: {', '.join(VARIABLES)})"
        )
    _check_fields(stripped, fact_fields)
    return Condition(source=source, program=program, projections=_projections(stripped, names))


def _check_fields(source: str, fact_fields: Mapping[str, frozenset[str]] | None) -> None:
    for root, path in _references(source):
        if not path:
            continue
        if root == "facts":
            _check_fact_path(path, fact_fields)
            continue
        if root == "flow":
            _check_flow_path(path)
            continue
        allowed = KNOWN_FIELDS[root]
        if allowed is None:
            continue
        if path[0] not in allowed:
            if root == "intents":
                raise ConditionError("'intents' is a list: use  'data.read' in intents")
            raise ConditionError(
                f"unknown field '{root}.{path[0]}' (known: {', '.join(sorted(allowed))})"
            )


#: What ``flow`` says of one argument, and of the call as a whole.
FLOW_ARGUMENT_FIELDS = frozenset(
    {"labels", "value_labels", "tools", "sources", "from_user", "found", "truncated", "leaves"}
)
FLOW_CALL_FIELDS = frozenset(
    {
        "any_labels",
        "any_tools",
        "all_from_user",
        "foreign_labels",
        "value_labels",
        "recipients",
        "truncated",
    }
)


def flow_arguments(projection: Projection) -> set[str]:
    """The arguments a condition reads through ``flow`` (``flow.to``, ``flow.arguments.cc``)."""
    if not isinstance(projection, Mapping):
        return set()
    names = {n for n in projection if n not in FLOW_CALL_FIELDS and n != "arguments"}
    named = projection.get("arguments")
    if isinstance(named, Mapping):
        names |= set(named)
    return names


def _check_flow_path(path: list[str]) -> None:
    """``flow.<argument>.<field>``, ``flow.arguments.<argument>.<field>`` or a call-wide name.

    A bare ``flow.<name>`` that is no call-wide field is a misspelling (``foriegn_labels``):
    an argument's record is only ever read through one of its fields.
    """
    if path[0] in FLOW_CALL_FIELDS:
        if len(path) > 1:
            raise ConditionError(f"'flow.{path[0]}' has no field '{path[1]}'")
        return
    field_at = 2 if path[0] == "arguments" else 1
    if len(path) == field_at and path[0] != "arguments":
        close = difflib.get_close_matches(path[0], sorted(FLOW_CALL_FIELDS), n=1)
        hint = f"did you mean 'flow.{close[0]}'? " if close else ""
        raise ConditionError(
            f"unknown field 'flow.{path[0]}' ({hint}call-wide fields:"
            f" {', '.join(sorted(FLOW_CALL_FIELDS))}; an argument is read as"
            f" 'flow.{path[0]}.<field>')"
        )
    if len(path) > field_at and path[field_at] not in FLOW_ARGUMENT_FIELDS:
        known = ", ".join(sorted(FLOW_ARGUMENT_FIELDS))
        raise ConditionError(
            f"unknown field '{'.'.join(['flow', *path[: field_at + 1]])}' (an argument's flow"
            f" has: {known})"
        )


def _check_fact_path(path: list[str], fact_fields: Mapping[str, frozenset[str]] | None) -> None:
    kind = path[0]
    if kind in ENGINE_FACTS:
        if len(path) > 1 and path[1] not in ENGINE_FACTS[kind]:
            known = ", ".join(sorted(ENGINE_FACTS[kind]))
            raise ConditionError(f"unknown fact 'facts.{kind}.{path[1]}' (known: {known})")
        return
    if fact_fields is not None:
        facts = fact_fields.get(kind)
        known_kinds = sorted(fact_fields)
    else:
        known_kinds = classifiers.available()
        facts = classifiers.get_classifier(kind).facts if kind in known_kinds else None
    if facts is None:
        raise ConditionError(f"unknown classifier 'facts.{kind}' (known: {', '.join(known_kinds)})")
    if len(path) > 1 and facts and path[1] not in facts:
        raise ConditionError(
            f"unknown fact 'facts.{kind}.{path[1]}' (known: {', '.join(sorted(facts))})"
        )


def _first_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines()[:2] if line.strip())
