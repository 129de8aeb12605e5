"""Which findings stand: a field's name outranks a guess, and a guess must fit its type.

Pattern and model findings overlap and err in known ways: a phone pattern fires inside an
IP address, a tax number or an ISO timestamp; the NER model calls a column header or a
``pid=14302`` a person. These rules keep the stronger claim:

- a value named by its field or column (``tax_id``, ``full_name``) is that entity; weak
  findings of another type inside it go;
- a value named as a reference, a count or a time (``order_id``, ``bytes``), and a table's
  header line, hold no weak findings;
- a weak finding inside a pattern finding of another type that scores higher goes (a
  phone inside a tax number); the model's guesses never overrule a pattern;
- a name or a nationality holds no digits or markup characters.

Weak types are those found by loose patterns or by the model, never by a checksum or a
fixed format: a card number, an e-mail address or a key is never dropped by these rules.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from firewall.redact.entities import NER_ENTITIES
from firewall.redact.hints import NOT_PERSONAL

WEAK = frozenset(
    {
        "PERSON",
        "LOCATION",
        "NRP",
        "DATE_TIME",
        "PHONE_NUMBER",
        "US_BANK_NUMBER",
        "US_DRIVER_LICENSE",
        "US_PASSPORT",
        "US_ITIN",
        "US_SSN",
        "UK_NHS",
        "MEDICAL_LICENSE",
    }
)
_NOT_IN_NAMES = re.compile(r"[\d@=%_:/\\<>{}\[\]|+#$&*;]")
_NOT_IN_PLACES = re.compile(r"[@=%_:\\<>{}\[\]|+#$&*;]|^[\d\W]+$")


def fits(entity: str, value: str) -> bool:
    """Whether a model finding's text can be what it claims."""
    if entity in ("PERSON", "NRP"):
        return not _NOT_IN_NAMES.search(value)
    if entity == "LOCATION":
        return not _NOT_IN_PLACES.search(value.strip())
    return True


def resolve(
    results: list[RecognizerResult],
    text: str,
    named: list[tuple[str, int, int]] = (),  # type: ignore[assignment]
) -> list[RecognizerResult]:
    """The findings that stand, given the spans ``named`` by a field or column."""
    kept = [r for r in results if fits(r.entity_type, text[r.start : r.end])]
    if not kept:
        return kept
    claims = sorted(
        [(start, end, entity, 2.0) for entity, start, end in named]
        + [(r.start, r.end, r.entity_type, r.score) for r in kept if r.entity_type not in WEAK],
    )
    weak = [r for r in kept if r.entity_type in WEAK]
    if claims and weak:
        kept = [r for r in kept if r.entity_type not in WEAK]
        kept += [r for r in weak if not _overruled(r, claims)]
    weak = [r for r in kept if r.entity_type in WEAK]
    if len(weak) > 1:
        # The model's guesses never overrule a pattern's.
        stronger = sorted(
            (r.start, r.end, r.entity_type, r.score)
            for r in weak
            if r.entity_type not in NER_ENTITIES
        )
        kept = [r for r in kept if r.entity_type not in WEAK or not _inside_stronger(r, stronger)]
    return kept


def _overruled(result: RecognizerResult, claims: list[tuple[int, int, str, float]]) -> bool:
    """A claim of another type covers ``result``: a name/column, or a higher-scoring find."""
    for start, end, entity, score in _around(result, claims):
        if entity == result.entity_type:
            continue
        if score >= 2.0:  # named by its field: overlap is enough
            if start < result.end and result.start < end:
                return True
        elif start <= result.start and result.end <= end and score > result.score:
            return True
    return False


def _inside_stronger(result: RecognizerResult, claims: list[tuple[int, int, str, float]]) -> bool:
    return any(
        entity != result.entity_type
        and start <= result.start
        and result.end <= end
        and (end - start > result.end - result.start or score > result.score)
        and score >= result.score
        for start, end, entity, score in _around(result, claims)
    )


def _around(
    result: RecognizerResult, claims: list[tuple[int, int, str, float]]
) -> list[tuple[int, int, str, float]]:
    """Claims that may overlap ``result`` (claims sorted by start; spans are short)."""
    from bisect import bisect_left

    index = bisect_left(claims, (result.end,))
    window = claims[max(0, index - 256) : index]
    return [c for c in window if c[1] > result.start]


__all__ = ["NOT_PERSONAL", "WEAK", "fits", "resolve"]
