"""An offline spaCy engine for Presidio that runs named-entity recognition only where needed.

Stock Presidio runs the whole spaCy pipeline (tagger, parser, lemmatizer, NER) over every
text. Redaction needs only two things from it: tokens with lemmas, for context words, and
named entities. So this engine

- loads the installed model package with only its ``ner`` component (its own tok2vec,
  so the results do not change) and never downloads anything (about 3x less work than
  the whole pipeline);
- multiplies matrices with NumPy's BLAS, held to one thread while NER runs;
- tokenizes the whole text cheaply (lemma = lower-cased token, enough for Presidio's
  context words; without NER, by a regular expression rather than spaCy), runs NER only
  when a wanted entity needs it, and only over lines that hold a letter or a digit (see
  ``ner_regions``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from thinc.api import NumpyOps
from threadpoolctl import ThreadpoolController

from firewall.redact.entities import NER_ENTITIES
from firewall.redact.settings import NER_MODEL_PACKAGE

__all__ = ["DEFAULT_MODEL", "NER_ENTITIES", "OfflineNlpEngine", "ner_regions"]

#: The spaCy model package the ``ner`` extra installs (spaCy's ``en_core_web_sm`` 3.8.0).
DEFAULT_MODEL = NER_MODEL_PACKAGE

#: Presidio's own mapping and ignore list (its ``conf/default.yaml``), so NER entities are
#: named and filtered exactly as a stock setup names and filters them.
NER_CONFIGURATION = {
    "model_to_presidio_entity_mapping": {
        "PER": "PERSON",
        "PERSON": "PERSON",
        "NORP": "NRP",
        "FAC": "LOCATION",
        "LOC": "LOCATION",
        "GPE": "LOCATION",
        "LOCATION": "LOCATION",
        "ORG": "ORGANIZATION",
        "ORGANIZATION": "ORGANIZATION",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
    },
    "low_confidence_score_multiplier": 0.4,
    "low_score_entity_names": [],
    "labels_to_ignore": [
        "ORGANIZATION",
        "CARDINAL",
        "EVENT",
        "LANGUAGE",
        "LAW",
        "MONEY",
        "ORDINAL",
        "PERCENT",
        "PRODUCT",
        "QUANTITY",
        "WORK_OF_ART",
    ],
}


_LINE = re.compile(r"[^\n]*\n?")
_WORD = re.compile(r"\w+(?:['\-.]\w+)*|[^\w\s]")


def ner_regions(text: str) -> list[tuple[int, int]]:
    """Line ranges of ``text`` that NER must read; neighbouring lines are read together.

    Only lines with no letter and no digit (rules, blank lines, punctuation) are skipped:
    the model finds lower-case names and nationalities too ("proud fijians"), so any
    cleverer skipping was measured to lose recall.
    """
    regions: list[tuple[int, int]] = []
    for match in _LINE.finditer(text):
        start, end = match.span()
        if start == end:
            break
        if not any(ch.isalnum() for ch in match.group()):
            continue
        if regions and regions[-1][1] == start:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions


@dataclass
class Entity:
    """What Presidio reads of a named entity: its label and where it is in the text."""

    label_: str
    start_char: int
    end_char: int
    text: str


class NerUnavailableError(RuntimeError):
    """The NER model package is not installed: redaction with ``ner: true`` cannot run."""


class OfflineNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loaded from an installed package, NER only where needed.

    ``model=None`` gives a tokenizer-only engine: pattern recognizers and context words
    work, names and places are not found. Thread-safe: the model runs under a lock.
    """

    def __init__(self, model: str | None = DEFAULT_MODEL) -> None:
        super().__init__(
            models=[{"lang_code": "en", "model_name": model or "blank:en"}],
            ner_model_configuration=NerModelConfiguration(**NER_CONFIGURATION),
        )
        self.model = model
        self._ner: Language | None = None
        self._blas: ThreadpoolController | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the tokenizer and, with a model, its NER component. Never downloads."""
        tokenizer = spacy.blank("en")
        if self.model is not None:
            if not spacy.util.is_package(self.model):
                raise NerUnavailableError(
                    f"spaCy model package '{self.model}' is not installed "
                    "(install the 'ner' extra, or set redaction.ner: false)"
                )
            ner = spacy.load(self.model, exclude=_all_but_ner(self.model))
            # NumPy's BLAS on one thread: measured 23% faster than thinc's BLIS kernels
            # here, and a second BLAS thread only contends with the host's other work.
            ops = NumpyOps(use_blis=False)
            for node in ner.get_pipe("ner").model.walk():
                node.ops = ops
            self._blas = ThreadpoolController()
            self._ner = ner
            tokenizer = ner
        self.nlp = {"en": tokenizer}

    @property
    def has_ner(self) -> bool:
        return self._ner is not None

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        return self.analyze_text(text, ner=True)

    def process_batch(  # type: ignore[override]
        self, texts: Sequence[str], language: str, **_: object
    ) -> Iterator[tuple[str, NlpArtifacts]]:
        for text in texts:
            yield text, self.analyze_text(text, ner=True)

    def analyze_text(self, text: str, *, ner: bool) -> NlpArtifacts:
        """Tokens and lemmas of ``text``; named entities too when ``ner`` and a model is loaded."""
        if not self.nlp:
            raise ValueError("NLP engine is not loaded. Call load() first")
        if not (ner and self._ner is not None):
            return self._words_only(text)
        spans = self._entities(text)
        scores = [self.ner_model_configuration.default_score] * len(spans)
        entities, scores = self._get_updated_entities(spans, scores)  # type: ignore[arg-type]
        artifacts = self._words_only(text)
        artifacts.entities = entities
        artifacts.scores = scores
        return artifacts

    def _words_only(self, text: str) -> NlpArtifacts:
        """Words for context scoring, without spaCy: a word is a run of word characters
        (with inner ``-``, ``'`` or ``.``) or one other visible character. Context words
        ("ssn", "phone", "license") come out as spaCy's tokenizer gives them, at a
        fraction of its cost."""
        tokens, indices, lemmas = [], [], []
        for match in _WORD.finditer(text):
            tokens.append(match.group())
            indices.append(match.start())
            lemmas.append(match.group().lower())
        return NlpArtifacts(
            entities=[],
            tokens=tokens,  # type: ignore[arg-type]
            tokens_indices=indices,
            lemmas=lemmas,
            nlp_engine=self,
            language="en",
            scores=[],
        )

    def _entities(self, text: str) -> list[Entity]:
        """Named entities of ``text``: NER over its regions, offsets in ``text``. No joined
        spaCy document is built: joining costs a third of the model's own time."""
        assert self._ner is not None and self._blas is not None
        regions = ner_regions(text)
        if not regions:
            return []
        docs = [self._ner.make_doc(text[start:end]) for start, end in regions]
        found: list[Entity] = []
        with self._lock, self._blas.limit(limits=1, user_api="blas"):
            for (start, _), doc in zip(
                regions, self._ner.get_pipe("ner").pipe(docs, batch_size=64), strict=True
            ):
                for ent in doc.ents:
                    found.append(
                        Entity(ent.label_, start + ent.start_char, start + ent.end_char, ent.text)
                    )
        return found

    def is_stopword(self, word: str, language: str) -> bool:
        return self.nlp["en"].vocab[word].is_stop

    def is_punct(self, word: str, language: str) -> bool:
        return self.nlp["en"].vocab[word].is_punct


def _all_but_ner(model: str) -> list[str]:
    meta = spacy.util.get_package_path(model)
    config = spacy.util.load_config(next(meta.glob("*/config.cfg")))
    return [name for name in config["nlp"]["pipeline"] if name != "ner"]
