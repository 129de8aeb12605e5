"""Redaction of PII and secrets from tool output before the model sees it.

Light names (settings, vaults) import directly; the Presidio-backed ones (``Redactor``,
``RedactedOutput``, ``analyzer_for``) load spaCy and Presidio on first access, so loading
a policy stays fast.
"""

from __future__ import annotations

from typing import Any

from firewall.redact.entities import KNOWN_ENTITIES, NER_ENTITIES, SECRET_ENTITIES, is_secret
from firewall.redact.settings import DEFAULT_ENTITIES, RedactionSettings
from firewall.redact.vault import Restoration, SessionVault, VaultStore, restore, scrub

_LAZY = {
    "Redactor": "firewall.redact.redactor",
    "RedactedOutput": "firewall.redact.redactor",
    "withheld_notice": "firewall.redact.redactor",
    "analyzer_for": "firewall.redact.engine",
    "AnalyzerBundle": "firewall.redact.engine",
    "RecognizerTimeoutError": "firewall.redact.engine",
}

__all__ = [
    "DEFAULT_ENTITIES",
    "KNOWN_ENTITIES",
    "NER_ENTITIES",
    "SECRET_ENTITIES",
    "AnalyzerBundle",
    "RecognizerTimeoutError",
    "RedactedOutput",
    "RedactionSettings",
    "Redactor",
    "Restoration",
    "SessionVault",
    "VaultStore",
    "analyzer_for",
    "is_secret",
    "restore",
    "scrub",
    "withheld_notice",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'firewall.redact' has no attribute '{name}'")
    import importlib

    return getattr(importlib.import_module(module), name)
