"""The offline engine's shortcuts give the results stock Presidio would give."""

from __future__ import annotations

import pytest
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from firewall.redact.builtin import IndexedContextEnhancer, WindowedPhoneRecognizer, not_a_phone
from firewall.redact.engine import analyzer_for
from firewall.redact.nlp import ner_regions

TEXT = (
    "Call +1 (415) 555-0199 ext. 12 or 020 7946 0958 today.\n"
    "---\n"
    "Order 55 of 2024-03-02, ref 4111 1111 1111 1111; fax: 0049 30 901820.\n"
    "  \n"
    "we are proud fijians, said Ana Pérez in Suva."
)


@pytest.mark.parametrize("ner", [True, False])
def test_token_lookup_matches_presidio_at_every_offset(ner: bool) -> None:
    artifacts = analyzer_for(True).nlp.analyze_text(TEXT, ner=ner)
    doc, indices = artifacts.tokens, artifacts.tokens_indices
    for start in range(len(TEXT)):
        expected = LemmaContextAwareEnhancer._find_index_of_match_token("w", start, doc, indices)
        assert (
            IndexedContextEnhancer._find_index_of_match_token("w", start, doc, indices) == expected
        )


def test_context_words_score_as_presidio_scores_them() -> None:
    bundle = analyzer_for(False)
    text = "SSN 219099999, driver license D1234567, call 555 0143, passport 912803456 " * 3
    artifacts = bundle.nlp.analyze_text(text, ner=False)
    raw = [
        r
        for recognizer in bundle.recognizers()
        if recognizer.supported_entities[0] in {"US_SSN", "US_DRIVER_LICENSE", "US_PASSPORT"}
        for r in recognizer.analyze(text, recognizer.supported_entities, artifacts)
    ]
    assert raw
    ours = IndexedContextEnhancer().enhance_using_context(
        text, raw, artifacts, bundle.recognizers()
    )
    stock = LemmaContextAwareEnhancer().enhance_using_context(
        text, raw, artifacts, bundle.recognizers()
    )
    assert [(r.entity_type, r.start, r.score) for r in ours] == [
        (r.entity_type, r.start, r.score) for r in stock
    ]
    assert any(r.score > 0.5 for r in ours)  # the context words did raise scores


def test_windowed_phone_recognizer_finds_what_presidio_finds() -> None:
    def spans(recognizer: PhoneRecognizer) -> set[tuple[int, int]]:
        return {(r.start, r.end) for r in recognizer.analyze(TEXT, ["PHONE_NUMBER"])}

    assert spans(WindowedPhoneRecognizer()) == spans(PhoneRecognizer())
    assert (5, 30) in spans(WindowedPhoneRecognizer())  # with its extension


@pytest.mark.parametrize(
    "text",
    [
        "2018-01-15T02:47:40.002131 INFO ok 1737989360 took 3639.05 ms from 10.2.33.4",
        "Tel. +49 30 901820, mobile 0151 23456789 or (0161) 496 0066; 555-0143 x12",
        "amount=3639.05 created=1737989360 order 4111 1111 1111 1111 phone 020 7946 0958",
    ],
)
def test_windowed_phone_recognizer_drops_only_what_is_no_phone(text: str) -> None:
    stock = {(r.start, r.end) for r in PhoneRecognizer().analyze(text, ["PHONE_NUMBER"])}
    ours = {(r.start, r.end) for r in WindowedPhoneRecognizer().analyze(text, ["PHONE_NUMBER"])}
    assert ours == {(s, e) for s, e in stock if not not_a_phone(text, s, e)}


def test_a_time_or_a_decimal_is_no_phone() -> None:
    text = "at 02:47:40.002131 paid 3639.05, host 192.168.10.25, born 1990-05-17"
    assert WindowedPhoneRecognizer().analyze(text, ["PHONE_NUMBER"]) == []


def test_ner_reads_every_line_with_a_letter_or_digit() -> None:
    read = "".join(TEXT[s:e] for s, e in ner_regions(TEXT))
    assert read == TEXT.replace("---\n", "").replace("  \n", "")


def test_entities_of_the_joined_document_sit_at_their_offsets() -> None:
    artifacts = analyzer_for(True).nlp.analyze_text(TEXT, ner=True)
    tokens = zip(artifacts.tokens, artifacts.tokens_indices, strict=True)
    assert all(TEXT[i : i + len(t)] == t for t, i in tokens)
    found = {(TEXT[e.start_char : e.end_char], e.label_) for e in artifacts.entities}
    assert ("Ana Pérez", "PERSON") in found
    assert ("Suva", "LOCATION") in found


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("plain words only", set()),
        ("mail a@b.co", {"EMAIL_ADDRESS"}),
        ("key AKIAZ7VQ3M2KXPLR4T6Y", {"AWS_ACCESS_KEY", "CREDIT_CARD", "PHONE_NUMBER"}),
    ],
)
def test_prescan_skips_only_recognizers_that_cannot_match(text: str, possible: set[str]) -> None:
    wanted = {"EMAIL_ADDRESS", "AWS_ACCESS_KEY", "CREDIT_CARD", "PHONE_NUMBER", "GITHUB_TOKEN"}
    assert analyzer_for(True).possible_entities(text, wanted) == possible
