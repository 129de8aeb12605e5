"""Presidio's own recognizers, adjusted to run offline and to skip text that cannot match.

- ``OfflineEmailRecognizer``: Presidio validates an address's domain with tldextract, which
  downloads the public-suffix list on first use. Here it reads the snapshot shipped inside
  tldextract and never touches the network.
- ``WindowedPhoneRecognizer``: ``python-phonenumbers`` scans the whole text once per region
  (eight of them), the slowest recognizer by far. A phone number is digits with a little
  punctuation between them, so it runs only on those runs (with room for an extension),
  and not on runs that are decimals, dates, IP addresses or the fraction of a time.
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

from firewall.redact.patterns import AddressRecognizer, is_card_number

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
    """Presidio's context enhancer with the same results, without its quadratic scans: the
    token under a finding by binary search, the document's keywords as a set (Presidio
    tests membership in a list, once per word walked, for every finding)."""

    def _extract_surrounding_words(
        self, nlp_artifacts: NlpArtifacts, word: str, start: int
    ) -> list[str]:
        if not nlp_artifacts.tokens:
            return [""]
        keywords = getattr(nlp_artifacts, "_keyword_set", None)
        if keywords is None:
            keywords = frozenset(nlp_artifacts.keywords)
            nlp_artifacts._keyword_set = keywords  # type: ignore[attr-defined]
        index = self._find_index_of_match_token(
            word, start, nlp_artifacts.tokens, nlp_artifacts.tokens_indices
        )
        lemmas = nlp_artifacts.lemmas
        words = _context_words(index, self.context_prefix_count, lemmas, keywords, -1)
        words += _context_words(index, self.context_suffix_count, lemmas, keywords, 1)
        return list(set(words))

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


#: A run of the characters phone numbers are written with, starting with a digit, "+" or
#: "(". One character class, so the scan is linear.
_PHONE_RUN = re.compile(
    r"[+\uff0b(\uff08]?\d[\d \t\-./()~\u00a0\u00ad\u200b\u2060\u3000"
    r"\u2010-\u2015\u2212\u30fc\uff0d\uff0f\uff08\uff09\u2053\u223c\uff5e]*"
)
#: Characters kept around a run: room for an extension (" ext. 1234", "x64954") after it
#: and for the neighbouring characters the matcher inspects.
_BEFORE, _AFTER = 4, 16
#: A run longer than this is read with the margin windows instead (a table of numbers).
_LONG_RUN = 64
_MARGIN = 24


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer, run only on the runs of text that can hold a number.

    ``python-phonenumbers`` scans the whole text once per region: the slowest recognizer
    by far. Each run of digits and phone punctuation that has enough digits and is not a
    decimal, a date, an IP address or the tail of a time (``12:04:40.002131``) is read on
    its own, with a margin for an extension.
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._fewest_digits = _fewest_phone_digits(self.supported_regions)
        # A region is read only on runs with at least as many digits as its shortest
        # number: with a country code or a trunk prefix a number only gets longer.
        self._region_digits = {
            region: min(
                n
                for n in phonenumbers.PhoneMetadata.metadata_for_region(
                    region
                ).general_desc.possible_length
                if n > 0
            )
            for region in self.supported_regions
        }

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end, digits, international in self.windows(text):
            window = text[start:end]
            for region in self.supported_regions:
                if digits < self._region_digits[region] and not international:
                    continue
                for match in phonenumbers.PhoneNumberMatcher(
                    window, region, leniency=self.leniency
                ):
                    result = self._get_recognizer_result(match, window, region, nlp_artifacts)
                    result.start += start
                    result.end += start
                    if not not_a_phone(text, result.start, result.end):
                        results.append(result)
        return EntityRecognizer.remove_duplicates(results)

    def windows(self, text: str) -> list[tuple[int, int, int, bool]]:
        """Merged ranges of ``text`` worth reading for phone numbers, with the most digits
        of a run in each and whether one is written with a country code (then every
        region reads it)."""
        windows: list[tuple[int, int, int, bool]] = []
        for match in _PHONE_RUN.finditer(text):
            run_start, run_end = match.span()
            while run_end > run_start and not text[run_end - 1].isdigit():
                run_end -= 1
            run = text[run_start:run_end]
            digits = sum(ch.isdigit() for ch in run)
            if digits < self._fewest_digits:
                continue
            if not_a_phone(text, run_start, run_end, context=False) or is_card_number(run):
                continue
            international = run[0] in "+\uff0b"
            if international and run[1:2] == "0":  # a time zone (+0000): no country code
                continue
            if run_end - run_start > _LONG_RUN:
                start, end = max(0, run_start - _MARGIN), min(len(text), run_end + _MARGIN)
            else:
                start, end = max(0, run_start - _BEFORE), min(len(text), run_end + _AFTER)
            if windows and start <= windows[-1][1]:
                last = windows[-1]
                windows[-1] = (
                    last[0],
                    max(end, last[1]),
                    max(digits, last[2]),
                    international or last[3],
                )
            else:
                windows.append((start, end, digits, international))
        return windows


def _context_words(
    index: int, count: int, lemmas: Sequence[str], keywords: frozenset[str], step: int
) -> list[str]:
    """Presidio's ``_add_n_words``: up to ``count + 1`` keywords from ``index`` on."""
    words: list[str] = []
    remaining = count + 1
    while 0 <= index < len(lemmas) and remaining > 0:
        lemma = lemmas[index].lower()
        if lemma in keywords:
            words.append(lemma)
            remaining -= 1
        index += step
    return words


_DECIMAL = re.compile(r"\d{1,6}\.\d{1,6}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE = re.compile(
    r"(?:19|20)\d\d([./\-])(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])([./\-])(?:0[1-9]|1[0-2])\2(?:19|20)\d\d"
    r"|(?:0[1-9]|1[0-2])/(?:0[1-9]|[12]\d|3[01])/(?:19|20)\d\d"
)


def not_a_phone(text: str, start: int, end: int, *, context: bool = True) -> bool:
    """A phone match that is really a decimal, a date, an IP address or part of a longer
    token (the fraction of a timestamp, a version, a hash)."""
    value = text[start:end]
    if _DECIMAL.fullmatch(value) or _IPV4.fullmatch(value) or _DATE.fullmatch(value):
        return True
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before in "ntr" and start > 1 and text[start - 2] == "\\":
        before = " "  # an escaped line break or tab ("\\n") ends the word before
    if context and (before.isalnum() or after.isalnum() or before == "_" or after == "_"):
        return True
    if before in ":./" and start > 1 and text[start - 2].isdigit():
        return True
    return after in ":./" and end + 1 < len(text) and text[end + 1].isdigit()


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
