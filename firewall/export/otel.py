"""OpenTelemetry spans for tool calls, following the GenAI semantic conventions.

Each call becomes an ``execute_tool {tool}`` span (``gen_ai.operation.name =
execute_tool``, ``gen_ai.tool.name``, ``gen_ai.tool.call.id``, ``gen_ai.conversation.id``
for the session) carrying the firewall's verdict as a ``gen_ai.evaluation.result`` event
(``gen_ai.evaluation.name``, ``gen_ai.evaluation.score.label`` = allow / deny /
require_approval, ``gen_ai.evaluation.explanation`` = the rules). Arguments are not put
on spans. Needs ``pip install 'toolcall-firewall[otel]'``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from firewall.model import Decision, Principal, ToolCall

EVALUATION_NAME = "tool_call_firewall"


def _trace_api() -> Any:
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ImportError(
            "OpenTelemetry export needs the 'otel' extra: pip install 'toolcall-firewall[otel]'"
        ) from exc
    return trace


def emit_call_span(
    tracer: Any,
    *,
    tool: str,
    call_id: str | None,
    session: str | None,
    verdict: str,
    rules: Iterable[str],
    intents: Iterable[str] = (),
    principal: str | None = None,
) -> None:
    """One ``execute_tool`` span with its verdict event."""
    trace = _trace_api()
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.type": "function",
    }
    if call_id:
        attributes["gen_ai.tool.call.id"] = call_id
    if session:
        attributes["gen_ai.conversation.id"] = session
    intents = list(intents)
    if intents:
        attributes["firewall.intents"] = intents
    if principal:
        attributes["firewall.principal"] = principal
    with tracer.start_as_current_span(
        f"execute_tool {tool}", kind=trace.SpanKind.INTERNAL, attributes=attributes
    ) as span:
        span.add_event(
            "gen_ai.evaluation.result",
            {
                "gen_ai.evaluation.name": EVALUATION_NAME,
                "gen_ai.evaluation.score.label": verdict,
                "gen_ai.evaluation.explanation": ", ".join(rules),
            },
        )
        if verdict != "allow":
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"firewall: {verdict}"))


def export_spans(events: Iterable[Mapping[str, Any]], tracer: Any = None) -> int:
    """Emit a span for every call event of a trace; returns how many."""
    tracer = tracer or _trace_api().get_tracer("firewall")
    count = 0
    for event in events:
        if event.get("type") != "call":
            continue
        principal = event.get("principal") or {}
        emit_call_span(
            tracer,
            tool=event["tool"],
            call_id=event.get("call_id"),
            session=event.get("session"),
            verdict=str(event.get("verdict")),
            rules=event.get("rules", ()),
            intents=event.get("intents", ()),
            principal=principal.get("id"),
        )
        count += 1
    return count


class OtelSink:
    """A decision sink that emits one span per decision as it happens."""

    def __init__(self, tracer: Any = None) -> None:
        self.tracer = tracer or _trace_api().get_tracer("firewall")

    def record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> None:
        emit_call_span(
            self.tracer,
            tool=call.name,
            call_id=call.id,
            session=decision.session,
            verdict=decision.verdict.label,
            rules=decision.rule_ids,
            intents=decision.intents,
            principal=principal.id,
        )
