"""Presidio's own recognizers, adjusted to run offline and to skip text that cannot match.

- ``OfflineEmailRecognizer``: Presidio validates an address's domain with tldextract, which
  downloads the public-suffix list on first use. Here it reads the snapshot shipped inside
  tldextract and never touches the network.
- ``WindowedPhoneRecognizer``: ``python-phonenumbers`` scans the whole text once per region
  (eight of them), the slowest recognizer by far. A phone number is digits with a little
  punctuation between them, so it runs only on windows around digit runs, with margins
  wide enough for extensions and for the library's checks of the surrounding characters.
- ``IndexedContextEnhancer``: Presidio's context-word scoring finds the token under each
  finding by walking the whole document, once per finding; here by binary search.
- ``PRESCREENS``: a necessary condition per built-in recognizer (an ``@`` for an e-mail
  address, a digit for a card number): when it fails the recognizer cannot match.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence

import phonenumbers
import tldextract
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from firewall.redact.patterns import AddressRecognizer

# ``suffix_list_urls=()`` and no cache directory: the bundled snapshot, no network, no disk.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


#: Top-level names missing from the public-suffix list that still carry real addresses:
#: company networks and test systems (RFC 2606, 6761, 6762, ICANN's ``.internal``).
PRIVATE_TLDS = frozenset(
    {
        "test",
        "example",
        "invalid",
        "local",
        "internal",
        "lan",
        "corp",
        "home",
        "intranet",
        "private",
        "localdomain",
    }
)


class OfflineEmailRecognizer(AddressRecognizer):
    """E-mail addresses whose domain ends in a public suffix, checked offline.

    Addresses on private top-level names (``jane@corp.internal``) are personal data as
    much as public ones, so they count too.
    """

    def validate_result(self, pattern_text: str) -> bool:
        if _OFFLINE_TLD(pattern_text.rsplit("@", 1)[-1]).fqdn != "":
            return True
        return pattern_text.rsplit(".", 1)[-1].casefold() in PRIVATE_TLDS


class IndexedContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer with the same results, without its quadratic token scan."""

    @staticmethod
    def _find_index_of_match_token(
        word: str, start: int, tokens: Sequence, tokens_indices: list[int]
    ) -> int:
        # The first token ending after ``start``, as Presidio's linear scan defines it.
        index = max(bisect_right(tokens_indices, start) - 1, 0)
        if tokens_indices[index] + len(tokens[index]) <= start:
            index += 1
        if index >= len(tokens_indices):
            raise ValueError(f"no token at offset {start}")
        return index


_DIGIT_RUN = re.compile(r"\d+")


def _fewest_phone_digits(regions: Sequence[str]) -> int:
    """The fewest digits a valid number can have: nationally in ``regions``, or with a
    country code anywhere (from the library's own metadata)."""
    national = min(
        min(
            n
            for n in phonenumbers.PhoneMetadata.metadata_for_region(r).general_desc.possible_length
        )
        for r in regions
    )
    international = min(
        len(str(meta.country_code)) + min(n for n in meta.general_desc.possible_length if n > 0)
        for region in phonenumbers.SUPPORTED_REGIONS
        if (meta := phonenumbers.PhoneMetadata.metadata_for_region(region)) is not None
        and any(n > 0 for n in meta.general_desc.possible_length)
    )
    return min(national, international)


#: Characters kept around a digit run: room for "+", "(", an extension like " ext. 1234"
#: and the neighbouring characters the matcher inspects.
_MARGIN = 24


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, run on the windows of the text that hold digits."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._fewest_digits = _fewest_phone_digits(self.supported_regions)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end in digit_windows(text, _MARGIN):
            if sum(ch.isdigit() for ch in text[start:end]) < self._fewest_digits:
                continue  # too few digits for a valid number in any region
            for result in super().analyze(text[start:end], entities, nlp_artifacts):
                result.start += start
                result.end += start
                if not not_a_phone(text, result.start, result.end):
                    results.append(result)
        return EntityRecognizer.remove_duplicates(results)


_DECIMAL = re.compile(r"\d{1,6}\.\d{1,6}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE = re.compile(
    r"(?:19|20)\d\d([./\-])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])([./\-])(?:0[1-9]|1[0-2])\2(?:19|20)\d\d"
    r"|(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/(?:19|20)\d\d"
)


def not_a_phone(text: str, start: int, end: int) -> bool:
    """A phone match that is really a decimal, a date, an IP address or part of a longer
    token (the fraction of a timestamp, a version, a hash)."""
    value = text[start:end]
    if _DECIMAL.fullmatch(value) or _IPV4.fullmatch(value) or _DATE.fullmatch(value):
        return True
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or after.isalnum() or before == "_" or after == "_":
        return True
    if before in ":./" and start > 1 and text[start - 2].isdigit():
        return True
    return after in ":./" and end + 1 < len(text) and text[end + 1].isdigit()


def digit_windows(text: str, margin: int) -> list[tuple[int, int]]:
    """Merged ranges around every digit run, ``margin`` characters on each side.

    Runs closer than twice the margin share a window, so no window edge cuts through a
    digit run: every number the matcher could see in the whole text is whole in a window.
    """
    windows: list[tuple[int, int]] = []
    for match in _DIGIT_RUN.finditer(text):
        start = max(0, match.start() - margin)
        end = min(len(text), match.end() + margin)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


#: Necessary conditions for Presidio's pattern recognizers, by entity. An entity missing
#: here always runs.
PRESCREENS: dict[str, Callable[[str], bool]] = {
    "EMAIL_ADDRESS": lambda text: "@" in text,
    "PHONE_NUMBER": _has_digit,
    "URL": lambda text: "." in text,
    "CREDIT_CARD": _has_digit,
    "US_SSN": _has_digit,
    "US_ITIN": _has_digit,
    "UK_NHS": _has_digit,
    "US_BANK_NUMBER": _has_digit,
    "IBAN_CODE": _has_digit,
    "US_PASSPORT": _has_digit,
    "IP_ADDRESS": lambda text: ":" in text or _has_digit(text),
    "UUID": lambda text: "-" in text,
    "MAC_ADDRESS": lambda text: ":" in text or "-" in text or "." in text,
    "DATE_OF_BIRTH": _has_digit,
}
