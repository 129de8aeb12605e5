"""Canonical keys of a text, for provenance by value: what a value is, however it is written.

A value copied from a tool result into an argument is often changed on the way: case,
spaces or dashes in an IBAN, a plus-tag on an address, a link without ``https://``,
full-width or zero-width characters, HTML entities, URL-encoding or base64. Each text is
cut into *keys* in one canonical form per kind, so every such variant gives the same key:

- ``email:`` local part without quotes, plus-tag and dots, case-folded, IDNA domain;
- ``url:`` / ``host:`` scheme-less, ``www.``-less, IDNA host, percent-decoded path;
- ``acct:`` an IBAN (checksum-valid), letters and digits only;
- ``num:`` six or more digits (accounts, phones, cards), digits only;
- ``id:`` identifiers holding a letter and a digit (``INV-2024-0042``), letters and digits;
- ``ph:`` redaction placeholders (``<EMAIL_ADDRESS_1>``);
- ``path:`` file paths (``shared/finance/q3.xlsx``), without a leading ``./`` or ``/``;
- ``v:`` a whole value or line: NFKC, invisible characters out, entities decoded,
  whitespace collapsed, case-folded;
- ``p:`` five-word phrases (shingles), so copied sentences are traced.

Everything here is linear in the text: it is split on whitespace and punctuation with
``str`` methods, and each word (bounded in length) is examined on its own. No pattern
that can backtrack runs over attacker-written text.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import unquote

#: Shortest whole value that counts as a match against a tool result.
MIN_VALUE_CHARS = 3
#: Fewest digits a number needs to identify something (an account, a phone, a card).
MIN_NUMBER_DIGITS = 6
#: Longest line or value indexed as a whole; longer texts still yield their parts.
MAX_WHOLE_CHARS = 2000
#: Longest word examined for an address, link or number (an email is at most 254).
MAX_WORD_CHARS = 512
#: Words in one phrase key.
SHINGLE_WORDS = 5
#: Shortest word (after decoding) treated as a possible base64 layer, and the longest.
MIN_BASE64_CHARS = 16
MAX_BASE64_CHARS = 65_536
#: Base64 words decoded per text (each decoding is bounded, so the total is too).
MAX_BASE64_WORDS = 64

# Characters that never separate a value but can hide one: zero-width, joiners, bidi
# controls, soft hyphen, word joiner, byte-order mark.
_INVISIBLE = dict.fromkeys(
    [
        *(0x00AD, 0x034F, 0x061C, 0x180E, 0xFEFF),
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x206A),
    ]
)
# Punctuation that ends a word for every kind of key.
_SEPARATORS = str.maketrans({c: " " for c in "<>()[]{},;|`\\^"})
_QUOTES = str.maketrans({c: " " for c in "\"'"})
_EDGE = ".,;:!?\"'*_~-=+/#&"
_NUMBER_EDGE = ".,;:!?\"'()[]{}<>€$£¥%"
_ALNUM_ONLY = re.compile(r"[^0-9a-z]+")
_DIGITS_ONLY = re.compile(r"[^0-9]+")
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]{0,60}_\d{1,9}>")
_BASE64_WORD = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,30}://")


def is_placeholder(text: str) -> bool:
    """Whether ``text`` is exactly a redaction placeholder (``<PHONE_NUMBER_1>``)."""
    return len(text) <= 80 and _PLACEHOLDER.fullmatch(text) is not None


def clean(text: str) -> str:
    """``text`` as a reader sees it: entities decoded, NFKC, invisible characters removed."""
    if "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    return text


def normalise(text: str) -> str:
    """Clean, collapse whitespace and case-fold: ``"  Bob\\n Smith "`` -> ``"bob smith"``."""
    return " ".join(clean(text).split()).casefold()


def canonical_number(word: str) -> str | None:
    """``"950"``, ``"950.00"``, ``"1,950"`` -> ``"950"``, ``"950"``, ``"1950"``; else ``None``."""
    word = word.strip(_NUMBER_EDGE)
    if not word or len(word) > 18 or not word[0].isdigit():
        return None
    whole, _, cents = word.replace(",", "").partition(".")
    if not whole.isdigit() or (cents and not cents.isdigit()):
        return None
    cents = cents.rstrip("0")
    return f"{int(whole)}.{cents}" if cents else str(int(whole))


def amount_keys(text: str) -> set[str]:
    """Whole-value keys of every number in ``text`` (an amount the model may copy alone).

    Only a leaf that is just that number is looked up by them: a number inside a longer
    text says nothing, so these never label a sentence.
    """
    keys = set()
    for word in text.split():
        word = word.strip(_NUMBER_EDGE)
        if word[:1].isdigit():
            number = canonical_number(word)
            if number is not None:
                keys.add("v:" + number)
    return keys


def whole_key(text: str, *, short: bool = False) -> str | None:
    """The key of ``text`` as one value; ``short`` keeps values too short to trace alone."""
    if len(text) > 16 * MAX_WHOLE_CHARS:
        return None  # even with its whitespace collapsed, too long to be one value
    norm = normalise(text)
    if not norm or len(norm) > MAX_WHOLE_CHARS:
        return None
    if short and norm[:1].isdigit():
        number = canonical_number(norm)
        if number is not None:
            return "v:" + number
    if not short and (
        len(norm) < MIN_VALUE_CHARS or (norm.isdigit() and len(norm) < MIN_NUMBER_DIGITS)
    ):
        return None
    return "v:" + norm


def words(text: str) -> list[str]:
    """The words of a cleaned text, split on whitespace and on punctuation no value holds."""
    return text.translate(_SEPARATORS).split()


def phrase_words(text: str) -> list[str]:
    """Lower-case words without punctuation, for phrases: the same sentence, however spaced."""
    out = []
    for word in text.casefold().split():
        word = _ALNUM_ONLY.sub("", word) if not word.isalnum() else word
        if word:
            out.append(word)
    return out


def shingles(text: str, limit: int) -> tuple[set[str], bool]:
    """Keys of every run of ``SHINGLE_WORDS`` words, at most ``limit``; and whether cut."""
    ws = phrase_words(text)
    count = len(ws) - SHINGLE_WORDS + 1
    if count <= 0:
        return set(), False
    cut = count > limit
    return {"p:" + " ".join(ws[i : i + SHINGLE_WORDS]) for i in range(min(count, limit))}, cut


def user_phrases(text: str, max_words: int, source_words: int) -> set[str]:
    """Whole-value keys of every run of up to ``max_words`` words of a user's message.

    So a name the user typed ("pay Bob Smith") marks the argument ``Bob Smith`` as theirs.
    Short runs count here (the user said "500"): they only ever mark a value as the user's.
    """
    ws = [w.strip(_EDGE + "()[]{}<>") for w in normalise(text).split()[:source_words]]
    ws = [w for w in ws if w]
    keys: set[str] = set()
    for start in range(len(ws)):
        for end in range(start + 1, min(start + max_words, len(ws)) + 1):
            keys.add("v:" + " ".join(ws[start:end]))
    return keys


def parts(text: str) -> Iterator[str]:
    """Every identifying key of a cleaned ``text`` (see ``values``), flattened for indexing."""
    for same, derived in values(text):
        yield from same
        yield from derived


Value = tuple[frozenset[str], frozenset[str]]


def values(text: str) -> Iterator[Value]:
    """The identifying values of a cleaned ``text``: addresses, links, accounts, numbers, ids.

    Each value comes as ``(keys, derived)``: ``keys`` are alternative canonical forms of
    the value itself (an IBAN's ``acct:`` and its digits), any one of which identifies it;
    ``derived`` are keys of what it contains (a link's host, the blocks of a spaced
    number), which say where it may come from but never that it is the same value.
    Linear: one pass over the words; a run of short number-like words ("DE89 3704 0044
    ...", "+49 30 1234567") is also read as one value, so spacing does not matter.
    """
    if "<" in text:
        for m in _PLACEHOLDER.finditer(text):
            yield frozenset({"ph:" + m.group()}), frozenset()
    group: list[str] = []
    for raw in words(text):
        if len(raw) > MAX_WORD_CHARS:
            yield from _group_values(group)
            group = []
            continue
        if "@" in raw:
            yield from _group_values(group)
            group = []
            key = email_key(raw)
            if key is not None:
                yield frozenset({key}), frozenset()
                continue
        for word in raw.translate(_QUOTES).split() if ("'" in raw or '"' in raw) else (raw,):
            word = word.strip(_EDGE)
            if not word:
                continue
            if word.isalpha() and not (len(word) <= 4 and (word.isupper() or _in_iban(group))):
                # A plain word (most of any text): it ends a number, and is nothing itself.
                if group:
                    yield from _group_values(group)
                    group = []
                continue
            if "." in word or "://" in word or "%" in word:
                link = link_keys(word)
                if link:
                    yield from _group_values(group)
                    group = []
                    yield frozenset(link[1:]), frozenset(link[:1])
                    continue
            if "/" in word and len(word) >= 4 and "://" not in word:
                # A file path (``shared/finance/q3.xlsx``): the same with or without ``./``.
                yield from _group_values(group)
                group = []
                yield frozenset({"path:" + word.casefold().lstrip("./")}), frozenset()
                continue
            if _number_like(word) or (word.isalpha() and len(word) <= 4 and _in_iban(group)):
                group.append(word)
                if len(group) > 12:
                    yield from _group_values(group[:-1])
                    group = group[-1:]
                continue
            yield from _group_values(group)
            group = []
            if not word.isalpha():
                keys = frozenset(_word_keys(word))
                if keys:
                    yield keys, frozenset()
    yield from _group_values(group)


def _in_iban(group: list[str]) -> bool:
    """The run so far starts like an IBAN (``gb33``): its lower-case blocks belong to it."""
    head = group[0] if group else ""
    return len(head) >= 4 and head[:2].isalpha() and head[2:4].isdigit()


def _number_like(word: str) -> bool:
    """A piece of a spaced number: digits (with . - / +), or a short upper-case block."""
    if len(word) > 34:
        return False
    if word.isalpha():
        return word.isupper() and len(word) <= 4
    return any(c.isdigit() for c in word) and all(c.isalnum() or c in "+-./" for c in word)


def _word_keys(word: str) -> Iterator[str]:
    compact = _ALNUM_ONLY.sub("", word.casefold())
    digits = _DIGITS_ONLY.sub("", compact)
    if len(digits) >= MIN_NUMBER_DIGITS:
        yield "num:" + digits
    if len(compact) >= 6 and digits and len(digits) < len(compact):
        yield "id:" + compact


def _group_values(group: list[str]) -> Iterator[Value]:
    """The values of a run of number-like words: an IBAN, the run's digits, each word."""
    if not group:
        return
    compact = [_ALNUM_ONLY.sub("", w.casefold()).upper() for w in group]
    for start in range(len(group)):
        head = compact[start]
        if len(head) >= 4 and head[:2].isalpha() and head[2:4].isdigit():
            iban = valid_iban("".join(compact[start:]))
            if iban is not None:
                yield from _group_values(group[:start])
                # The words the IBAN spans; the rest of the run is read again.
                used, end = 0, start
                while end < len(group) and used < len(iban):
                    used += len(compact[end])
                    end += 1
                yield frozenset({"acct:" + iban}), frozenset()
                yield from _group_values(group[end:])
                return
    if len(group) == 1:
        if not group[0].isalpha():
            keys = frozenset(_word_keys(group[0]))
            if keys:
                yield keys, frozenset()
        return
    derived = frozenset(k for w in group if not w.isalpha() for k in _word_keys(w))
    joined = "".join(compact)
    digits = _DIGITS_ONLY.sub("", joined)
    same = set()
    if len(digits) >= MIN_NUMBER_DIGITS:
        same.add("num:" + digits)
    if len(joined) >= 6 and digits and len(digits) < len(joined):
        same.add("id:" + joined.casefold())  # ``HT ROME 66613`` is ``HT-ROME-66613``
    if group[0].startswith("+") or group[0].startswith("00"):
        rest = _DIGITS_ONLY.sub("", "".join(compact[1:]))
        if len(rest) >= MIN_NUMBER_DIGITS:
            same.add("num:" + rest)
    if same:
        yield frozenset(same), derived - same
    elif derived:
        for key in derived:
            yield frozenset({key}), frozenset()


#: IBAN length per country (ISO 13616 registry): a run of blocks is read as exactly one.
# fmt: off
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
# fmt: on


def valid_iban(compact: str) -> str | None:
    """The IBAN at the start of ``compact`` (its country's length, checksum ISO 13616)."""
    length = IBAN_LENGTHS.get(compact[:2])
    if length is None or len(compact) < length or not compact[2:4].isdigit():
        return None
    candidate = compact[:length]
    if not candidate.isalnum() or not candidate.isascii():
        return None
    digits = "".join(str(int(c, 36)) for c in candidate[4:] + candidate[:4])
    return candidate if int(digits) % 97 == 1 else None


def canonical_email(text: str) -> str | None:
    """``"John.Doe+news"@Example.COM`` -> ``johndoe@example.com``; ``None`` if not an address."""
    text = text.strip().strip(_EDGE.replace("+", "").replace("_", "").replace("-", ""))
    at = text.rfind("@")
    if at <= 0:
        return None
    local, domain = text[:at], text[at + 1 :]
    for lead in (":", "="):  # mailto:x@y, href=x@y
        if lead in local:
            local = local[local.rfind(lead) + 1 :]
    local = local.replace('"', "").replace("'", "").casefold()
    local = local.split("+", 1)[0].replace(".", "")
    host = canonical_host(domain.rstrip(".,;:!?>)]}'\""))
    if not local or len(local) > 64 or host is None or "." not in host:
        return None
    return f"{local}@{host}"


def email_key(word: str) -> str | None:
    address = canonical_email(word)
    return None if address is None else "email:" + address


def canonical_host(host: str) -> str | None:
    """Lower-case IDNA form of a host name, without ``www.``; ``None`` if it is not one."""
    host = host.strip().rstrip(".").casefold()
    if not host or len(host) > 253:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            return None
    labels = host.split(".")
    if any(not _HOST_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[0] == "www" and len(labels) > 2:
        labels = labels[1:]
    return ".".join(labels)


def link_keys(word: str) -> list[str]:
    """``url:`` and ``host:`` keys of a link, with or without a scheme; ``[]`` if none."""
    text = word
    if "%" in text:
        text = unquote(text)
    lowered = text.casefold()
    scheme = _SCHEME.match(lowered)
    if scheme is not None:
        text = text[scheme.end() :]
    elif lowered.startswith("//"):
        text = text[2:]
    end = len(text)
    for stop in "/?#":
        found = text.find(stop)
        if found != -1:
            end = min(end, found)
    authority, rest = text[:end], text[end:]
    if "@" in authority:
        authority = authority[authority.rfind("@") + 1 :]
    if ":" in authority:
        authority, port = authority.split(":", 1)
        if not port.isdigit():
            return []
    host = canonical_host(authority)
    if host is None or "." not in host:
        return []
    tld = host.rsplit(".", 1)[1]
    if scheme is None and not (tld.isalpha() and len(tld) >= 2) and not tld.startswith("xn--"):
        return []
    rest = rest.split("#", 1)[0].rstrip("/.,;:!?")
    keys = ["host:" + host]
    keys.append("url:" + host + rest)
    return keys


def decoded_layers(text: str, depth: int = 2) -> list[str]:
    """Texts hidden in ``text`` one or more encodings deep: URL-encoding and base64 words.

    HTML entities are decoded by ``clean`` for every text already.
    """
    layers: list[str] = []
    frontier = [text]
    for _ in range(depth):
        found: list[str] = []
        for layer in frontier:
            if "%" in layer:
                decoded = unquote(layer)
                if decoded != layer:
                    found.append(decoded)
            found.extend(_base64_words(layer))
        if not found:
            break
        layers.extend(found)
        frontier = found
    return layers


def _base64_words(text: str) -> Iterator[str]:
    count = 0
    for word in text.split():
        word = word.strip(".,;:!?\"'()[]{}<>")
        if not MIN_BASE64_CHARS <= len(word) <= MAX_BASE64_CHARS:
            continue
        if _BASE64_WORD.fullmatch(word) is None or word.isalpha() or word.isdigit():
            continue
        decoded = _decode_base64(word)
        if decoded is not None:
            yield decoded
            count += 1
            if count >= MAX_BASE64_WORDS:
                return


def _decode_base64(word: str) -> str | None:
    padded = word + "=" * (-len(word) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if "-" in word or "_" in word
            else base64.b64decode(padded, validate=True)
        )
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return text if text and printable >= 0.95 * len(text) else None
