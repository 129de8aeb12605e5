"""Redaction of one tool output: find, decide per entity, replace, and fail closed.

Whatever goes wrong (a recognizer raises, a regex times out, the output is too large or of
a shape that cannot be rebuilt) the model gets a short notice that the output was withheld,
never the raw text.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from presidio_analyzer import RecognizerResult
from presidio_anonymizer import AnonymizerEngine, ConflictResolutionStrategy
from presidio_anonymizer.entities import OperatorConfig

from firewall.redact.engine import AnalyzerBundle, analyzer_for
from firewall.redact.entities import is_secret
from firewall.redact.hints import NOT_PERSONAL, hint_for_key, hinted_spans, plausible
from firewall.redact.normalise import normalise
from firewall.redact.patterns import is_card_number
from firewall.redact.resolve import NAMED, WEAK, resolve
from firewall.redact.settings import RedactionSettings
from firewall.redact.structured import Flattened, Leaf, flatten, restore_type
from firewall.redact.vault import PLACEHOLDER, SessionVault, VaultStore

#: Overlap between chunks of a long text: longer than any entity but a huge key block,
#: whose head and tail patterns cover a block cut by a chunk edge.
CHUNK_OVERLAP = 2048

_ANONYMIZER = AnonymizerEngine()


@dataclass(frozen=True)
class RedactedOutput:
    """What the model may see of one tool output, and what was found (never the values)."""

    output: Any
    #: Entity type -> how many values of it were found.
    entities: Mapping[str, int] = field(default_factory=dict)
    withheld: bool = False
    #: ``pii`` and/or ``secret`` when such values were found.
    labels: frozenset[str] = frozenset()
    #: The tool is exempt (or redaction is off): ``output`` is the tool's own.
    exempt: bool = False
    #: Why the output was withheld when redaction failed (no values in it).
    error: str | None = None
    #: Characters of a long text output cut off and never shown (the size policy).
    truncated: int = 0
    #: ``pii`` / ``secret`` -> the values found and the placeholders (or hashes) that
    #: replaced them in ``output``: the session graph labels only these. Never logged.
    labelled_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @property
    def found(self) -> bool:
        return bool(self.entities)


def withheld_notice(tool: str, why: str) -> str:
    """The text the model sees instead of an output it may not see."""
    name = f" of tool '{tool}'" if tool else ""
    return f"[firewall] The output{name} was withheld: {why}."


class Redactor:
    """Applies one policy's redaction settings; placeholders go to the given vaults."""

    def __init__(
        self,
        settings: RedactionSettings,
        vaults: VaultStore | None = None,
        *,
        bundle: AnalyzerBundle | None = None,
        salt: bytes | None = None,
    ) -> None:
        self.settings = settings
        self.vaults = vaults if vaults is not None else VaultStore()
        self._bundle = bundle
        self._salt = salt or os.urandom(16)
        self._entities = settings.active_entities

    @property
    def bundle(self) -> AnalyzerBundle:
        if self._bundle is None:
            self._bundle = analyzer_for(self.settings.ner)
        return self._bundle

    def redact(self, output: Any, *, session: str | None = None, tool: str = "") -> RedactedOutput:
        """What the model may see of ``output``. Never raises: a failure withholds it."""
        settings = self.settings
        if not settings.enabled or settings.is_exempt(tool):
            return RedactedOutput(output=output, exempt=True)
        try:
            return self._redact(output, session, tool)
        except Exception as exc:
            reason = f"{type(exc).__name__} during redaction"
            return RedactedOutput(
                output=withheld_notice(
                    tool, "it could not be checked for personal data and secrets"
                ),
                withheld=True,
                error=reason,
            )

    def find(self, text: str) -> list[RecognizerResult]:
        """Findings in ``text`` under these settings, chunked when it is long.

        Detection reads a normalised copy (full-width digits folded, invisible characters
        dropped, ``%40`` decoded); findings are spans of the original ``text``.
        """
        copy = normalise(text)
        folded = copy.text
        results: list[RecognizerResult] = []
        for start, end in chunk_ranges(folded, self.settings.chunk_chars, CHUNK_OVERLAP):
            for result in self.bundle.analyze(
                folded[start:end], self._entities, score_threshold=self.settings.score_threshold
            ):
                result.start += start
                result.end += start
                results.append(result)
        named: list[tuple[str, int, int]] = []
        for entity, start, end in hinted_spans(folded):
            if entity in self._entities:
                results.append(
                    RecognizerResult(entity, start, end, 1.0, recognition_metadata=NAMED)
                )
            if entity in self._entities or entity == NOT_PERSONAL:
                named.append((entity, start, end))
        results = resolve(results, folded, named)
        if copy.changed:
            for result in results:
                result.start, result.end = copy.span(result.start, result.end)
        return merge_overlaps(results)

    # -- internals ------------------------------------------------------------------------

    def _redact(self, output: Any, session: str | None, tool: str) -> RedactedOutput:
        limit = self.settings.max_chars
        if isinstance(output, str) and len(output) > limit:
            if self.settings.oversize == "truncate":
                return self._truncated(output, session, tool)
            return _too_long(tool, len(output))
        flat = flatten(output)
        if len(flat.text) > limit:
            return _too_long(tool, len(flat.text))
        per_leaf = self._per_leaf(flat, self.find(flat.text) if flat.text else [])
        counts: Counter[str] = Counter()
        for findings in per_leaf:
            counts.update(f.entity_type for f in findings)
        labels = frozenset(_label(e) for e in counts)
        blocked = sorted(e for e in counts if self.settings.action_for(e) == "withhold")
        if blocked:
            return RedactedOutput(
                output=withheld_notice(tool, f"it contains {', '.join(blocked)}"),
                entities=dict(counts),
                withheld=True,
                labels=labels,
            )
        vault = self.vaults.get(session)
        values: list[Any] = []
        replaced: Counter[str] = Counter()  # after overlapping findings are resolved
        labelled: dict[str, set[str]] = {}
        for leaf, findings in zip(flat.leaves, per_leaf, strict=True):
            if findings:
                value, entities = self._replace(leaf, findings, vault, labelled)
                values.append(value)
                replaced.update(entities)
            else:
                values.append(_original(leaf))
        return RedactedOutput(
            output=flat.rebuild(values),
            entities=dict(replaced),
            labels=frozenset(_label(e) for e in replaced),
            labelled_values={label: tuple(texts) for label, texts in labelled.items()},
        )

    def _truncated(self, output: str, session: str | None, tool: str) -> RedactedOutput:
        """The redacted head of a long text, cut at a line break, and a notice of the rest."""
        limit = self.settings.max_chars
        cut = output.rfind("\n", limit - limit // 8, limit) + 1 or limit
        head = self._redact(output[:cut], session, tool)
        if head.withheld:
            return head
        rest = len(output) - cut
        notice = (
            f"\n[firewall] The last {rest} characters of this output were withheld: "
            f"outputs are shown up to {limit} characters."
        )
        return RedactedOutput(
            output=f"{head.output}{notice}",
            entities=head.entities,
            labels=head.labels,
            truncated=rest,
            labelled_values=head.labelled_values,
        )

    def _per_leaf(
        self, flat: Flattened, results: list[RecognizerResult]
    ) -> list[list[RecognizerResult]]:
        per_leaf: list[list[RecognizerResult]] = [[] for _ in flat.leaves]
        for result in results:
            index = flat.leaf_at(result.start)
            if index is None:  # starts in a key prefix or a line break: the next leaf
                index = min(
                    (i for i, leaf in enumerate(flat.leaves) if leaf.start >= result.start),
                    default=None,
                )
            while index is not None and index < len(flat.leaves):
                leaf = flat.leaves[index]
                if leaf.start >= result.end:
                    break
                start, end = max(result.start, leaf.start), min(result.end, leaf.end)
                if end > start:
                    per_leaf[index].append(
                        RecognizerResult(
                            result.entity_type, start - leaf.start, end - leaf.start, result.score
                        )
                    )
                index += 1
        for index, leaf in enumerate(flat.leaves):
            hint = None if leaf.is_key or not leaf.key else hint_for_key(leaf.key)
            findings = per_leaf[index]
            if leaf.kind is not str:
                # A number is an identifier only when its name or a checksum says so:
                # amounts, timestamps and ids stay numbers the model can use.
                findings = [f for f in findings if f.entity_type == "CREDIT_CARD" and _card(leaf)]
            if hint is None or not plausible(hint, leaf.value):
                per_leaf[index] = findings
                continue
            # The field's name outranks weak guesses of another type about its value.
            findings = [f for f in findings if f.entity_type == hint or f.entity_type not in WEAK]
            if (
                hint in self._entities
                and not PLACEHOLDER.fullmatch(leaf.value.strip())
                and not _covers(findings, len(leaf.value))
            ):
                findings = [RecognizerResult(hint, 0, len(leaf.value), 1.0)]
            per_leaf[index] = findings
        return per_leaf

    def _replace(
        self,
        leaf: Leaf,
        findings: list[RecognizerResult],
        vault: SessionVault,
        labelled: dict[str, set[str]],
    ) -> tuple[Any, list[str]]:
        """The leaf with its findings replaced, and their entity types. Each value found,
        and each placeholder or hash put in its place, is added to ``labelled`` under its
        label (a mask says nothing of the value: it is left out)."""
        for finding in findings:
            found = leaf.value[finding.start : finding.end]
            if found.strip():
                labelled.setdefault(_label(finding.entity_type), set()).add(found)
        # Number new placeholders in reading order (the anonymizer works back to front);
        # a finding inside a higher-scoring one gets none. One pass over the findings in
        # order, keeping those still open (overlaps are few, so this stays linear).
        open_: list[RecognizerResult] = []
        for finding in sorted(findings, key=lambda f: (f.start, -f.end, -f.score)):
            open_ = [other for other in open_ if other.end > finding.start]
            inside = any(
                other.start <= finding.start
                and finding.end <= other.end
                and other.score > finding.score
                for other in open_
            )
            open_.append(finding)
            if not inside and self.settings.action_for(finding.entity_type) == "placeholder":
                vault.placeholder(finding.entity_type, leaf.value[finding.start : finding.end])
        operators = {e: self._operator(e, vault) for e in {f.entity_type for f in findings}}
        result = _ANONYMIZER.anonymize(
            text=leaf.value,
            analyzer_results=findings,
            operators=operators,
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        )
        for item in result.items:
            if item.operator != "mask" and item.text:
                labelled.setdefault(_label(item.entity_type), set()).add(item.text)
        return restore_type(leaf, result.text), [item.entity_type for item in result.items]

    def _operator(self, entity: str, vault: SessionVault) -> OperatorConfig:
        action = self.settings.action_for(entity)
        if action == "mask":
            return OperatorConfig(
                "mask",
                {
                    "masking_char": self.settings.mask_char,
                    "chars_to_mask": 1 << 30,
                    "from_end": False,
                },
            )
        if action == "hash":
            return OperatorConfig("hash", {"hash_type": "sha256", "salt": self._salt})
        return OperatorConfig("custom", {"lambda": lambda value: vault.placeholder(entity, value)})


_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.{0,16384}?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
    re.DOTALL,
)


def chunk_ranges(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Ranges of about ``size`` characters covering ``text``, overlapping by ``overlap``.

    A chunk ends at a line break or space near its end when there is one, so words are
    rarely cut; an entity shorter than the overlap is always whole in some chunk. A
    private key block, longer than any overlap, is never cut: its chunk is extended.
    """
    length = len(text)
    if length <= size:
        return [(0, length)]
    overlap = min(overlap, size // 4)
    blocks = [m.span() for m in _KEY_BLOCK.finditer(text)] if "PRIVATE KEY" in text else []
    ranges: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(length, start + size)
        if end < length:
            cut = max(text.rfind("\n", end - size // 8, end), text.rfind(" ", end - size // 8, end))
            if cut > start + overlap:
                end = cut + 1
        for block_start, block_end in blocks:
            if block_start < end < block_end:
                end = block_end
        ranges.append((start, end))
        if end >= length:
            return ranges
        start = end - overlap


def merge_overlaps(results: list[RecognizerResult]) -> list[RecognizerResult]:
    """One finding per overlapping run of the same entity (the union, the best score)."""
    merged: list[RecognizerResult] = []
    for result in sorted(results, key=lambda r: (r.entity_type, r.start, -r.end)):
        last = merged[-1] if merged else None
        if last is not None and last.entity_type == result.entity_type and result.start <= last.end:
            last.end = max(last.end, result.end)
            last.score = max(last.score, result.score)
        else:
            merged.append(
                RecognizerResult(result.entity_type, result.start, result.end, result.score)
            )
    return sorted(merged, key=lambda r: (r.start, r.end))


def _too_long(tool: str, length: int) -> RedactedOutput:
    return RedactedOutput(
        output=withheld_notice(tool, "it is too long to be checked for personal data"),
        withheld=True,
        error=f"output of {length} characters exceeds max_chars",
    )


def _label(entity: str) -> str:
    return "secret" if is_secret(entity) else "pii"


def _card(leaf: Leaf) -> bool:
    return leaf.kind is int and is_card_number(leaf.value)


def _covers(findings: list[RecognizerResult], length: int) -> bool:
    return any(f.start == 0 and f.end >= length for f in findings)


def _original(leaf: Leaf) -> Any:
    return leaf.original if leaf.original is not None else leaf.value
