"""Which argument keys hold credentials the audit log must never keep (list in YAML)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

WITHHELD = {"withheld": "credential"}
_DATA = Path(__file__).with_name("credential_keys.yaml")


@lru_cache(maxsize=1)
def _lists() -> tuple[frozenset[str], frozenset[str]]:
    """(words that mark a key anywhere, whole keys), both with their words joined."""
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    words = frozenset("".join(str(w).lower().split()) for w in data["words"])
    whole = frozenset("".join(str(w).lower().split()) for w in data["whole"])
    return words, whole


def key_words(key: str) -> list[str]:
    """``"X-Api_Key"`` -> ``["x", "api", "key"]``; ``"accessToken"`` -> ``["access", "token"]``."""
    words: list[str] = []
    current: list[str] = []
    previous = ""
    for char in key:
        if not char.isalnum():
            if current:
                words.append("".join(current))
                current = []
        elif char.isupper() and previous.islower() and current:
            words.append("".join(current))
            current = [char]
        else:
            current.append(char)
        previous = char
    if current:
        words.append("".join(current))
    return [w.lower() for w in words]


@lru_cache(maxsize=4096)
def is_credential_key(key: str) -> bool:
    """Whether values under ``key`` are credentials by name, whatever they look like."""
    words, whole = _lists()
    parts = key_words(key)
    if not parts:
        return False
    joined = "".join(parts)
    if joined in whole or joined in words or any(part in words for part in parts):
        return True
    return any(a + b in words for a, b in itertools.pairwise(parts))


def withhold_credentials(value: Any) -> Any:
    """A copy of ``value`` with every credential-named key's value replaced by a marker."""
    if isinstance(value, Mapping):
        return {
            key: WITHHELD if is_credential_key(str(key)) else withhold_credentials(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [withhold_credentials(item) for item in value]
    return value
