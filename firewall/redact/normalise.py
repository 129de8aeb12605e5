"""A normalised copy of a text for detection, with a map back to the original positions.

A number written in full-width digits (U+FF14 for 4), broken by zero-width characters or a
soft hyphen, or an address with its ``@`` percent-encoded (``a.b%40mail.com``) reads the
same to a person and to a model, but no pattern sees it. Detection runs on a copy where
such characters are folded (NFKC per character, invisible ones dropped, ``%40`` -> ``@``);
every finding is mapped back to the span of the original text it came from, so the
original characters are what gets replaced.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: Characters that render as nothing: zero-width spaces and joiners, word joiner, BOM,
#: soft hyphen, bidirectional marks.
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
#: What gets folded: invisible characters, full-width forms, digits of other scripts
#: (Arabic-Indic, mathematical bold, ...) and a percent-encoded ``@`` or ``.``.
_SPECIAL = re.compile(rf"[{INVISIBLE}\u3000\uff01-\uff5e]|%40|%2[eE]|(?![0-9])\d")


@dataclass(frozen=True)
class Normalised:
    """The copy, and for each of its characters where it starts and ends in the original."""

    text: str
    starts: list[int] | None = None
    ends: list[int] | None = None

    @property
    def changed(self) -> bool:
        return self.starts is not None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the copy's ``[start, end)``."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            origin = self.starts[start] if start < len(self.starts) else self.ends[-1]
            return origin, origin
        return self.starts[start], self.ends[end - 1]


def _fold(ch: str) -> str:
    if ch in INVISIBLE:
        return ""
    if ch[0] == "%":
        return "@" if ch == "%40" else "."
    folded = unicodedata.normalize("NFKC", ch)
    if ch.isdigit() and not folded.isascii():
        folded = str(unicodedata.digit(ch, 0)) if unicodedata.digit(ch, None) is not None else ch
    # Keep the copy's positions near the original: a fold may not grow a character much.
    return folded if len(folded) <= 4 else ch


def normalise(text: str) -> Normalised:
    """``text`` folded for detection; the identity (no maps) when nothing needed folding."""
    if text.isascii() and "%" not in text:
        return Normalised(text)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    changed = False
    for match in _SPECIAL.finditer(text):
        begin, finish = match.span()
        folded = _fold(match.group())
        if folded == match.group():
            continue
        if begin > position:
            pieces.append(text[position:begin])
            starts.extend(range(position, begin))
            ends.extend(range(position + 1, begin + 1))
        pieces.append(folded)
        starts.extend([begin] * len(folded))
        ends.extend([finish] * len(folded))
        position = finish
        changed = True
    if not changed:
        return Normalised(text)
    if position < len(text):
        pieces.append(text[position:])
        starts.extend(range(position, len(text)))
        ends.extend(range(position + 1, len(text) + 1))
    return Normalised("".join(pieces), starts, ends)
