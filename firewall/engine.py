"""The decision engine: classify -> evaluate rules -> approval -> record.

``Firewall.check()`` is called on every tool call, so the path is kept short: rules are
pre-filtered by tool name once per name, a condition only converts the variables it names,
and nothing is validated twice. Any exception in a stage becomes a deny (fail closed).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from firewall.approvals import (
    ApprovalDesk,
    ApprovalGrant,
    ApprovalRequest,
    Approver,
    DenyAllApprover,
    Outcome,
    grant_for,
    refused,
)
from firewall.conditions import Projection, merge_projections
from firewall.errors import FirewallError
from firewall.graph import FlowLookup, GraphStore, SessionGraph
from firewall.history import HistoryStore, HistoryView
from firewall.intent import merge_facts
from firewall.model import (
    ANONYMOUS,
    Decision,
    Intent,
    Principal,
    Reason,
    ToolCall,
    Verdict,
    trusted,
)
from firewall.policy import CompiledRule, CompiledTool, Policy
from firewall.recipients import message_facts
from firewall.redact.settings import ner_model_installed
from firewall.redact.vault import Restoration, VaultStore, restore, scrub
from firewall.sinks import DecisionSink, MemorySink
from firewall.variables import CallVariables

if TYPE_CHECKING:  # the redactor loads Presidio and spaCy: imported on first use
    from firewall.redact.redactor import RedactedOutput, Redactor

_UNKNOWN = (Intent.UNKNOWN.value,)
_MISSING = object()
_RULE_CACHE_LIMIT = 4096


@dataclass
class Evaluation:
    """What the rules said about one call, before approval and recording."""

    call: ToolCall
    principal: Principal
    context: Mapping[str, Any]
    session: str | None
    intents: tuple[str, ...]
    facts: dict[str, Any]
    reasons: list[Reason]
    policy_verdict: Verdict
    errors: list[str] = field(default_factory=list)
    fingerprint: str = ""
    #: Where the argument values came from (computed on first use).
    flow: FlowLookup | None = None
    #: The call with the placeholders the model wrote restored, when it wrote any (PII).
    restored: ToolCall | None = None
    #: The session's history as this call sees it (the ``session`` variable).
    history: HistoryView | None = None
    #: ``time.perf_counter()`` when the call reached the firewall (for ``elapsed_ms``).
    started: float = 0.0

    def real_call(self) -> ToolCall:
        """The call as the tool would run it (holds PII).

        Approvals are bound to this call, not to the placeholders the model wrote: the same
        placeholder can stand for another value in another session.
        """
        return self.restored or self.call


class Firewall:
    """Checks tool calls against a policy. Thread-safe; one instance serves many agents."""

    def __init__(
        self,
        policy: Policy,
        *,
        approver: Approver | None = None,
        sinks: Iterable[DecisionSink] | None = None,
        grant_key: bytes | None = None,
        graphs: GraphStore | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self.policy = policy
        #: The action graph of every session (bounded); see ``firewall.graph``.
        self.graphs = graphs if graphs is not None else GraphStore()
        #: What each session (and principal) did so far, for history rules.
        self.history = history if history is not None else HistoryStore()
        self.approver: Approver = approver or DenyAllApprover()
        self.memory = MemorySink()
        self.sinks: list[DecisionSink] = [self.memory, *(sinks or ())]
        self._desk = ApprovalDesk(grant_key or os.urandom(32))
        #: Named in ``session.tools`` with a 0 count before their first call.
        self._declared_tools = tuple(
            name for name in policy.tools if not any(ch in name for ch in "*?[")
        )
        self._rules_by_tool: dict[str, tuple[CompiledRule, ...]] = {}
        self._projections: dict[tuple[int, ...], Mapping[str, Projection]] = {}
        #: Placeholder vaults of every session (bounded); see ``firewall.redact``.
        self.vaults = VaultStore()
        settings = policy.redaction
        if settings.enabled and settings.ner and not ner_model_installed():
            # Said now, not at the first tool result (which would be withheld).
            raise FirewallError(
                f"policy '{policy.name}' redacts names and places (redaction.ner), but the "
                "spaCy model is not installed: pip install 'toolcall-firewall[ner]', "
                "or set redaction.ner: false"
            )
        self._redactor: Redactor | None = None

    # -- public API ---------------------------------------------------------------------

    def check(
        self,
        call: ToolCall,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        session: str | None = None,
        grant: ApprovalGrant | None = None,
    ) -> Decision:
        """Decide one proposed call: allow, deny, or (after asking the approver) either."""
        try:
            evaluation = self.evaluate(call, principal, context, session=session)
            if self._needs_approval(evaluation):
                return self._finish(evaluation, *self._approve(evaluation, grant))
            return self._finish(evaluation)
        except Exception as exc:
            return self._failure(call, principal, context, session, "check", exc)

    async def acheck(
        self,
        call: ToolCall,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        session: str | None = None,
        grant: ApprovalGrant | None = None,
    ) -> Decision:
        """Async ``check``: a blocking approver runs in a worker thread, an async one is awaited."""
        try:
            evaluation = self.evaluate(call, principal, context, session=session)
            if not self._needs_approval(evaluation):
                return self._finish(evaluation)
            asker = getattr(self.approver, "arequest", None)
            if asker is None or not inspect.iscoroutinefunction(asker):
                answer = await asyncio.to_thread(self._approve, evaluation, grant)
                return self._finish(evaluation, *answer)
            real = evaluation.real_call()
            answer = self._desk.settle(real, grant) or self._desk.judge(
                real, await asker(self._request(evaluation))
            )
            return self._finish(evaluation, *answer)
        except Exception as exc:
            return self._failure(call, principal, context, session, "check", exc)

    def grant(
        self,
        call: ToolCall,
        approver: str,
        ttl: float | None = None,
        note: str = "",
        *,
        session: str | None = None,
    ) -> ApprovalGrant:
        """A signed grant for exactly ``call``, to present later as ``check(..., grant=)``.

        Placeholders in ``call`` are first restored from ``session``'s vault: the grant
        covers the real values, never whatever a placeholder stands for elsewhere.
        """
        real, _ = self._restore_placeholders(call, session)
        return self._desk.sign(grant_for(real, approver, ttl, note))

    def needs_approval(self, evaluation: Evaluation) -> bool:
        """Whether ``evaluation`` waits for a person (``require_approval`` in enforce mode)."""
        return self._needs_approval(evaluation)

    def conclude(
        self,
        evaluation: Evaluation,
        grant: ApprovalGrant | None = None,
        *,
        refusal: str = "the approver refused the call",
    ) -> Decision:
        """Decide and record an ``evaluate``d call whose approval was asked outside ``check``.

        For callers that must pause between evaluating and deciding (a LangGraph interrupt
        cannot be raised inside ``check``, which turns every exception into a deny). A held
        call is allowed only by a ``grant`` from this firewall (``grant()``) covering it
        exactly; without one it is denied for ``refusal``. The configured approver is not
        asked. A call that is not held is decided as ``check`` would.
        """
        try:
            if not self._needs_approval(evaluation):
                return self._finish(evaluation)
            real = evaluation.real_call()
            outcome = self._desk.settle(real, grant) if grant is not None else refused(refusal)
            return self._finish(evaluation, *(outcome or refused(refusal)))
        except Exception as exc:
            call, context = evaluation.call, evaluation.context
            return self._failure(
                call, evaluation.principal, context, evaluation.session, "check", exc
            )

    # -- the action graph ---------------------------------------------------------------

    def graph(self, session: str | None = None) -> SessionGraph:
        """The action graph of ``session`` (created when new)."""
        return self.graphs.get(session)

    def record_message(self, session: str | None, role: str, text: Any) -> None:
        """Feed a user prompt or model message to the session's graph.

        Values in the user's own messages are marked ``user`` in ``flow``; adapters call
        this with each prompt so a value the user typed is not mistaken for injected data.
        """
        self.graphs.get(session).add_message(role, text)
        self.history.note_event(session, ())

    def record_result(
        self,
        call: ToolCall,
        output: Any,
        *,
        session: str | None = None,
        labels: Iterable[str] = (),
        original: Any = None,
        value_labels: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Record what a tool returned (already redacted) with its labels.

        ``labels`` cover the whole output. The tool's ``output_labels`` from the policy
        (e.g. ``untrusted``, whole or per field) are added, and its ``endorse`` label when
        the user named what it read; ``value_labels`` (label -> texts) cover only those
        texts (``after`` passes the values it redacted and their placeholders as ``pii`` /
        ``secret``). ``original`` (the unredacted output) is indexed by digest only, so a
        value the model restores from a placeholder is traced back to this result.
        """
        tool = self.policy.tool(call.name)
        graph = self.graphs.get(session)
        all_labels = set(labels)
        if tool is not None and tool.endorse is not None and call.arguments_valid:
            named = call.arguments.get(tool.endorse.argument)
            if named is not None:
                flow = graph.provenance({"named": named}).arguments["named"]
                if flow.from_user:
                    all_labels.add(tool.endorse.label)
        graph.add_result(
            output,
            tool=call.name,
            call_id=call.id,
            labels=frozenset(all_labels),
            original=original,
            field_labels=tool.field_labels if tool is not None else None,
            value_labels=value_labels,
        )
        seen = all_labels | (tool.field_labels.labels() if tool is not None else frozenset())
        self.history.note_event(session, seen | set(value_labels or ()))

    def evaluate(
        self,
        call: ToolCall,
        principal: Principal | None = None,
        context: Mapping[str, Any] | None = None,
        *,
        session: str | None = None,
    ) -> Evaluation:
        """Classify the call and run the rules; no approval, nothing recorded."""
        started = time.perf_counter()
        principal = principal or ANONYMOUS
        context = context if context is not None else {}
        if session is None:
            session = context.get("session") if isinstance(context.get("session"), str) else None
        tool = self.policy.tool(call.name)
        # Placeholders the model wrote are put back first: the rules judge the real call.
        run, restoration = self._restore_placeholders(call, session)
        intents, facts = self._classify(run, tool)
        if restoration is not None:
            facts = scrub(facts, restoration.pairs)
            facts["redaction"] = restoration.facts()
        errors: list[str] = []
        recipients = tool.recipients if tool is not None else ()
        written = call.arguments if run is not call else None
        flow = FlowLookup(self.graphs, session, run.arguments, recipients, written)
        history = self.history.view(session, principal.id, self._declared_tools)
        reasons = self._match_rules(run, principal, context, intents, facts, errors, flow, history)
        if restoration is not None:
            errors = scrub(errors, restoration.pairs)
        enforced = [r.verdict for r in reasons if not r.monitor_only]
        if enforced:
            verdict = max(enforced)
        else:
            verdict = self.policy.default
            reasons.append(
                trusted(
                    Reason,
                    rule_id="default",
                    verdict=verdict,
                    message=f"no rule matched; the policy's default is {verdict.label}",
                    matched={},
                    monitor_only=False,
                )
            )
        return Evaluation(
            call=call,
            principal=principal,
            context=context,
            session=session,
            intents=intents,
            facts=facts,
            reasons=reasons,
            policy_verdict=verdict,
            errors=errors,
            fingerprint=run.fingerprint(),
            flow=flow,
            restored=run if run is not call else None,
            history=history,
            started=started,
        )

    # -- redaction ----------------------------------------------------------------------

    def after(self, call: ToolCall, output: Any, *, session: str | None = None) -> RedactedOutput:
        """What the model may see of ``call``'s output: PII and secrets out, per the policy.

        The same value gets the same placeholder within ``session``. Never raises: when
        redaction fails the output is withheld. The redacted output is recorded in the
        session's action graph, ``pii`` / ``secret`` on the values found and their
        placeholders only.
        """
        from firewall.redact.redactor import RedactedOutput, withheld_notice

        try:
            redacted = self._redactor_for_policy().redact(output, session=session, tool=call.name)
        except Exception as exc:
            redacted = RedactedOutput(
                output=withheld_notice(call.name, "it could not be checked for personal data"),
                withheld=True,
                error=f"{type(exc).__name__} during redaction",
            )
        try:
            # A withheld output never reaches the model: only the notice is recorded. An
            # output redaction left unchanged is indexed once. pii / secret label the values
            # found (and their placeholders), not the whole output; a label with no value to
            # hold it (a withheld output) covers the whole.
            unchanged = redacted.output is output or redacted.output == output
            by_value = redacted.labelled_values
            self.record_result(
                call,
                redacted.output,
                session=session,
                labels=redacted.labels - by_value.keys(),
                original=None if redacted.withheld or unchanged else output,
                value_labels=by_value,
            )
            for sink in self.sinks:  # sinks that log redactions (the audit log) get one record
                note = getattr(sink, "record_redaction", None)
                if note is not None and not redacted.exempt:
                    note(
                        session=session,
                        tool=call.name,
                        call_id=call.id,
                        entities=redacted.entities,
                        labels=redacted.labels,
                        withheld=redacted.withheld,
                    )
        except Exception as exc:
            return RedactedOutput(
                output=withheld_notice(call.name, "it could not be recorded"),
                entities=redacted.entities,
                withheld=True,
                labels=redacted.labels,
                error=f"recording the result failed: {type(exc).__name__}",
            )
        return redacted

    def redact(self, value: Any, *, session: str | None = None, tool: str = "") -> RedactedOutput:
        """``value`` as the model may see it, when it is not a tool's output: nothing recorded.

        For text that leaves again (arguments the caller echoes back to the model): the same
        placeholders as ``after`` gives in ``session``. Never raises: a failure withholds it.
        """
        from firewall.redact.redactor import RedactedOutput, withheld_notice

        try:
            return self._redactor_for_policy().redact(value, session=session, tool=tool)
        except Exception as exc:
            return RedactedOutput(
                output=withheld_notice(tool, "it could not be checked for personal data"),
                withheld=True,
                error=f"{type(exc).__name__} during redaction",
            )

    async def aafter(
        self, call: ToolCall, output: Any, *, session: str | None = None
    ) -> RedactedOutput:
        """Async ``after``: the analysis runs in a worker thread."""
        return await asyncio.to_thread(self.after, call, output, session=session)

    def _redactor_for_policy(self) -> Redactor:
        from firewall.redact.redactor import Redactor

        settings = self.policy.redaction
        redactor = self._redactor
        if redactor is None or redactor.settings is not settings:
            redactor = self._redactor = Redactor(settings, self.vaults)
        return redactor

    def _restore_placeholders(
        self, call: ToolCall, session: str | None
    ) -> tuple[ToolCall, Restoration | None]:
        """The call with known placeholders restored, and what was found (or ``None``)."""
        if not call.arguments:
            return call, None
        restoration = restore(call.arguments, self.vaults.peek(session))
        if not restoration.found_any:
            return call, None
        if not restoration.changed:
            return call, restoration
        return call.model_copy(update={"arguments": restoration.arguments}), restoration

    # -- stages -------------------------------------------------------------------------

    def _classify(
        self, call: ToolCall, tool: CompiledTool | None
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        if not call.arguments_valid:
            return _UNKNOWN, {"arguments": {"error": "the arguments are not a JSON object"}}
        if tool is None:
            return _UNKNOWN, {}
        facts: dict[str, Any] = {}
        if tool.recipients:
            facts["message"] = message_facts(call.arguments, tool.recipients)
        if not tool.bindings:
            return tuple(sorted(tool.declared_intents)), facts
        intents = set(tool.declared_intents)
        for binding in tool.bindings:
            value = call.arguments.get(binding.argument, _MISSING)
            if value is _MISSING:
                intents.add(Intent.UNKNOWN.value)
                facts.setdefault(binding.classifier.name, {})["error"] = (
                    f"argument '{binding.argument}' is missing"
                )
                continue
            # ``_arguments``: the whole call, for options naming another argument
            # (``method_argument``, ``operation_argument``).
            options = {**binding.options, "_arguments": call.arguments}
            result = binding.classifier.func(value, options)
            intents.update(result.intents)
            merge_facts(facts.setdefault(binding.classifier.name, {}), result.facts)
        return tuple(sorted(intents)), facts

    def _match_rules(
        self,
        call: ToolCall,
        principal: Principal,
        context: Mapping[str, Any],
        intents: tuple[str, ...],
        facts: dict[str, Any],
        errors: list[str],
        flow: FlowLookup | None = None,
        history: HistoryView | None = None,
    ) -> list[Reason]:
        fitting = [
            rule
            for rule in self._rules_for(call.name)
            if rule.static_mismatch(intents, principal) is None
        ]
        variables = CallVariables(call, principal, context, intents, facts, flow, history)
        projections: Mapping[str, Projection] | None = None
        reasons: list[Reason] = []
        for rule in fitting:
            if rule.condition is not None:
                if projections is None:
                    projections = self._projections_for(fitting)
                try:
                    if not rule.condition.evaluate(variables.activation(projections)):
                        continue
                except Exception as exc:
                    # An error is not a pass: a blocking rule applies, an allow rule does not.
                    errors.append(f"rule '{rule.id}': condition failed: {exc}")
                    if rule.verdict is Verdict.ALLOW:
                        continue
            reasons.append(
                trusted(
                    Reason,
                    rule_id=rule.id,
                    verdict=rule.verdict,
                    message=rule.message,
                    matched=_what_matched(rule, intents),
                    monitor_only=rule.monitor_only,
                )
            )
        return reasons

    def _rules_for(self, tool: str) -> tuple[CompiledRule, ...]:
        found = self._rules_by_tool.get(tool)
        if found is None:
            found = tuple(r for r in self.policy.rules if r.matches_tool(tool))
            if len(self._rules_by_tool) >= _RULE_CACHE_LIMIT:
                self._rules_by_tool.clear()
            self._rules_by_tool[tool] = found
        return found

    def _projections_for(self, rules: list[CompiledRule]) -> Mapping[str, Projection]:
        """What the conditions of ``rules`` read, merged; cached per set of rules.

        Only rules whose match already fits contribute: converting values into CEL costs
        more than evaluating them, so nothing a fitting condition does not read is converted.
        """
        key = tuple(id(rule) for rule in rules)
        found = self._projections.get(key)
        if found is None:
            merged: dict[str, Projection] = {}
            for rule in rules:
                if rule.condition is None:
                    continue
                for name, projection in rule.condition.projections.items():
                    merged[name] = (
                        merge_projections(merged[name], projection)
                        if name in merged
                        else projection
                    )
            if len(self._projections) >= _RULE_CACHE_LIMIT:
                self._projections.clear()
            found = self._projections[key] = merged
        return found

    def _needs_approval(self, evaluation: Evaluation) -> bool:
        return (
            evaluation.policy_verdict is Verdict.REQUIRE_APPROVAL and self.policy.mode == "enforce"
        )

    def _approve(self, evaluation: Evaluation, presented: ApprovalGrant | None) -> Outcome:
        real = evaluation.real_call()
        settled = self._desk.settle(real, presented)
        if settled is not None:
            return settled
        return self._desk.judge(real, self.approver.request(self._request(evaluation)))

    def _request(self, evaluation: Evaluation) -> ApprovalRequest:
        # Built from values the engine already holds: no second validation on the hot path.
        return trusted(
            ApprovalRequest,
            call=evaluation.real_call(),
            principal=evaluation.principal,
            context=dict(evaluation.context),
            reasons=tuple(r for r in evaluation.reasons if r.verdict is Verdict.REQUIRE_APPROVAL),
            fingerprint=evaluation.fingerprint,
            session=evaluation.session,
        )

    def _finish(
        self,
        evaluation: Evaluation,
        approved_verdict: Verdict | None = None,
        approval_reason: Reason | None = None,
        approved_by: str | None = None,
    ) -> Decision:
        verdict = evaluation.policy_verdict if approved_verdict is None else approved_verdict
        reasons = evaluation.reasons
        if approval_reason is not None:
            reasons = [*reasons, approval_reason]
        monitor = self.policy.mode == "monitor"
        decision = trusted(
            Decision,
            verdict=Verdict.ALLOW if monitor else verdict,
            reasons=tuple(reasons),
            intents=evaluation.intents,
            facts=evaluation.facts,
            tool=evaluation.call.name,
            call_id=evaluation.call.id,
            call_hash=evaluation.fingerprint,
            policy=self.policy.name,
            policy_version=self.policy.version,
            mode=self.policy.mode,
            policy_verdict=evaluation.policy_verdict,
            approved_by=approved_by,
            errors=tuple(evaluation.errors),
            session=evaluation.session,
            time=datetime.now(UTC),
            elapsed_ms=(time.perf_counter() - evaluation.started) * 1000,
            arguments=evaluation.restored.arguments if evaluation.restored else None,
        )
        # The graph first: a decision that cannot be noted there is recorded as the deny it becomes.
        decision = self._note_in_graph(evaluation, decision)
        decision = self._note_in_history(evaluation, decision)
        return self._record(decision, evaluation.call, evaluation.principal, evaluation.context)

    def _note_in_graph(self, evaluation: Evaluation, decision: Decision) -> Decision:
        """Add the decided call to the session's action graph (a failure here denies)."""
        try:
            call = evaluation.call
            node = self.graphs.get(evaluation.session).add_call(
                call.name,
                call.arguments,
                call_id=call.id,
                verdict=decision.verdict.label,
                policy_verdict=decision.policy_verdict.label,
                rules=tuple(decision.rule_ids),
                intents=decision.intents,
                principal=evaluation.principal,
                context=evaluation.context,
                facts=decision.facts,
                provenance=evaluation.flow.computed() if evaluation.flow else None,
            )
            node.attrs["elapsed_ms"] = decision.elapsed_ms
        except Exception as exc:
            return _as_failure(decision, f"recording in the action graph failed: {exc}")
        return decision

    def _note_in_history(self, evaluation: Evaluation, decision: Decision) -> Decision:
        """Count the decided call for history rules (a failure here denies)."""
        try:
            self.history.note_call(
                evaluation.session,
                evaluation.principal.id,
                evaluation.call.name,
                decision.intents,
                decision.verdict.label,
                approved=decision.approved_by is not None,
            )
        except Exception as exc:
            return _as_failure(decision, f"recording in the session history failed: {exc}")
        return decision

    def _record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> Decision:
        for sink in self.sinks:
            try:
                sink.record(decision, call, principal, context)
            except Exception as exc:
                # A decision that cannot be recorded is not allowed to take effect.
                failed = _as_failure(decision, f"recording failed in {type(sink).__name__}: {exc}")
                if sink is not self.memory:
                    self.memory.record(failed, call, principal, context)
                return failed
        return decision

    def _failure(
        self,
        call: ToolCall,
        principal: Principal | None,
        context: Mapping[str, Any] | None,
        session: str | None,
        stage: str,
        exc: Exception,
    ) -> Decision:
        message = f"{stage} failed: {type(exc).__name__}: {exc}"
        try:
            fingerprint = call.fingerprint()
            name, call_id = call.name, call.id
        except Exception:
            fingerprint, name, call_id = "", "<unreadable call>", None
        decision = Decision(
            verdict=Verdict.DENY,
            reasons=(_error_reason(message),),
            intents=_UNKNOWN,
            tool=name,
            call_id=call_id,
            call_hash=fingerprint,
            policy=self.policy.name,
            policy_version=self.policy.version,
            mode=self.policy.mode,
            policy_verdict=Verdict.DENY,
            errors=(message,),
            session=session,
        )
        try:
            return self._record(decision, call, principal or ANONYMOUS, context or {})
        except Exception:
            return decision


def _what_matched(rule: CompiledRule, intents: tuple[str, ...]) -> dict[str, Any]:
    if not rule.intent_patterns:
        return {}
    return {"intents": [i for i in intents if i in rule.covered_intents]}


def _error_reason(message: str) -> Reason:
    return Reason(rule_id="firewall.error", verdict=Verdict.DENY, message=message)


def _as_failure(decision: Decision, message: str) -> Decision:
    return decision.model_copy(
        update={
            "verdict": Verdict.DENY,
            "reasons": (*decision.reasons, _error_reason(message)),
            "errors": (*decision.errors, message),
        }
    )
