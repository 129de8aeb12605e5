"""Exports of what the firewall saw: JSONL traces, OpenTelemetry spans, OpenLineage events.

The JSONL trace needs nothing extra. OpenTelemetry (``pip install
'toolcall-firewall[otel]'``) and OpenLineage (``[lineage]``) are optional and imported
only when used.
"""

from firewall.export.jsonl import TRACE_FORMAT, TRACE_VERSION, read_trace, trace_events, write_trace

__all__ = ["TRACE_FORMAT", "TRACE_VERSION", "read_trace", "trace_events", "write_trace"]
