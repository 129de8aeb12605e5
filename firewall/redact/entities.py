"""Entity names the redactor knows, kept free of heavy imports so policies load fast."""

from __future__ import annotations

#: Entities that come from the NER model rather than from patterns.
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP", "DATE_TIME"})

#: PII Presidio finds with patterns (checksums, formats, context words).
PATTERN_PII_ENTITIES = (
    "CREDIT_CARD",
    "CRYPTO",
    "DATE_OF_BIRTH",
    "DATE_TIME",
    "EMAIL_ADDRESS",
    "IBAN_CODE",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "MEDICAL_LICENSE",
    "PHONE_NUMBER",
    "UK_NHS",
    "URL",
    "US_BANK_NUMBER",
    "US_DRIVER_LICENSE",
    "US_ITIN",
    "US_PASSPORT",
    "US_SSN",
    "UUID",
)

#: Credentials, found by ``firewall.redact.secrets``.
SECRET_ENTITIES = (
    "AWS_ACCESS_KEY",
    "GCP_API_KEY",
    "AZURE_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "STRIPE_KEY",
    "OPENAI_API_KEY",
    "JWT",
    "PRIVATE_KEY",
    "PASSWORD",
    "SECRET",
    "CONNECTION_STRING",
)

#: Every entity a policy may name.
KNOWN_ENTITIES: frozenset[str] = frozenset((*PATTERN_PII_ENTITIES, *NER_ENTITIES, *SECRET_ENTITIES))


def is_secret(entity: str) -> bool:
    """Secrets get the ``secret`` label; every other entity is ``pii``."""
    return entity in SECRET_ENTITIES
