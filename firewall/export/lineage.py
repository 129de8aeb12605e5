"""OpenLineage run events for the datasets agent tool calls read and wrote.

Every allowed call that touched a dataset (tables from the SQL classifier, files, hosts)
becomes one ``COMPLETE`` run event: the job is the tool (namespace ``firewall`` by
default), the inputs are what it read and the outputs what it wrote. Denied calls
touched nothing and produce no event. Needs ``pip install 'toolcall-firewall[lineage]'``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

PRODUCER = "https://github.com/toolcall-firewall/toolcall-firewall"


def _client_api() -> Any:
    try:
        from openlineage.client import event_v2, uuid
    except ImportError as exc:
        raise ImportError(
            "OpenLineage export needs the 'lineage' extra: pip install 'toolcall-firewall[lineage]'"
        ) from exc
    return event_v2, uuid


def lineage_events(
    events: Iterable[Mapping[str, Any]],
    *,
    job_namespace: str = "firewall",
    dataset_namespaces: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """``RunEvent``s for the dataset reads and writes of allowed calls in a trace.

    ``dataset_namespaces`` maps a dataset type (``table``, ``file``, ``host``) to the
    OpenLineage namespace to use (e.g. ``{"table": "postgres://db:5432"}``).
    """
    event_v2, uuid = _client_api()
    spaces = {"table": "firewall.table", "file": "file", "host": "firewall.host"}
    spaces.update(dataset_namespaces or {})
    for event in events:
        if event.get("type") != "call" or event.get("verdict") != "allow":
            continue
        datasets = event.get("datasets") or []
        if not datasets:
            continue
        inputs, outputs = [], []
        for item in datasets:
            kind, _, name = str(item["id"]).partition(":")
            namespace = spaces.get(kind, f"firewall.{kind}")
            if item.get("access") == "writes":
                outputs.append(event_v2.OutputDataset(namespace=namespace, name=name))
            else:
                inputs.append(event_v2.InputDataset(namespace=namespace, name=name))
        yield event_v2.RunEvent(
            eventType=event_v2.RunState.COMPLETE,
            eventTime=datetime.now(UTC).isoformat(),
            run=event_v2.Run(runId=str(uuid.generate_new_uuid())),
            job=event_v2.Job(namespace=job_namespace, name=str(event["tool"])),
            inputs=inputs,
            outputs=outputs,
            producer=PRODUCER,
        )


def emit_lineage(events: Iterable[Mapping[str, Any]], client: Any, **options: Any) -> int:
    """Send the run events of a trace through an ``OpenLineageClient``; returns how many."""
    count = 0
    for run_event in lineage_events(events, **options):
        client.emit(run_event)
        count += 1
    return count
