"""A small seeded run of the benchmark's tool-output generator: nothing that leaked before
may leak again. The benchmark (``benchmarks/bench_redact.py``) scores fresh seeds; this
keeps one fixed seed as a regression check."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from benchmarks.toolgen import ToolOutputFaker
from firewall.policy import load_policy
from firewall.redact.engine import analyzer_for
from firewall.redact.redactor import Redactor

POLICY = "policies/default.yaml"


@pytest.fixture(scope="module")
def leaks() -> tuple[Counter[str], Counter[str]]:
    from pathlib import Path

    settings = load_policy(Path(__file__).resolve().parent.parent / POLICY).redaction
    redactor = Redactor(settings, bundle=analyzer_for(True))
    labelled: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    for index, doc in enumerate(ToolOutputFaker(20261130).generate(60)):
        out = redactor.redact(doc.text, session=f"doc-{index}")
        shown = out.output if isinstance(out.output, str) else json.dumps(out.output)
        for entity, value, _ in doc.labels:
            labelled[entity] += 1
            leaked[entity] += value in shown
    return labelled, leaked


@pytest.mark.parametrize(
    "entity",
    [
        "SECRET",
        "EMAIL_ADDRESS",
        "CREDIT_CARD",
        "US_SSN",
        "IBAN_CODE",
        "IP_ADDRESS",
        "DATE_OF_BIRTH",
    ],
)
def test_no_value_found_by_pattern_or_field_name_leaks(leaks, entity: str) -> None:
    labelled, leaked = leaks
    assert labelled[entity] > 0
    assert leaked[entity] == 0


@pytest.mark.parametrize(
    ("entity", "share"), [("PERSON", 0.08), ("LOCATION", 0.15), ("PHONE_NUMBER", 0.05)]
)
def test_few_names_places_and_phones_leak(leaks, entity: str, share: float) -> None:
    labelled, leaked = leaks
    assert labelled[entity] > 10
    assert leaked[entity] / labelled[entity] <= share
