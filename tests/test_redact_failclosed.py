"""Redaction fails closed, stays offline, and handles long output in bounded chunks."""

from __future__ import annotations

import itertools
import socket

import pytest
from presidio_analyzer import Pattern, PatternRecognizer, pattern_recognizer

from firewall import Firewall, PolicyError, ToolCall, policy_from_dict, policy_from_yaml
from firewall.redact import redactor as redactor_module
from firewall.redact.engine import AnalyzerBundle, RecognizerTimeoutError, analyzer_for
from firewall.redact.nlp import NerUnavailableError, OfflineNlpEngine
from firewall.redact.redactor import Redactor, chunk_ranges
from firewall.redact.settings import RedactionSettings

RAW = "Contact maria.lopez@example.com, SSN 219-09-9999"


class ExplodingRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="EMAIL_ADDRESS", name="Exploding", patterns=[Pattern("any", "@", 0.5)]
        )

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):  # type: ignore[override]
        raise RuntimeError(f"recognizer broke on {text}")


@pytest.fixture(scope="module")
def fresh_bundle() -> AnalyzerBundle:
    """A bundle of its own (no NER), so the recognizers added here touch no other test."""
    return AnalyzerBundle(ner=False)


def test_a_recognizer_that_raises_withholds_the_output(fresh_bundle: AnalyzerBundle) -> None:
    fresh_bundle.registry.add_recognizer(ExplodingRecognizer())
    try:
        out = Redactor(RedactionSettings(ner=False), bundle=fresh_bundle).redact(RAW, tool="crm")
    finally:
        fresh_bundle.registry.remove_recognizer("Exploding")
    assert out.withheld
    assert "maria.lopez" not in out.output and "219-09-9999" not in out.output
    assert out.output.startswith("[firewall] The output of tool 'crm' was withheld")
    assert out.error == "RuntimeError during redaction"  # the type, never the message


def test_a_regex_timeout_withholds_the_output(
    fresh_bundle: AnalyzerBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Presidio catches the timeout, logs a warning and skips the pattern: that is a failure.
    slow = PatternRecognizer(
        supported_entity="EMAIL_ADDRESS",
        name="Backtracking",
        patterns=[Pattern("catastrophic", r"(.*,){12}X", 0.9)],
    )
    fresh_bundle.registry.add_recognizer(slow)
    monkeypatch.setattr(pattern_recognizer, "REGEX_TIMEOUT_SECONDS", 0.05)
    try:
        text = "a," * 300 + " maria.lopez@example.com"
        with pytest.raises(RecognizerTimeoutError):
            fresh_bundle.analyze(text, {"EMAIL_ADDRESS"})
        out = Redactor(RedactionSettings(ner=False), bundle=fresh_bundle).redact(text)
    finally:
        fresh_bundle.registry.remove_recognizer("Backtracking")
    assert out.withheld and "maria.lopez" not in out.output
    # with the pattern gone, the same text is redacted normally again
    again = Redactor(RedactionSettings(ner=False), bundle=fresh_bundle).redact(text)
    assert not again.withheld and again.entities == {"EMAIL_ADDRESS": 1}


def test_a_missing_ner_model_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NerUnavailableError):
        OfflineNlpEngine("no_such_model_package").load()

    def unavailable(ner: bool) -> AnalyzerBundle:
        raise NerUnavailableError("model not installed")

    monkeypatch.setattr(redactor_module, "analyzer_for", unavailable)
    out = Redactor(RedactionSettings()).redact(RAW)
    assert out.withheld and "maria" not in out.output
    assert out.error == "NerUnavailableError during redaction"


def test_firewall_after_fails_closed_when_recording_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    fw = Firewall(policy_from_dict({"name": "p"}))

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fw, "record_result", broken)
    out = fw.after(ToolCall(name="crm"), RAW, session="s")
    assert out.withheld and "maria" not in out.output


def test_output_above_max_chars_is_withheld_not_passed() -> None:
    settings = RedactionSettings(ner=False, max_chars=1000, oversize="withhold")
    out = Redactor(settings, bundle=analyzer_for(False)).redact("x" * 1001 + RAW)
    assert out.withheld and "maria" not in out.output


def test_a_long_text_shows_its_redacted_head_and_never_its_tail() -> None:
    head = "".join(f"line {i}: mail maria.{i}@example.com\n" for i in range(40))
    text = head + "tail: " + RAW + "\n" + "more\n" * 200
    settings = RedactionSettings(ner=False, max_chars=len(head) + 10)
    out = Redactor(settings, bundle=analyzer_for(False)).redact(text, session="long")
    assert not out.withheld and out.truncated == len(text) - len(head)
    assert "@example.com" not in out.output and "maria" not in out.output
    assert out.output.splitlines()[39] == "line 39: mail <EMAIL_ADDRESS_40>"
    assert out.output.endswith(f"outputs are shown up to {len(head) + 10} characters.")


def test_a_long_structured_output_is_withheld_whole() -> None:
    rows = [{"email": f"maria.{i}@example.com", "note": "x" * 50} for i in range(100)]
    settings = RedactionSettings(ner=False, max_chars=2000)
    out = Redactor(settings, bundle=analyzer_for(False)).redact(rows)
    assert out.withheld and "maria" not in out.output


def test_long_output_is_redacted_in_chunks_everywhere() -> None:
    lines = [f"row {i}: customer{i}@example.com paid with 4111 1111 1111 1111" for i in range(300)]
    text = "\n".join(lines)
    settings = RedactionSettings(ner=False, chunk_chars=1000)
    assert len(chunk_ranges(text, 1000, 2048)) > 10
    out = Redactor(settings, bundle=analyzer_for(False)).redact(text, session="long")
    assert out.entities == {"EMAIL_ADDRESS": 300, "CREDIT_CARD": 300}
    assert "@example.com" not in out.output and "4111" not in out.output
    assert out.output.splitlines()[299] == "row 299: <EMAIL_ADDRESS_300> paid with <CREDIT_CARD_1>"


def test_a_key_block_longer_than_a_chunk_is_never_split() -> None:
    body = "\n".join("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" for _ in range(60))
    key = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"
    text = "start\n" + "filler line\n" * 80 + key + "\nend " + "more filler\n" * 80
    settings = RedactionSettings(ner=False, chunk_chars=600)
    out = Redactor(settings, bundle=analyzer_for(False)).redact(text, session="pem")
    assert "MIIEvQ" not in out.output
    assert out.entities == {"PRIVATE_KEY": 1}


def test_chunks_cover_the_text_with_overlap() -> None:
    text = "word " * 5000
    ranges = chunk_ranges(text, 1000, 200)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert start < end  # overlapping, no gap
        assert end - start >= 200


def test_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    bundle = AnalyzerBundle(ner=True)  # a new engine: loads the model, compiles, warms up
    text = "Mail ann@example.co.uk, bo@uni.ac.jp or cy@startup.io; not dee@nowhere.invalidtld"
    found = [text[r.start : r.end] for r in bundle.analyze(text, {"EMAIL_ADDRESS"})]
    assert found == ["ann@example.co.uk", "bo@uni.ac.jp", "cy@startup.io"]
    assert attempts == []


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("{actions: {EMAIL: mask}}", "redaction.actions"),
        ("{actions: {EMAIL_ADDRESS: shred}}", "redaction.actions.EMAIL_ADDRESS"),
        ("{score_threshold: 1.5}", "redaction.score_threshold"),
        ("{entities: [PERSON, PASSPORT]}", "redaction.entities"),
        ("{ner: false, entities: [PERSON]}", "redaction"),
        ("{exempt: [calculator]}", "redaction.exempt"),
        ("{mask_char: '**'}", "redaction.mask_char"),
    ],
)
def test_bad_redaction_settings_name_the_file_and_field(section: str, field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_yaml(f"name: p\nredaction: {section}\n", source="team.yaml")
    assert caught.value.file == "team.yaml"
    assert caught.value.field == field
    assert caught.value.line == 2
