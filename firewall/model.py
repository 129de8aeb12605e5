"""The firewall's vocabulary: tool calls, principals, intents, decisions.

Everything a stage hands to the next is one of these types, so adapters, policies and
the audit log all speak the same language.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

_M = TypeVar("_M", bound=BaseModel)


class Intent(StrEnum):
    """What a tool call would do, as a dotted taxonomy.

    A rule naming a prefix (``schema``) matches every intent below it (``schema.drop``).
    """

    DATA_READ = "data.read"
    DATA_WRITE = "data.write"
    DATA_DELETE = "data.delete"
    DATA_TRUNCATE = "data.truncate"
    DATA_EXPORT = "data.export"
    SCHEMA_CREATE = "schema.create"
    SCHEMA_ALTER = "schema.alter"
    SCHEMA_DROP = "schema.drop"
    PRIVILEGE_GRANT = "privilege.grant"
    PRIVILEGE_REVOKE = "privilege.revoke"
    CODE_EXECUTE = "code.execute"
    FILE_READ = "file.read"
    FILE_WRITE = "file.write"
    FILE_DELETE = "file.delete"
    NETWORK_EGRESS = "network.egress"
    MESSAGE_SEND = "message.send"
    PAYMENT_SEND = "payment.send"
    UNKNOWN = "unknown"


#: Every name a policy may use to select intents: the intents and their prefixes.
INTENT_PATTERNS: frozenset[str] = frozenset(
    {i.value for i in Intent} | {i.value.split(".")[0] for i in Intent} | {"*"}
)


def intent_matches(pattern: str, intent: str) -> bool:
    """True when ``pattern`` (an intent, a prefix like ``schema``, or ``*``) covers ``intent``."""
    if pattern == "*" or pattern == intent:
        return True
    return intent.startswith(pattern) and intent[len(pattern) : len(pattern) + 1] == "."


class Verdict(IntEnum):
    """A decision's outcome. Ordered by severity: the most severe matching rule wins."""

    ALLOW = 0
    REQUIRE_APPROVAL = 1
    DENY = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Verdict:
        return cls[text.strip().upper()]

    def __str__(self) -> str:
        return self.label


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept. Used for hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class ToolCall(BaseModel):
    """One tool call the model proposed.

    ``raw_arguments`` keeps the model's text when it was not valid JSON; ``arguments`` is
    then empty and the call is classified ``unknown``.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    raw_arguments: str | None = None

    @classmethod
    def from_json(cls, name: str, text: str, id: str | None = None) -> ToolCall:
        """Build a call from the argument text a model sent; invalid JSON is kept raw."""
        try:
            parsed = json.loads(text) if text.strip() else {}
        except (ValueError, TypeError):
            return cls(name=name, id=id, raw_arguments=text)
        if not isinstance(parsed, dict):
            return cls(name=name, id=id, raw_arguments=text)
        return cls(name=name, id=id, arguments=parsed)

    @property
    def arguments_valid(self) -> bool:
        return self.raw_arguments is None

    def fingerprint(self) -> str:
        """SHA-256 of the tool name and canonical arguments: what an approval is bound to."""
        body = {"name": self.name, "arguments": self.arguments, "raw": self.raw_arguments}
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()


class Principal(BaseModel):
    """Who asks: the agent, the human behind it, or a service."""

    model_config = ConfigDict(frozen=True)

    id: str = "anonymous"
    kind: Literal["human", "agent", "service"] = "agent"
    roles: tuple[str, ...] = ()
    attributes: dict[str, Any] = Field(default_factory=dict)


ANONYMOUS = Principal()


class Classification(BaseModel):
    """What one classifier found in one argument: intents plus facts rules can read."""

    model_config = ConfigDict(frozen=True)

    intents: frozenset[str] = frozenset()
    facts: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def unknown(cls, why: str, **facts: Any) -> Classification:
        return cls(intents=frozenset({Intent.UNKNOWN.value}), facts={"error": why, **facts})


class Reason(BaseModel):
    """Why a verdict was reached: one matching rule, an approval, or a failure."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    verdict: Verdict
    message: str = ""
    matched: dict[str, Any] = Field(default_factory=dict)
    monitor_only: bool = False


class Decision(BaseModel):
    """The firewall's answer for one call, with everything needed to explain it later."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    intents: tuple[str, ...] = ()
    facts: dict[str, Any] = Field(default_factory=dict)
    tool: str = ""
    call_id: str | None = None
    call_hash: str = ""
    policy: str = ""
    policy_version: str = ""
    mode: Literal["enforce", "monitor"] = "enforce"
    #: What the policy decided before monitor mode or an approval changed it.
    policy_verdict: Verdict = Verdict.ALLOW
    approved_by: str | None = None
    errors: tuple[str, ...] = ()
    session: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    #: Milliseconds from the call reaching the firewall to its decision (approval included).
    elapsed_ms: float = 0.0
    #: The arguments the tool must really be called with, when placeholders the model wrote
    #: were restored to real values (``None``: call it with the model's own arguments).
    #: They hold PII, so they are never serialised, printed or recorded.
    arguments: dict[str, Any] | None = Field(default=None, exclude=True, repr=False)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW

    def arguments_for(self, call: ToolCall) -> dict[str, Any]:
        """What to run ``call`` with: the restored arguments if any, else its own."""
        return self.arguments if self.arguments is not None else call.arguments

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule_id for r in self.reasons]

    def message_for_model(self) -> str:
        """The text a blocked model sees: the messages of the rules that blocked it."""
        if self.allowed:
            return ""
        blocking = [r.message for r in self.reasons if r.verdict >= self.verdict and r.message]
        head = "denied" if self.verdict is Verdict.DENY else "needs human approval"
        detail = "; ".join(dict.fromkeys(blocking)) or "no rule allows this call"
        return f"Tool call '{self.tool}' {head} by the firewall: {detail}"

    def _repr_html_(self) -> str:
        from firewall.view.html import decision_html

        return decision_html(self)


def trusted(cls: type[_M], **values: Any) -> _M:
    """Build a model from values the engine itself produced, skipping validation.

    ``check()`` builds a Decision and its Reasons on every tool call; validating data we
    just computed would cost more than the rest of the decision. Every field must be given.
    """
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def expand_intent_patterns(patterns: Iterable[str]) -> frozenset[str]:
    """Every intent of the taxonomy that one of ``patterns`` covers."""
    return frozenset(i.value for i in Intent if any(intent_matches(p, i.value) for p in patterns))
