"""The Presidio analyzer, built offline once per process and shared by every redactor.

Building it loads a spaCy model and compiles hundreds of regexes: far too slow per call.
``analyzer_for(ner)`` returns the one instance for that choice, built on first use.
``AnalyzerBundle.analyze`` is thread-safe and turns a regex timeout (which Presidio only
logs, skipping the pattern) into an exception, so the caller fails closed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult

from firewall.redact.builtin import (
    PRESCREENS,
    IndexedContextEnhancer,
    OfflineEmailRecognizer,
    WindowedPhoneRecognizer,
)
from firewall.redact.entities import NER_ENTITIES
from firewall.redact.nlp import DEFAULT_MODEL, OfflineNlpEngine
from firewall.redact.patterns import (
    CardRecognizer,
    DateOfBirthRecognizer,
    Ipv6Recognizer,
    MailNameRecognizer,
)
from firewall.redact.secrets import SecretRecognizer, secret_recognizers

_PRESIDIO_LOGGER = "presidio-analyzer"


class RecognizerTimeoutError(RuntimeError):
    """A recognizer's regex timed out: part of the text was not checked."""


class _TimeoutWatch(logging.Filter):
    """Notices Presidio's "timed out ... skipping" warnings, per thread."""

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and "timed out" in str(record.msg):
            pattern = str(record.args[0]) if record.args else record.getMessage()
            self._local.timeouts = [*getattr(self._local, "timeouts", []), pattern]
        return True

    def reset(self) -> None:
        self._local.timeouts = []

    def timeouts(self) -> list[str]:
        return list(getattr(self._local, "timeouts", []))


_WATCH = _TimeoutWatch()


def _install_watch() -> None:
    logger = logging.getLogger(_PRESIDIO_LOGGER)
    if _WATCH not in logger.filters:
        logger.addFilter(_WATCH)
    # The timeout is only visible as a warning record: make sure one is created.
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)


class AnalyzerBundle:
    """An offline ``AnalyzerEngine`` with our recognizers and a cheap pre-scan."""

    def __init__(self, ner: bool, model: str = DEFAULT_MODEL) -> None:
        self.nlp = OfflineNlpEngine(model if ner else None)
        self.nlp.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=self.nlp)
        replaced = {"EmailRecognizer", "PhoneRecognizer", "CreditCardRecognizer"}
        if not ner:
            replaced.add("SpacyRecognizer")
        registry.recognizers = [r for r in registry.recognizers if r.name not in replaced]
        registry.add_recognizer(OfflineEmailRecognizer())
        registry.add_recognizer(WindowedPhoneRecognizer())
        registry.add_recognizer(CardRecognizer())
        registry.add_recognizer(Ipv6Recognizer())
        registry.add_recognizer(DateOfBirthRecognizer())
        if ner:
            registry.add_recognizer(MailNameRecognizer())
        for recognizer in secret_recognizers():
            registry.add_recognizer(recognizer)
        self.registry = registry
        self.analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=self.nlp,
            supported_languages=["en"],
            context_aware_enhancer=IndexedContextEnhancer(),
        )
        self.supported = frozenset(self.analyzer.get_supported_entities("en"))
        _install_watch()
        # Compile every pattern now rather than on the first tool result.
        self.analyze("Warm-up: Jane Doe, jane@example.com, 4111 1111 1111 1111.", self.supported)

    def possible_entities(self, text: str, wanted: Iterable[str]) -> set[str]:
        """The wanted entities some recognizer could find in ``text`` (a cheap pre-scan)."""
        wanted = set(wanted) & self.supported
        lowered: str | None = None
        possible: set[str] = set()
        for recognizer in self.registry.recognizers:
            entities = wanted.intersection(recognizer.supported_entities) - possible
            if not entities:
                continue
            if isinstance(recognizer, SecretRecognizer):
                if lowered is None:
                    lowered = text.lower()
                if not recognizer.may_match(text, lowered):
                    continue
            elif len(recognizer.supported_entities) == 1:
                check = PRESCREENS.get(recognizer.supported_entities[0])
                if check is not None and not check(text):
                    continue
            possible |= entities
        return possible

    def analyze(
        self,
        text: str,
        entities: Iterable[str],
        *,
        score_threshold: float = 0.0,
        context: Sequence[str] | None = None,
    ) -> list[RecognizerResult]:
        """Findings in ``text`` for ``entities``; raises if any recognizer timed out."""
        possible = self.possible_entities(text, entities)
        if not possible or not text.strip():
            return []
        artifacts = self.nlp.analyze_text(text, ner=bool(possible & NER_ENTITIES))
        _WATCH.reset()
        results = self.analyzer.analyze(
            text=text,
            language="en",
            entities=sorted(possible),
            nlp_artifacts=artifacts,
            score_threshold=score_threshold,
            context=list(context) if context else None,
        )
        timeouts = _WATCH.timeouts()
        if timeouts:
            raise RecognizerTimeoutError(f"pattern '{timeouts[0]}' timed out")
        return [r for r in results if r.entity_type in possible]

    def recognizers(self) -> list[EntityRecognizer]:
        return list(self.registry.recognizers)


_BUNDLES: dict[bool, AnalyzerBundle] = {}
_BUILD_LOCK = threading.Lock()


def analyzer_for(ner: bool) -> AnalyzerBundle:
    """The process-wide analyzer with or without NER, built on first use."""
    bundle = _BUNDLES.get(ner)
    if bundle is None:
        with _BUILD_LOCK:
            bundle = _BUNDLES.get(ner)
            if bundle is None:
                bundle = _BUNDLES[ner] = AnalyzerBundle(ner)
    return bundle
