"""Field and column names that say what their value is (``data/column_hints.yaml``).

A column ``tax_id`` holds a social security number even when it is nine bare digits, and a
field ``dob`` a date of birth even though a date alone is nothing. The names live in a data
file; this module matches them on normalised names and finds the named values in text: in
``key: value`` and ``key=value`` pairs (logs, config, query strings) and in the columns of
tables (psql, mysql, Markdown, CSV). Every scan is one pass over the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from importlib import resources

import yaml

#: Values that are no value: left alone even under a telling name.
_EMPTY = frozenset(
    {"", "null", "none", "nil", "true", "false", "undefined", "n/a", "na", "-", "redacted"}
)
_TOKEN = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PLACEHOLDER = re.compile(r"<[A-Z_]+_\d+>")

#: Entities whose value is one token (no spaces): the value ends at the first space.
_ONE_WORD = frozenset(
    {"PASSWORD", "SECRET", "EMAIL_ADDRESS", "IP_ADDRESS", "MAC_ADDRESS", "US_PASSPORT"}
)
_NEEDS_DIGIT = frozenset(
    {
        "US_SSN",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "DATE_OF_BIRTH",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
    }
)
_NEEDS_LETTER = frozenset({"PERSON", "LOCATION"})


#: Not an entity: the span of a value that is a reference, a count or a time (from the
#: ``not_personal`` names) or of a table's header line. Weak findings inside are dropped.
NOT_PERSONAL = "NOT_PERSONAL"


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    text = resources.files("firewall.redact").joinpath("data/column_hints.yaml").read_text()
    data = yaml.safe_load(text)
    tables: list[dict[str, str]] = []
    for section in ("suffix", "whole"):
        table: dict[str, str] = {}
        for entity, names in data[section].items():
            for name in names:
                table[name] = entity
        tables.append(table)
    for name in data.get("not_personal", ()):
        tables[0].setdefault(name, NOT_PERSONAL)
    return tables[0], tables[1]


def name_words(key: str) -> list[str]:
    """``billingCity`` -> ``["billing", "city"]``; ``X-Forwarded-For`` -> three words."""
    return [word.lower() for word in _TOKEN.findall(key)]


@lru_cache(maxsize=4096)
def hint_for_key(key: str) -> str | None:
    """The entity a field named ``key`` holds, or None: the whole name, then its endings."""
    if not key or len(key) > 64:
        return None
    words = name_words(key)
    if not words:
        return None
    suffix, whole = _tables()
    joined = "".join(words)
    if joined in whole:
        return whole[joined]
    for start in range(len(words)):
        entity = suffix.get("".join(words[start:]))
        if entity is not None:
            return entity
    return None


_REFERENCE = re.compile(r"[\w.:+\-]{1,64}")


def plausible(entity: str, value: str) -> bool:
    """Whether ``value`` can be an ``entity`` at all (a phone has digits, a name letters)."""
    stripped = value.strip().strip("'\"")
    if entity == NOT_PERSONAL:
        return bool(_REFERENCE.fullmatch(stripped)) and "@" not in stripped
    if stripped.lower() in _EMPTY or _PLACEHOLDER.fullmatch(stripped):
        return False
    if len(stripped) > 2 and set(stripped) <= set("*xX#.-_ "):  # masked already: ****, xxxx
        return False
    if stripped.startswith(("${", "$(", "{{", "%(")):  # a reference, not the value
        return False
    if entity in _NEEDS_DIGIT and not any(ch.isdigit() for ch in stripped):
        return False
    if entity in _NEEDS_LETTER and not any(ch.isalpha() for ch in stripped):
        return False
    if entity == "EMAIL_ADDRESS":
        return "@" in stripped or "%40" in stripped
    return any(ch.isalnum() for ch in stripped)


# -- values named in text --------------------------------------------------------------------

# key (optionally quoted, optionally after dashes), a separator, then the value starts.
_PAIR = re.compile(
    r"""(?<![A-Za-z0-9_.])-{0,2}["']?([A-Za-z][A-Za-z0-9_.\-]{0,47})["']?"""
    r"""[ \t]{0,4}(=>|:=|=|:(?![/:])|\|)[ \t]{0,4}"""
)
_MAX_VALUE = 256
_FIELD_END = frozenset("\n\r\t|;&\"'<>{}[]")


def hinted_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """``(entity, start, end)`` of values named by their key or column in ``text``."""
    if "=" in text or ":" in text or "|" in text:
        yield from _pair_spans(text)
    if "," in text or "|" in text or "\t" in text:
        yield from table_spans(text)


def _pair_spans(text: str) -> Iterator[tuple[str, int, int]]:
    length = len(text)
    for match in _PAIR.finditer(text):
        separator = match.group(2)
        if separator == "|" and not _line_start(text, match.start()):
            continue
        entity = hint_for_key(match.group(1))
        if entity is None:
            continue
        start = match.end()
        if start >= length:
            continue
        span = _value_span(text, start, entity, separator)
        if span is not None and plausible(entity, text[span[0] : span[1]]):
            yield entity, span[0], span[1]


def _line_start(text: str, position: int) -> bool:
    line = text.rfind("\n", 0, position) + 1
    return not text[line:position].strip()


def _value_span(text: str, start: int, entity: str, separator: str) -> tuple[int, int] | None:
    limit = min(len(text), start + _MAX_VALUE)
    quote = text[start]
    if quote in "\"'":
        end = text.find(quote, start + 1, limit)
        if end == -1:
            return None
        return start + 1, end
    one_word = entity in _ONE_WORD or separator in ("=", ":=")
    end = start
    while end < limit:
        ch = text[end]
        if ch in _FIELD_END or (ch == "," and entity != "LOCATION"):
            break
        if ch == " " and (one_word or text.startswith("  ", end)):
            break
        end += 1
    while end > start and text[end - 1] in " .,":
        end -= 1
    return (start, end) if end > start else None


# -- values in the columns of tables -----------------------------------------------------

_RULE = re.compile(r"[ \t]*[|+]?[ \t]*:?-{3,}[-+|: \t=]*")
_HEADER_CELL = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]{0,63}")


def _cells(line: str, offset: int, delimiter: str) -> list[tuple[int, int]]:
    """Cell ranges of one table line; a CSV cell may be quoted and hold the delimiter."""
    cells: list[tuple[int, int]] = []
    position, length = 0, len(line)
    while position <= length:
        if delimiter == "," and position < length and line[position] == '"':
            close = position + 1
            while True:
                close = line.find('"', close)
                if close == -1 or not line.startswith('""', close):
                    break
                close += 2
            end = line.find(delimiter, close if close != -1 else length)
        else:
            end = line.find(delimiter, position)
        if end == -1:
            end = length
        cells.append((offset + position, offset + end))
        position = end + 1
    return cells


def table_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Cells under a hinted column of a psql, mysql, Markdown or CSV/TSV table."""
    columns: list[str | None] | None = None
    delimiter = "|"
    previous: tuple[int, str] | None = None
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        start = offset
        offset += len(line)
        if _RULE.fullmatch(body):
            if columns is None and previous is not None and "|" in previous[1]:
                columns = _header(previous[1], "|")
                delimiter = "|"
                if columns is not None:
                    yield NOT_PERSONAL, previous[0], previous[0] + len(previous[1])
            continue
        if columns is not None:
            cells = _cells(body, start, delimiter)
            if len(cells) == len(columns):
                for entity, (cell_start, cell_end) in zip(columns, cells, strict=True):
                    if entity is None:
                        continue
                    value = text[cell_start:cell_end]
                    stripped = value.strip()
                    if stripped.startswith('"') and stripped.endswith('"') and len(stripped) > 1:
                        stripped = stripped[1:-1]
                    if plausible(entity, stripped):
                        lead = value.find(stripped)
                        yield entity, cell_start + lead, cell_start + lead + len(stripped)
                previous = (start, body)
                continue
            columns = None
        for candidate in (",", "\t"):
            if candidate in body and "|" not in body:
                header = _header(body, candidate)
                if header is not None:
                    columns, delimiter = header, candidate
                    yield NOT_PERSONAL, start, start + len(body)
                    break
        previous = (start, body)


def _header(line: str, delimiter: str) -> list[str | None] | None:
    """The hinted entity per column, when ``line`` is a header naming at least one."""
    names = [cell.strip().strip('"') for cell in line.split(delimiter)]
    if len(names) < 2:
        return None
    if delimiter != "|" and not all(_HEADER_CELL.fullmatch(name) for name in names):
        return None
    columns = [hint_for_key(name) if name else None for name in names]
    return columns if any(columns) else None
