"""Policy files: YAML -> validated model -> compiled rules ready for the engine.

A policy declares its tools (which classifier reads which argument, or which intents a
tool has) and its rules (match + optional CEL condition + verdict). Loading catches every
mistake up front and names the file, the rule, the field and the line.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from firewall import intent as classifiers
from firewall.conditions import (
    ENGINE_FACTS,
    Condition,
    ConditionError,
    compile_condition,
    flow_arguments,
)
from firewall.errors import PolicyError
from firewall.facttypes import check_fact_comparisons
from firewall.fieldlabels import FieldLabels
from firewall.model import (
    INTENT_PATTERNS,
    Intent,
    Principal,
    Verdict,
    expand_intent_patterns,
)
from firewall.redact.settings import RedactionSettings
from firewall.yamlsource import YamlDocument, parse_yaml

VerdictName = Literal["allow", "deny", "require_approval"]
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | dict) else value


def _check_intent_names(values: list[str], *, allow_prefixes: bool) -> list[str]:
    valid = INTENT_PATTERNS if allow_prefixes else {i.value for i in Intent}
    for value in values:
        if value not in valid:
            kind = "intent or intent prefix" if allow_prefixes else "intent"
            raise ValueError(f"unknown {kind} '{value}' (known: {', '.join(sorted(valid))})")
    return values


class ClassifySpec(BaseModel):
    """``{classifier: sql, argument: query, dialect: postgres}``: extra keys are options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    classifier: str
    argument: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EndorseSpec(_Spec):
    """``endorse: {argument: path}``: a result is ``user_named`` when the user named it."""

    argument: str
    label: str = "user_named"


class ToolSpec(_Spec):
    description: str = ""
    classify: list[ClassifySpec] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    #: Labels the outputs of this tool carry (e.g. ``untrusted`` for web pages, mail):
    #: a list for the whole output, or ``{label: [field patterns]}`` per field (see
    #: ``firewall.fieldlabels``).
    output_labels: list[str] | dict[str, list[str]] = Field(default_factory=list)
    #: Arguments holding message recipients (``[to, cc, bcc]``): each address is checked.
    recipients: list[str] = Field(default_factory=list)
    #: The result of a call whose ``argument`` came from the user gets ``label``.
    endorse: EndorseSpec | None = None
    #: The tool's arguments, when known: ``policy lint`` warns on rules reading others.
    arguments: list[str] | None = None

    _list_classify = field_validator("classify", mode="before")(_as_list)
    _list_intents = field_validator("intents", "recipients", mode="before")(_as_list)

    @field_validator("output_labels", mode="before")
    @classmethod
    def _labels_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return [value] if isinstance(value, str) else value

    @field_validator("intents")
    @classmethod
    def _known_intents(cls, value: list[str]) -> list[str]:
        return _check_intent_names(value, allow_prefixes=False)


class PrincipalMatch(_Spec):
    ids: list[str] = Field(default_factory=list)
    kinds: list[Literal["human", "agent", "service"]] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)

    _lists = field_validator("ids", "kinds", "roles", mode="before")(_as_list)


class RuleMatch(_Spec):
    tools: list[str] = Field(default_factory=list)
    #: Any of the call's intents is one of these.
    intents: list[str] = Field(default_factory=list)
    #: Every one of the call's intents is one of these (a call with no intents has no
    #: effect and fits): what an allow rule wants, so that "reads are fine" never lets a
    #: read-and-delete through.
    only_intents: list[str] = Field(default_factory=list)
    principals: PrincipalMatch | None = None
    #: Say so explicitly when a rule is meant to fit every call.
    all_calls: bool = False

    _lists = field_validator("tools", "intents", "only_intents", mode="before")(_as_list)

    @field_validator("intents", "only_intents")
    @classmethod
    def _known_intents(cls, value: list[str]) -> list[str]:
        return _check_intent_names(value, allow_prefixes=True)


class RuleSpec(_Spec):
    id: str
    description: str = ""
    match: RuleMatch = Field(default_factory=RuleMatch)
    when: str | None = None
    verdict: VerdictName
    message: str = ""
    mode: Literal["enforce", "monitor"] = "enforce"

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _RULE_ID.match(value):
            raise ValueError(
                "rule ids use letters, digits and _ . : - and start with one of the first two"
            )
        return value


class TestCall(_Spec):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class PrincipalSpec(_Spec):
    id: str = "anonymous"
    kind: Literal["human", "agent", "service"] = "agent"
    roles: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)

    def to_principal(self) -> Principal:
        return Principal(
            id=self.id, kind=self.kind, roles=tuple(self.roles), attributes=self.attributes
        )


class TestResult(_Spec):
    tool: str
    #: The arguments of the call that produced the output (``endorse`` reads them).
    arguments: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    labels: list[str] = Field(default_factory=list)


class HistoryItem(_Spec):
    """One earlier event of a test's session: ``{user: text}``, ``{assistant: text}`` or
    ``{result: {tool, output, labels}}`` (the tool's ``output_labels`` are added)."""

    user: str | None = None
    assistant: str | None = None
    result: TestResult | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> HistoryItem:
        if sum(x is not None for x in (self.user, self.assistant, self.result)) != 1:
            raise ValueError("a history item is exactly one of user, assistant or result")
        return self

    def replay_into(self, firewall: Any, session: str) -> None:
        """Feed this event to ``firewall``'s graph of ``session``."""
        if self.result is not None:
            from firewall.model import ToolCall

            call = ToolCall(name=self.result.tool, arguments=self.result.arguments)
            firewall.record_result(
                call, self.result.output, session=session, labels=self.result.labels
            )
        else:
            role = "user" if self.user is not None else "assistant"
            firewall.record_message(
                session, role, self.user if self.user is not None else self.assistant
            )


class PolicyTestSpec(_Spec):
    name: str | None = None
    #: Earlier events of the session (messages, tool results) the ``flow`` of the call sees.
    history: list[HistoryItem] = Field(default_factory=list)
    call: TestCall
    principal: PrincipalSpec = Field(default_factory=PrincipalSpec)
    context: dict[str, Any] = Field(default_factory=dict)
    expect: VerdictName
    expect_rules: list[str] | None = None


class PolicySpec(_Spec):
    name: str
    version: str = "0"
    description: str = ""
    mode: Literal["enforce", "monitor"] = "enforce"
    default: VerdictName = "deny"
    include: list[str] = Field(default_factory=list)
    tools: dict[str, ToolSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)
    tests: list[PolicyTestSpec] = Field(default_factory=list)
    #: What is redacted from tool output before the model sees it (see firewall.redact).
    redaction: RedactionSettings = Field(default_factory=RedactionSettings)

    _list_include = field_validator("include", mode="before")(_as_list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class ToolBinding:
    """One argument of a tool and the classifier that reads it."""

    classifier: classifiers.Classifier
    argument: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class CompiledTool:
    name: str
    declared_intents: frozenset[str]
    bindings: tuple[ToolBinding, ...]
    #: Every label the tool's outputs can carry; ``field_labels`` says which part gets which.
    output_labels: frozenset[str]
    field_labels: FieldLabels = field(default_factory=FieldLabels)
    recipients: tuple[str, ...] = ()
    endorse: EndorseSpec | None = None
    arguments: frozenset[str] | None = None

    def known_arguments(self) -> frozenset[str] | None:
        """The arguments the declaration names, when it lists them (else ``None``)."""
        if self.arguments is None:
            return None
        named = set(self.arguments) | set(self.recipients) | {b.argument for b in self.bindings}
        if self.endorse is not None:
            named.add(self.endorse.argument)
        return frozenset(named)


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to evaluate: static match parts plus an optional compiled condition."""

    id: str
    verdict: Verdict
    message: str
    description: str
    tool_patterns: tuple[str, ...]
    intent_patterns: tuple[str, ...]
    principals: PrincipalMatch | None
    condition: Condition | None
    monitor_only: bool
    source: str
    #: The taxonomy intents ``intent_patterns`` cover, so matching is one set test.
    covered_intents: frozenset[str] = frozenset()
    #: The intents ``only_intents`` allows; ``None`` when the rule does not say.
    only_intents: frozenset[str] | None = None

    def matches_tool(self, tool: str) -> bool:
        return not self.tool_patterns or any(
            fnmatch.fnmatchcase(tool, pattern) for pattern in self.tool_patterns
        )

    def static_mismatch(self, intents: tuple[str, ...], principal: Principal) -> str | None:
        """Why the intents or principal do not match (``None`` when they do)."""
        if self.intent_patterns and self.covered_intents.isdisjoint(intents):
            return "intents"
        if self.only_intents is not None and not self.only_intents.issuperset(intents):
            return "only intents"
        match = self.principals
        if match is not None:
            if match.ids and principal.id not in match.ids:
                return "principal id"
            if match.kinds and principal.kind not in match.kinds:
                return "principal kind"
            if match.roles and not set(match.roles).intersection(principal.roles):
                return "principal roles"
        return None


@dataclass(frozen=True)
class Policy:
    """A loaded, compiled policy. Immutable: load a new one to change it."""

    name: str
    version: str
    mode: Literal["enforce", "monitor"]
    default: Verdict
    tools: Mapping[str, CompiledTool]
    rules: tuple[CompiledRule, ...]
    tests: tuple[PolicyTestSpec, ...]
    source: str
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    #: Problems that do not stop loading (``policy lint`` prints them).
    warnings: tuple[str, ...] = ()

    def tool(self, name: str) -> CompiledTool | None:
        """The declaration for tool ``name``: an exact name first, then glob patterns."""
        found = self.tools.get(name)
        if found is not None:
            return found
        for pattern, tool in self.tools.items():
            if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(name, pattern):
                return tool
        return None


def load_policy(path: str | Path) -> Policy:
    """Load and compile a policy file (and the files it includes)."""
    return _PolicyLoader().load(Path(path))


def policy_from_yaml(text: str, source: str = "<string>", base_dir: str | Path = ".") -> Policy:
    """Compile a policy given as YAML text (includes resolve against ``base_dir``)."""
    doc = parse_yaml(text, source)
    return _PolicyLoader().compile_document(doc, source, Path(base_dir))


def policy_from_dict(data: Mapping[str, Any], source: str = "<dict>") -> Policy:
    """Compile a policy given as a Python mapping."""
    return _PolicyLoader().compile_document(YamlDocument(data=dict(data)), source, Path("."))


def policy_json_schema() -> dict[str, Any]:
    """JSON Schema of the policy file, for editors."""
    schema = PolicySpec.model_json_schema()
    schema["title"] = "Tool-call firewall policy"
    return schema


class _PolicyLoader:
    """Loads a policy and its includes, detecting include cycles."""

    def __init__(self) -> None:
        self._stack: list[Path] = []

    def load(self, path: Path) -> Policy:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy: {exc.strerror or exc}", file=source) from None
        except UnicodeDecodeError as exc:
            raise PolicyError(
                f"not a policy: byte {exc.start} is not UTF-8 text (a binary file?)", file=source
            ) from None
        doc = parse_yaml(text, source)
        self._stack.append(path.resolve())
        try:
            return self.compile_document(doc, source, path.parent)
        finally:
            self._stack.pop()

    def compile_document(self, doc: YamlDocument, source: str, base_dir: Path) -> Policy:
        if not isinstance(doc.data, dict):
            raise PolicyError(
                "a policy must be a mapping with at least 'name'", file=source, line=1
            )
        spec = _validate(doc, source)
        tools: dict[str, CompiledTool] = {}
        rules: list[CompiledRule] = []
        redaction = spec.redaction
        for index, include in enumerate(spec.include):
            included = self._load_include(include, base_dir, doc, source, index)
            tools.update(included.tools)
            rules.extend(included.rules)
            if "redaction" not in spec.model_fields_set:
                redaction = included.redaction  # an including file without its own inherits
        for name, tool_spec in spec.tools.items():
            tools[name] = _compile_tool(name, tool_spec, doc, source)
        fact_fields = _fact_fields(tools)
        seen = {rule.id: rule.source for rule in rules}
        for index, rule_spec in enumerate(spec.rules):
            if rule_spec.id in seen:
                raise PolicyError(
                    f"duplicate rule id (also in {seen[rule_spec.id]})",
                    file=source,
                    rule=rule_spec.id,
                    field="id",
                    line=doc.line_of(("rules", index, "id")),
                )
            seen[rule_spec.id] = source
            rules.append(_compile_rule(rule_spec, index, doc, source, fact_fields, tools))
        return Policy(
            name=spec.name,
            version=spec.version,
            mode=spec.mode,
            default=Verdict.parse(spec.default),
            tools=tools,
            rules=tuple(rules),
            tests=tuple(spec.tests),
            source=source,
            redaction=redaction,
            warnings=tuple(_flow_warnings(rules, tools)),
        )

    def _load_include(
        self, include: str, base_dir: Path, doc: YamlDocument, source: str, index: int
    ) -> Policy:
        path = (base_dir / include).resolve()
        line = doc.line_of(("include", index))
        if path in self._stack:
            raise PolicyError(
                f"include cycle through '{include}'", file=source, field="include", line=line
            )
        if not path.is_file():
            raise PolicyError(
                f"included file '{include}' not found", file=source, field="include", line=line
            )
        return self.load(path)


def _validate(doc: YamlDocument, source: str) -> PolicySpec:
    try:
        return PolicySpec.model_validate(doc.data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        rule = _rule_id_at(doc.data, location)
        field_name = ".".join(str(p) for p in location) or None
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (check the spelling)"
        elif error["type"] == "string_type" and isinstance(error.get("input"), bool):
            message = (
                "YAML read this as a boolean, not text (yes/no/on/off/true/false are booleans):"
                " put it in quotes"
            )
        raise PolicyError(
            message, file=source, rule=rule, field=field_name, line=doc.line_of(location)
        ) from None


def _rule_id_at(data: Any, location: tuple[Any, ...]) -> str | None:
    if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
        try:
            rule = data["rules"][location[1]]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            return rule["id"]
        return f"#{location[1] + 1}"
    return None


def _compile_tool(name: str, spec: ToolSpec, doc: YamlDocument, source: str) -> CompiledTool:
    bindings = []
    for index, entry in enumerate(spec.classify):
        path = ("tools", name, "classify", index)
        try:
            classifier = classifiers.get_classifier(entry.classifier)
        except KeyError:
            known = ", ".join(classifiers.available())
            raise PolicyError(
                f"unknown classifier '{entry.classifier}' (known: {known})",
                file=source,
                field=f"tools.{name}.classify.{index}.classifier",
                line=doc.line_of((*path, "classifier")),
            ) from None
        options = entry.options
        unknown = sorted(set(options) - classifier.options)
        if unknown:
            raise PolicyError(
                f"classifier '{classifier.name}' has no option '{unknown[0]}'"
                f" (options: {', '.join(sorted(classifier.options)) or 'none'})",
                file=source,
                field=f"tools.{name}.classify.{index}.{unknown[0]}",
                line=doc.line_of((*path, unknown[0])),
            )
        if classifier.validate_options is not None:
            try:
                classifier.validate_options(options)
            except ValueError as exc:
                raise PolicyError(
                    str(exc),
                    file=source,
                    field=f"tools.{name}.classify.{index}",
                    line=doc.line_of(path),
                ) from None
        bindings.append(
            ToolBinding(classifier=classifier, argument=entry.argument, options=options)
        )
    field_labels = FieldLabels.parse(spec.output_labels)
    return CompiledTool(
        name=name,
        declared_intents=frozenset(spec.intents),
        bindings=tuple(bindings),
        output_labels=field_labels.labels(),
        field_labels=field_labels,
        recipients=tuple(spec.recipients),
        endorse=spec.endorse,
        arguments=None if spec.arguments is None else frozenset(spec.arguments),
    )


def _flow_warnings(rules: list[CompiledRule], tools: Mapping[str, CompiledTool]) -> list[str]:
    """Rules reading ``flow.<argument>`` of a matched tool that lists no such argument.

    Such a condition always sees an empty record, which is seldom what its author meant.
    """
    warnings = []
    for rule in rules:
        if rule.condition is None or not rule.tool_patterns:
            continue
        read = flow_arguments(rule.condition.projections.get("flow", {}))
        for name, tool in tools.items():
            known = tool.known_arguments()
            if known is None or not rule.matches_tool(name):
                continue
            for argument in sorted(read - known):
                warnings.append(
                    f"{rule.source}: rule '{rule.id}' reads flow.{argument}, but tool"
                    f" '{name}' has no argument '{argument}' (it has: {', '.join(sorted(known))})"
                )
    return warnings


def _fact_fields(tools: Mapping[str, CompiledTool]) -> dict[str, frozenset[str]]:
    """Facts conditions may name: those of every available classifier."""
    fields: dict[str, frozenset[str]] = {}
    for name in classifiers.available():
        try:
            fields[name] = classifiers.get_classifier(name).facts
        except (KeyError, ImportError):
            continue
    for tool in tools.values():
        for binding in tool.bindings:
            fields[binding.classifier.name] = binding.classifier.facts
    fields.update(ENGINE_FACTS)
    return fields


def _matches_everything(match: RuleMatch) -> bool:
    """A match that names nothing (and does not say so with ``all_calls``)."""
    return not (
        match.all_calls or match.tools or match.intents or match.only_intents or match.principals
    )


def _check_tool_names(
    spec: RuleSpec,
    index: int,
    doc: YamlDocument,
    source: str,
    tools: Mapping[str, CompiledTool],
) -> None:
    """A tool name in a rule that no declaration has, but one nearly has, is a typo."""
    declared = list(tools)
    for position, pattern in enumerate(spec.match.tools):
        if any(ch in pattern for ch in "*?[") or pattern in tools:
            continue
        if any(
            any(ch in name for ch in "*?[") and fnmatch.fnmatchcase(pattern, name)
            for name in declared
        ):
            continue
        close = difflib.get_close_matches(pattern, declared, n=1, cutoff=0.75)
        if close:
            raise PolicyError(
                f"no tool is declared as '{pattern}': did you mean '{close[0]}'?",
                file=source,
                rule=spec.id,
                field=f"match.tools.{position}",
                line=doc.line_of(("rules", index, "match", "tools", position)),
            )


def _compile_rule(
    spec: RuleSpec,
    index: int,
    doc: YamlDocument,
    source: str,
    fact_fields: Mapping[str, frozenset[str]],
    tools: Mapping[str, CompiledTool],
) -> CompiledRule:
    condition = None
    if spec.when is not None:
        try:
            condition = compile_condition(spec.when, fact_fields)
            check_fact_comparisons(spec.when)
        except (ConditionError, ValueError) as exc:
            raise PolicyError(
                f"invalid condition: {exc}",
                file=source,
                rule=spec.id,
                field="when",
                line=doc.line_of(("rules", index, "when")),
            ) from None
    if spec.verdict == "allow" and spec.when is None and _matches_everything(spec.match):
        raise PolicyError(
            "an allow rule without match or condition allows every call: give it a match,"
            " or write  match: {all_calls: true}  if that is what you mean",
            file=source,
            rule=spec.id,
            field="match",
            line=doc.line_of(("rules", index)),
        )
    _check_tool_names(spec, index, doc, source, tools)
    if spec.verdict != "allow" and not spec.message:
        raise PolicyError(
            "a deny or require_approval rule needs a message: the model is shown it",
            file=source,
            rule=spec.id,
            field="message",
            line=doc.line_of(("rules", index)),
        )
    return CompiledRule(
        id=spec.id,
        verdict=Verdict.parse(spec.verdict),
        message=spec.message,
        description=spec.description,
        tool_patterns=tuple(spec.match.tools),
        intent_patterns=tuple(spec.match.intents),
        principals=spec.match.principals,
        condition=condition,
        monitor_only=spec.mode == "monitor",
        source=source,
        covered_intents=expand_intent_patterns(spec.match.intents),
        only_intents=(
            expand_intent_patterns(spec.match.only_intents) if spec.match.only_intents else None
        ),
    )
