"""Turn the text a model sent into the text the database would act on, before parsing.

Two tricks hide SQL from a parser that reads the text naively:

- MySQL and MariaDB *execute* the body of ``/*! ... */``, ``/*!50000 ... */`` and
  ``/*M! ... */`` comments. The markers are removed so the body is read as the code it is
  (in every dialect: reading too much is safe, reading too little is not).
- Invisible characters (zero-width spaces, joiners, bidi controls, tag characters) and
  look-alike compatibility characters (full-width letters) disguise keywords. Invisible
  characters between two word characters are deleted, others become a space (so
  ``-<ZWSP>-`` does not turn into a comment); then the text is NFKC-normalised. When
  normalising creates punctuation the original did not have (a full-width apostrophe
  becoming ``'``), the text the database sees and the text read here may split
  differently: that is reported as ``ambiguous`` and the classifier adds ``unknown``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

_EXECUTABLE_COMMENT = re.compile(r"/\*M?!(?:\d{5,6})?(.*?)\*/", re.DOTALL)
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]+"
)
_PUNCTUATION = frozenset(string.punctuation)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The text to parse and what had to be changed to get it."""

    text: str
    executable_comments: bool = False
    unicode_normalized: bool = False
    ambiguous: bool = False


def prepare(text: str) -> Prepared:
    """Unwrap executable comments and normalise disguising Unicode (ASCII input is cheap)."""
    unicode_changed = ambiguous = False
    if not text.isascii():
        normalized = unicodedata.normalize("NFKC", _INVISIBLE.sub(_replace_invisible, text))
        if normalized != text:
            unicode_changed = True
            ambiguous = _punctuation_added(text, normalized)
            text = normalized
    executable = False
    if "/*!" in text or "/*M!" in text:
        unwrapped = _EXECUTABLE_COMMENT.sub(r" \1 ", text)
        executable = unwrapped != text
        text = unwrapped
    return Prepared(text, executable, unicode_changed, ambiguous)


def _replace_invisible(match: re.Match[str]) -> str:
    source, start, end = match.string, match.start(), match.end()
    before = source[start - 1] if start else " "
    after = source[end] if end < len(source) else " "
    return "" if before.isalnum() and after.isalnum() else " "


def _punctuation_added(before: str, after: str) -> bool:
    return any(after.count(char) > before.count(char) for char in _PUNCTUATION)
