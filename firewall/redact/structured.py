"""Tool output of any shape, flattened into one text and rebuilt with the same shape.

Strings, JSON text, dicts, lists, tuples and database rows are walked; every string leaf
(and every number, which can be a card or a phone) becomes one line ``key: value`` of a
single text, so the analyzer runs once per output and the key reads as context (a column
``ssn`` raises the score of a nine-digit number next to it). Findings are mapped back to
their leaves and the structure is rebuilt with every other value and type unchanged.

A few key names say what their value is even when the value alone does not (a column
``password`` holds a password whatever it looks like): ``KEY_HINTS``.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Normalised key name -> the entity its whole value is, found or not.
KEY_HINTS: dict[str, str] = {
    **dict.fromkeys(
        ("password", "passwd", "pwd", "passphrase", "db_password", "user_password"), "PASSWORD"
    ),
    **dict.fromkeys(
        (
            "secret",
            "client_secret",
            "api_key",
            "apikey",
            "access_token",
            "refresh_token",
            "auth_token",
            "token",
            "secret_key",
            "private_key",
            "access_key",
            "secret_access_key",
            "aws_secret_access_key",
        ),
        "SECRET",
    ),
    **dict.fromkeys(("ssn", "social_security_number", "social_security"), "US_SSN"),
    **dict.fromkeys(("email", "email_address", "e_mail", "mail"), "EMAIL_ADDRESS"),
    **dict.fromkeys(
        ("phone", "phone_number", "telephone", "mobile", "cell", "fax"), "PHONE_NUMBER"
    ),
    **dict.fromkeys(
        ("first_name", "last_name", "full_name", "surname", "given_name", "family_name"),
        "PERSON",
    ),
    **dict.fromkeys(("credit_card", "card_number", "cc_number", "pan"), "CREDIT_CARD"),
    **dict.fromkeys(("iban",), "IBAN_CODE"),
    **dict.fromkeys(("ip", "ip_address", "client_ip", "remote_addr"), "IP_ADDRESS"),
    **dict.fromkeys(
        ("street", "street_address", "address_line1", "address_line_1", "home_address"),
        "LOCATION",
    ),
    **dict.fromkeys(("dob", "date_of_birth", "birth_date", "birthdate"), "DATE_TIME"),
    **dict.fromkeys(("passport", "passport_number"), "US_PASSPORT"),
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def normalise_key(key: str) -> str:
    """``emailAddress``, ``Email-Address`` and ``EMAIL_ADDRESS`` all become ``email_address``."""
    return _NOT_WORD.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


def key_hint(key: str | None) -> str | None:
    return KEY_HINTS.get(normalise_key(key)) if key else None


@dataclass
class Leaf:
    """One value of the output: where it sits in the joined text and how to put it back."""

    value: str
    key: str | None
    start: int = 0
    kind: type = str
    is_key: bool = False
    #: The value as the tool returned it, when that was not a string.
    original: Any = None

    @property
    def end(self) -> int:
        return self.start + len(self.value)


@dataclass
class Flattened:
    """The joined text and the leaves, in order; ``rebuild`` puts new values back."""

    text: str
    leaves: list[Leaf]
    rebuild: Callable[[list[Any]], Any]
    starts: list[int] = field(default_factory=list)

    def leaf_at(self, position: int) -> int | None:
        index = bisect_right(self.starts, position) - 1
        if index >= 0 and position < self.leaves[index].end:
            return index
        return None


def flatten(output: Any) -> Flattened:
    """Walk ``output`` into leaves; JSON text is parsed and comes back as JSON text."""
    if isinstance(output, str):
        parsed = _json_container(output)
        if parsed is not None:
            indent = 2 if "\n" in output.strip() else None
            inner = flatten(parsed)
            return Flattened(
                inner.text,
                inner.leaves,
                lambda values: json.dumps(inner.rebuild(values), ensure_ascii=False, indent=indent),
                inner.starts,
            )
    leaves: list[Leaf] = []
    builder = _walk(output, None, leaves)
    parts: list[str] = []
    position = 0
    for leaf in leaves:
        prefix = f"{leaf.key}: " if leaf.key and not leaf.is_key else ""
        leaf.start = position + len(prefix)
        parts.append(prefix + leaf.value)
        position += len(prefix) + len(leaf.value) + 1

    def rebuild(values: list[Any]) -> Any:
        remaining = iter(values)
        return builder(lambda: next(remaining))

    # A lone string is analysed exactly as it is: no line break added after it.
    return Flattened("\n".join(parts), leaves, rebuild, [leaf.start for leaf in leaves])


def _json_container(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "{[" or stripped[-1] not in "}]":
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


Builder = Callable[[Callable[[], Any]], Any]


def _walk(value: Any, key: str | None, leaves: list[Leaf]) -> Builder:
    """Record the leaves of ``value`` and return how to rebuild it from new leaf values."""
    if isinstance(value, str):
        leaves.append(Leaf(value, key))
        return lambda take: take()
    if isinstance(value, bool) or value is None:
        return lambda take: value
    if isinstance(value, int | float):
        leaves.append(Leaf(str(value), key, kind=type(value), original=value))
        return lambda take: take()
    if isinstance(value, bytes | bytearray):
        leaves.append(Leaf(bytes(value).decode("utf-8", "replace"), key, original=value))
        return lambda take: take()
    if isinstance(value, Mapping):
        return _walk_mapping(value, leaves)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_walk(item, key, leaves) for item in value]
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple row
            return lambda take: type(value)(*(b(take) for b in items))
        kind = list if isinstance(value, set | frozenset) else type(value)
        return lambda take: kind(b(take) for b in items)
    dumped = _as_mapping(value)
    if dumped is not None:
        return _walk_mapping(dumped, leaves)
    # Anything else is shown to the model as text: redact that text.
    leaves.append(Leaf(str(value), key))
    return lambda take: take()


def _walk_mapping(value: Mapping[Any, Any], leaves: list[Leaf]) -> Builder:
    entries: list[tuple[Builder, Builder]] = []
    for k, v in value.items():
        if isinstance(k, str) and not _PLAIN_KEY.fullmatch(k):
            leaves.append(Leaf(k, None, is_key=True))
            key_builder: Builder = lambda take: take()  # noqa: E731
        else:
            key_builder = lambda take, k=k: k  # noqa: E731
        entries.append((key_builder, _walk(v, str(k), leaves)))
    return lambda take: {kb(take): vb(take) for kb, vb in entries}


def _as_mapping(value: Any) -> Mapping[str, Any] | None:
    """Rows and models that know their fields: sqlite3.Row, pydantic, dataclasses."""
    if hasattr(value, "keys") and hasattr(value, "__getitem__"):
        try:
            return {str(k): value[k] for k in value.keys()}  # noqa: SIM118 (sqlite3.Row)
        except Exception:
            return None
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: getattr(value, name) for name in fields}
    return None


def restore_type(leaf: Leaf, new_value: str) -> Any:
    """A number whose text did not change stays a number; a redacted one becomes text."""
    if leaf.kind is str or new_value != leaf.value:
        return new_value
    return leaf.kind(new_value) if leaf.kind in (int, float) else new_value
