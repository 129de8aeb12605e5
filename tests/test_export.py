"""OpenTelemetry spans and OpenLineage events, checked with the SDKs' local exporters."""

from __future__ import annotations

import json

import pytest

from firewall import Firewall, Principal, ToolCall, policy_from_yaml
from firewall.export import trace_events

POLICY = policy_from_yaml(
    """
name: export
default: allow
tools:
  read_table: {intents: [data.read]}
  drop_all: {intents: [schema.drop]}
rules:
  - id: no-drops
    match: {intents: [schema]}
    verdict: deny
    message: drops are not allowed
"""
)


def session_graph():
    fw = Firewall(POLICY)
    who = Principal(id="agent-3")
    graph = fw.graph("run-9")
    fw.check(ToolCall(name="read_table", arguments={"q": "x"}, id="call-1"), who, session="run-9")
    fw.check(ToolCall(name="drop_all", arguments={}, id="call-2"), who, session="run-9")
    # The SQL classifier's facts, as the engine passes them on.
    graph.add_call(
        "run_sql",
        {"query": "INSERT INTO archive SELECT * FROM orders"},
        call_id="call-3",
        verdict="allow",
        facts={"sql": {"tables_read": ["orders"], "tables_written": ["archive"]}},
    )
    graph.add_call(
        "run_sql", {}, call_id="call-4", verdict="deny", facts={"sql": {"tables_written": ["x"]}}
    )
    return fw, graph


def test_otel_spans_follow_the_genai_conventions() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from firewall.export.otel import OtelSink, export_spans

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    _, graph = session_graph()
    assert export_spans(trace_events(graph), tracer) == 4
    spans = exporter.get_finished_spans()
    first, second = spans[0], spans[1]
    assert first.name == "execute_tool read_table"
    assert first.attributes["gen_ai.operation.name"] == "execute_tool"
    assert first.attributes["gen_ai.tool.name"] == "read_table"
    assert first.attributes["gen_ai.tool.call.id"] == "call-1"
    assert first.attributes["gen_ai.conversation.id"] == "run-9"
    (event,) = second.events
    assert event.name == "gen_ai.evaluation.result"
    assert event.attributes["gen_ai.evaluation.score.label"] == "deny"
    assert event.attributes["gen_ai.evaluation.explanation"] == "no-drops"
    assert not second.status.is_ok

    exporter.clear()
    fw = Firewall(POLICY, sinks=[OtelSink(tracer)])
    fw.check(ToolCall(name="drop_all", arguments={}, id="live"), session="s")
    (live,) = exporter.get_finished_spans()
    assert live.attributes["gen_ai.tool.call.id"] == "live"
    assert live.events[0].attributes["gen_ai.evaluation.score.label"] == "deny"


def test_openlineage_events_for_dataset_reads_and_writes() -> None:
    pytest.importorskip("openlineage.client")
    from openlineage.client import OpenLineageClient
    from openlineage.client.serde import Serde
    from openlineage.client.transport.transport import Transport

    from firewall.export.lineage import emit_lineage

    class ListTransport(Transport):
        kind = "list"

        def __init__(self) -> None:
            self.sent: list[dict] = []

        def emit(self, event):
            self.sent.append(json.loads(Serde.to_json(event)))

    transport = ListTransport()
    client = OpenLineageClient(transport=transport)
    _, graph = session_graph()
    count = emit_lineage(
        trace_events(graph), client, dataset_namespaces={"table": "postgres://db:5432"}
    )
    assert count == 1  # only the allowed call that touched tables; the denied one did not
    (event,) = transport.sent
    assert event["eventType"] == "COMPLETE"
    assert event["job"] == {"namespace": "firewall", "name": "run_sql", "facets": {}}
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [
        ("postgres://db:5432", "orders")
    ]
    assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [
        ("postgres://db:5432", "archive")
    ]
