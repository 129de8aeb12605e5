"""Our own recognizers for entities that Presidio's patterns miss or over-reach on.

- ``CardRecognizer``: every run of 13-19 digits (spaces or dashes between them allowed)
  that passes the Luhn check and starts like a payment card (2-6; 1 only when grouped).
  Presidio's pattern lists issuer prefixes and misses Mastercard's 2-series.
- ``AddressRecognizer``: e-mail addresses with a local part of the characters addresses
  really use, so ``/search?email=a.b@libero.it`` yields the address, not the path.
- ``Ipv6Recognizer``: IPv6 addresses checked by ``ipaddress``, also when a ``:`` follows
  (``2001:db8::1: connection reset``), which Presidio's boundary excludes.
- ``DateOfBirthRecognizer``: a date announced as a birth date (``born on``, ``DOB``).
- ``MailNameRecognizer``: the display names in mail headers, which the model reads as
  a header, not as prose.

Every pattern is linear: bounded repetitions over disjoint character classes, boundaries
as look-arounds, no nested quantifiers that can match the same text two ways.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

# A digit, then 11-18 more, each optionally after one space or dash; never inside a longer
# run of digits (grouped or not), a word (an IBAN) or after "+" (a phone number).
_CARD = re.compile(r"(?<![\w+])(?<!\d[ \-])\d(?:[ \-]?\d){11,18}(?![ \-]?\d)(?!\w)")
#: Words that announce a card number shortly before it: then 12 digits (Maestro) and
#: numbers starting with 1 (UATP, old JCB) count too.
_CARD_WORDS = re.compile(
    r"card|\bcc\b|credit|debit|visa|mastercard|maestro|amex|jcb|diners|discover|\bpan\b",
    re.IGNORECASE,
)


def luhn(digits: str) -> bool:
    """The Luhn checksum of a string of ASCII digits."""
    total = 0
    for index, ch in enumerate(reversed(digits)):
        value = ord(ch) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def is_card_number(text: str, announced: bool = False) -> bool:
    """13-19 digits (spaces/dashes ignored) that pass Luhn and start like a card; 12 and
    a leading 1 only when the number was ``announced`` as a card."""
    digits = text.replace(" ", "").replace("-", "")
    shortest = 12 if announced else 13
    if not (shortest <= len(digits) <= 19 and digits.isascii() and digits.isdigit()):
        return False
    if digits[0] not in "23456" and not (digits[0] == "1" and (announced or digits != text)):
        return False
    if len(set(digits)) == 1:
        return False
    return luhn(digits)


class _Scanner(EntityRecognizer):
    """A recognizer that finds spans by its own scan: one entity, one score, nothing to load."""

    ENTITY = ""
    NAME = ""
    SCORE = 1.0

    def __init__(self) -> None:
        super().__init__(supported_entities=[self.ENTITY], name=self.NAME)

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [RecognizerResult(self.ENTITY, s, e, self.SCORE) for s, e in self.spans(text)]

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """Start and end of every entity in ``text``."""
        raise NotImplementedError


class CardRecognizer(_Scanner):
    """Payment card numbers: Luhn over digit runs, not a list of issuer prefixes."""

    ENTITY = "CREDIT_CARD"
    NAME = "LuhnCardRecognizer"
    SCORE = 1.0

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for match in _CARD.finditer(text):
            before = text[max(0, match.start() - 40) : match.start()]
            if is_card_number(match.group(), announced=bool(_CARD_WORDS.search(before))):
                yield match.start(), match.end()


#: Local part: the characters real addresses use (no ``=``, ``?`` or ``/``, which end
#: a query parameter or a path); domain: labels of letters, digits and hyphens.
EMAIL = (
    r"(?<![\w.%+\-'])[\w'][\w.%+\-']{0,63}@"
    r"[^\W_](?:[\w\-]{0,62}[^\W_])?(?:\.[^\W_](?:[\w\-]{0,62}[^\W_])?){1,8}(?![\w\-])"
)


class AddressRecognizer(PatternRecognizer):
    """E-mail addresses; subclasses check the domain (see ``builtin``)."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="EMAIL_ADDRESS",
            name="EmailRecognizer",
            patterns=[Pattern("email address", EMAIL, 1.0)],
            context=["email", "mail", "e-mail", "address"],
            supported_language="en",
        )


_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])[0-9A-Fa-f:]{2,39}(?:%[\w.]{1,16})?(?![\w.])")


class Ipv6Recognizer(_Scanner):
    """IPv6 addresses, a trailing ``:`` or port allowed; validity by ``ipaddress``."""

    ENTITY = "IP_ADDRESS"
    NAME = "Ipv6Recognizer"
    SCORE = 0.9

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for match in _IPV6_CANDIDATE.finditer(text):
            candidate = match.group()
            if candidate.count(":") < 2 or not any(ch.isdigit() for ch in candidate):
                continue
            forms = (candidate, candidate[:-1]) if candidate.endswith(":") else (candidate,)
            for form in forms:
                try:
                    ipaddress.IPv6Address(form)
                except ValueError:
                    continue
                yield match.start(), match.start() + len(form)
                break


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE = (
    rf"(?:\d{{4}}[./\-]\d{{1,2}}[./\-]\d{{1,2}}|\d{{1,2}}[./\-]\d{{1,2}}[./\-]\d{{2,4}}"
    rf"|{_DAY}(?: of)? {_MONTH},? \d{{4}}|{_MONTH} {_DAY},? \d{{4}})"
)
_BIRTH = (
    r"\b(?:born(?: on| in)?|d\.?o\.?b\.?|date of birth|birth ?date|birthday|geboren(?: am)?"
    r"|n[ée]e? le|fecha de nacimiento|data di nascita)"
)


class DateOfBirthRecognizer(PatternRecognizer):
    """A date announced as a birth date; bare dates are ``DATE_TIME`` and left alone."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE_OF_BIRTH",
            name="DateOfBirthRecognizer",
            patterns=[
                Pattern(
                    "announced birth date",
                    rf"{_BIRTH}\b[ \t:=,\-]{{0,4}}(?:(?:is|was|on)[ \t]{{1,2}})?\K{DATE}\b",
                    0.9,
                )
            ],
            supported_language="en",
            global_regex_flags=re.IGNORECASE,
        )


class MailNameRecognizer(PatternRecognizer):
    """The display name in a mail header (``From: "Jane Roe" <jane@example.com>``)."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PERSON",
            name="MailNameRecognizer",
            patterns=[
                Pattern(
                    "mail header display name",
                    r"^(?:From|To|Cc|Bcc|Reply-To|Sender|Delivered-To):[ \t]{0,8}"
                    r"(?:[^\n]{0,200}?,[ \t]{0,8})?\"?\K[^\"<>\n,@:;]{2,64}?(?=\"?[ \t]{0,4}<)",
                    0.85,
                )
            ],
            supported_language="en",
            global_regex_flags=re.MULTILINE | re.IGNORECASE,
        )
