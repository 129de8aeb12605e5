"""Every entity type the redactor finds: a realistic positive and a look-alike negative.

Runs the real offline Presidio engine with spaCy's small English model (loaded once).
"""

from __future__ import annotations

import pytest

from firewall.redact import KNOWN_ENTITIES, SECRET_ENTITIES
from firewall.redact.engine import analyzer_for
from firewall.redact.redactor import Redactor
from firewall.redact.settings import RedactionSettings


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(RedactionSettings(entities=["all"]), bundle=analyzer_for(True))


def found(redactor: Redactor, text: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for finding in redactor.find(text):
        result.setdefault(finding.entity_type, []).append(text[finding.start : finding.end])
    return result


# entity: (text with one, the value itself, a look-alike that is not one)
PII = {
    "CREDIT_CARD": (
        "Card: 4111 1111 1111 1111",
        "4111 1111 1111 1111",
        "Card: 4111 1111 1111 1112",
    ),
    "CRYPTO": (
        "wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
        "wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyX",
    ),
    "DATE_TIME": ("We met on 17 May 1990 in the lobby.", "17 May 1990", "The build passed."),
    "DATE_OF_BIRTH": ("DOB: 1990-05-17, verified", "1990-05-17", "Deployed: 1990-05-17"),
    "EMAIL_ADDRESS": (
        "Write to jane.doe@example.org soon",
        "jane.doe@example.org",
        "Write to jane.doe@localhost soon",
    ),
    "IBAN_CODE": (
        "IBAN GB82 WEST 1234 5698 7654 32",
        "GB82 WEST 1234 5698 7654 32",
        "IBAN GB82 WEST 1234 5698 7654 33",
    ),
    "IP_ADDRESS": (
        "client 192.168.10.25 connected",
        "192.168.10.25",
        "client 999.300.1.1 connected",
    ),
    "MAC_ADDRESS": ("iface 00:1A:2B:3C:4D:5E up", "00:1A:2B:3C:4D:5E", "iface 00:1A:2B up"),
    "MEDICAL_LICENSE": ("DEA number AB1234563", "AB1234563", "DEA number AB1234567"),
    "PHONE_NUMBER": ("call me at (212) 555-0143", "(212) 555-0143", "order 12345 shipped"),
    "UK_NHS": ("NHS number 943 476 5919", "943 476 5919", "NHS number 943 476 5918"),
    "URL": (
        "see https://intranet.example.com/wiki",
        "https://intranet.example.com/wiki",
        "see the wiki",
    ),
    "US_BANK_NUMBER": (
        "bank account number 123456789012",
        "123456789012",
        "reference 12345678901234567",
    ),
    "US_DRIVER_LICENSE": ("driver license number D1234567", "D1234567", "version D1234567"),
    "US_ITIN": ("ITIN 912-70-1234", "912-70-1234", "ITIN 812-70-1234"),
    "US_PASSPORT": ("passport number 912803456", "912803456", "invoice number 912803456"),
    "US_SSN": ("SSN 219-09-9999", "219-09-9999", "SSN 000-12-3456"),
    "UUID": (
        "id 123e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426614174000",
        "id 123e4567-e89b",
    ),
    "PERSON": ("Alice Johnson approved the refund.", "Alice Johnson", "The refund was approved."),
    "LOCATION": ("She moved to Berlin in spring.", "Berlin", "She moved to a new team."),
    "NRP": ("The customer is French.", "French", "The customer is happy."),
}

# entity: (real-looking secret in context, the secret, look-alikes that must not match)
SECRETS = {
    "AWS_ACCESS_KEY": (
        "aws_access_key_id = AKIAZ7VQ3M2KXPLR4T6Y",
        "AKIAZ7VQ3M2KXPLR4T6Y",
        ["id AKIAZ7VQ3M2KXPLR4T6", "XAKIAZ7VQ3M2KXPLR4T6Y9", "AKIAz7vq3m2kxplr4t6y"],
    ),
    "GCP_API_KEY": (
        "key=AIzaSyB3x9Qk2L7mN4pR8sT1vW6yZ0aC5dE7fG2",
        "AIzaSyB3x9Qk2L7mN4pR8sT1vW6yZ0aC5dE7fG2",
        ["AIzaSyB3x9Qk2L7mN4p", "AIzbSyB3x9Qk2L7mN4pR8sT1vW6yZ0aC5dE7fG2"],
    ),
    "AZURE_KEY": (
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey="
        "q3Vx8mZk1L0pR7sT2uW9yA4bC6dE8fG0hJ2kL4mN6pQ8rS0tU2vW4xY6zA8bC0dE2fG4hJ6kL8mN0pQ2rS4tU6w==;",
        "q3Vx8mZk1L0pR7sT2uW9yA4bC6dE8fG0hJ2kL4mN6pQ8rS0tU2vW4xY6zA8bC0dE2fG4hJ6kL8mN0pQ2rS4tU6w==",
        ["AccountName=acme;AccountKey=short;", "the account key is rotated monthly"],
    ),
    "GITHUB_TOKEN": (
        "GITHUB_TOKEN ghp_R4nd0mT0k3nV4lu3Xy9Zq8Wp7Vo6Un5Tm4Sl3K",
        "ghp_R4nd0mT0k3nV4lu3Xy9Zq8Wp7Vo6Un5Tm4Sl3K",
        ["ghp_short123", "ghx_R4nd0mT0k3nV4lu3Xy9Zq8Wp7Vo6Un5Tm4Sl3K"],
    ),
    "GITLAB_TOKEN": (
        "token: glpat-xY7zQ2wE9rT4uI1oP6aS",
        "glpat-xY7zQ2wE9rT4uI1oP6aS",
        ["glpat-short", "see the glpat- prefix docs"],
    ),
    "SLACK_TOKEN": (
        "SLACK_BOT=xoxb-2481357911-1357924680-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-2481357911-1357924680-AbCdEfGhIjKlMnOpQrStUvWx",
        ["xoxb-", "the xoxo gossip girl"],
    ),
    "STRIPE_KEY": (
        "stripe: sk_live_51HqLyjWDarjtT1zdp7dcXxU2lDpM3AvL",
        "sk_live_51HqLyjWDarjtT1zdp7dcXxU2lDpM3AvL",
        ["pk_live_51HqLyjWDarjtT1zdp7dcXxU2lDpM3AvL", "sk_live_short"],
    ),
    "OPENAI_API_KEY": (
        "OPENAI_API_KEY sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk7Mn9",
        "sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk7Mn9",
        ["task-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df3Gh5Jk7Mn9x", "sk-learn is a library"],
    ),
    "JWT": (
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ["eyJhbGciOiJIUzI1NiJ9", "a.b.c"],
    ),
    "PRIVATE_KEY": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAz3kq9Xn0r8fLq\nbW5hbGxvd29ybGQ=\n"
        "-----END RSA PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAz3kq9Xn0r8fLq\nbW5hbGxvd29ybGQ=\n"
        "-----END RSA PRIVATE KEY-----",
        [
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
            "-----END PUBLIC KEY-----"
        ],
    ),
    "PASSWORD": (
        'db_password = "Tr0ub4dor&3x"',
        "Tr0ub4dor&3x",
        ["passenger: Margaret", "bypass = enabled", "password: null", "password: ********"],
    ),
    "SECRET": (
        "client_secret: 9f86d081884c7d659a2feaa0c55ad015",
        "9f86d081884c7d659a2feaa0c55ad015",
        ["max_tokens: 1000", "tokenizer: wordpiece", "keyboard: qwerty"],
    ),
    "CONNECTION_STRING": (
        "DATABASE_URL=postgresql://app_user:S3cretPass@db.internal:5432/orders",
        "postgresql://app_user:S3cretPass@db.internal",
        ["postgresql://db.internal:5432/orders", "https://example.com/a:b@c"],
    ),
}


def test_every_known_entity_is_covered_here() -> None:
    assert set(PII) | set(SECRETS) == KNOWN_ENTITIES
    assert set(SECRETS) == set(SECRET_ENTITIES)


def test_the_engine_supports_every_known_entity() -> None:
    assert analyzer_for(True).supported >= KNOWN_ENTITIES


@pytest.mark.parametrize("entity", sorted(PII))
def test_pii_positive(redactor: Redactor, entity: str) -> None:
    text, value, _ = PII[entity]
    assert value in found(redactor, text).get(entity, [])


@pytest.mark.parametrize("entity", sorted(PII))
def test_pii_look_alike_is_not_that_entity(redactor: Redactor, entity: str) -> None:
    _, _, negative = PII[entity]
    assert entity not in found(redactor, negative)


@pytest.mark.parametrize("entity", sorted(SECRETS))
def test_secret_positive(redactor: Redactor, entity: str) -> None:
    text, value, _ = SECRETS[entity]
    assert value in found(redactor, text).get(entity, [])


@pytest.mark.parametrize(
    ("entity", "negative"),
    [
        (entity, negative)
        for entity, (_, _, negatives) in sorted(SECRETS.items())
        for negative in negatives
    ],
)
def test_secret_look_alike_is_not_that_secret(
    redactor: Redactor, entity: str, negative: str
) -> None:
    assert entity not in found(redactor, negative)


@pytest.mark.parametrize("entity", sorted(SECRETS))
def test_secret_never_reaches_the_model(redactor: Redactor, entity: str) -> None:
    text, value, _ = SECRETS[entity]
    out = redactor.redact(f"log line: {text}\nend", session="entities")
    assert value not in out.output
    assert "secret" in out.labels


def test_a_password_in_a_quoted_value_with_spaces(redactor: Redactor) -> None:
    assert found(redactor, '{"password": "correct horse battery"}')["PASSWORD"] == [
        "correct horse battery"
    ]


@pytest.mark.parametrize(
    ("header", "credential"),
    [
        (
            "Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543",
            "8f14e45fceea167a5a36dedd4bea2543",
        ),
        ("authorization: basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbjpvcGVuc2VzYW1l"),
    ],
)
def test_http_credentials(redactor: Redactor, header: str, credential: str) -> None:
    assert credential in found(redactor, header)["SECRET"]
    assert "SECRET" not in found(redactor, "a basic question about bearer bonds")


def test_a_private_key_cut_by_the_end_of_the_output_is_still_found(redactor: Redactor) -> None:
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    assert found(redactor, text)["PRIVATE_KEY"]


def test_entity_settings_limit_what_is_found() -> None:
    only_email = Redactor(RedactionSettings(entities=["EMAIL_ADDRESS"]), bundle=analyzer_for(True))
    out = only_email.redact("Alice Johnson <alice@example.org> SSN 219-09-9999")
    assert out.entities == {"EMAIL_ADDRESS": 1}
    assert "Alice Johnson" in out.output and "219-09-9999" in out.output


def test_without_ner_patterns_still_work() -> None:
    plain = Redactor(RedactionSettings(ner=False), bundle=analyzer_for(False))
    out = plain.redact("Alice Johnson, alice@example.org, card 4111 1111 1111 1111")
    assert "alice@example.org" not in out.output
    assert "4111 1111 1111 1111" not in out.output
    assert "PERSON" not in out.entities


@pytest.mark.parametrize(
    "address", ["jane.doe@corp.test", "ops@billing.internal", "kofi@shop.example", "a.b@intra.corp"]
)
def test_email_on_private_top_level_names_is_found(redactor: Redactor, address: str) -> None:
    out = redactor.redact(f"queued message to {address}", session="s-private", tool="t")
    assert out.entities.get("EMAIL_ADDRESS") == 1
    assert address not in out.output
