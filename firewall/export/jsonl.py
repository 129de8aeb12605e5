"""The JSONL trace: one session's events, one JSON object a line, read by replay and notebooks.

Format ``firewall-trace`` version 1. The first line is the header
``{"format": "firewall-trace", "version": 1}``; every other line is one event, in the
order it happened within its session, with ``type`` one of:

- ``message``: ``session``, ``seq``, ``node``, ``role`` (user / assistant / system), ``text``
- ``call``: ``session``, ``seq``, ``node``, ``tool``, ``call_id``, ``arguments``,
  ``arguments_form`` (``redacted``, ``hashed`` or ``clear``), ``principal``
  (``id``, ``kind``, ``roles``), ``context``, ``intents``, ``verdict`` (final),
  ``policy_verdict`` (before approval or monitor mode), ``rules`` (ids),
  ``flows`` (``[{"from": node, "argument": name}]``), ``datasets``
  (``[{"id", "access": "reads"|"writes"}]``), ``elapsed_ms`` (time to decide)
- ``result``: ``session``, ``seq``, ``node``, ``tool``, ``call_id``, ``output`` (as
  recorded: redacted when the redaction stage ran), ``labels``

Arguments and context pass through the same scrubber as the audit log: redacted with a
redactor, reduced to hashes without one (replay then skips those calls), or kept as they
are only when asked for explicitly (``arguments="clear"``, for local debugging).
Readers must ignore fields they do not know; a new version number means an incompatible
change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from firewall.audit.scrub import Redactor, Scrubber
from firewall.graph import SessionGraph

TRACE_FORMAT = "firewall-trace"
TRACE_VERSION = 1


def trace_events(
    graphs: SessionGraph | Iterable[SessionGraph],
    *,
    redactor: Redactor | None = None,
    arguments: Literal["redacted", "hashed", "clear"] | None = None,
    hash_key: bytes | None = None,
) -> Iterator[dict[str, Any]]:
    """The trace events of one or several session graphs (no header)."""
    if isinstance(graphs, SessionGraph):
        graphs = [graphs]
    form = arguments or ("redacted" if redactor is not None else "hashed")
    if form == "redacted" and redactor is None:
        raise ValueError("arguments='redacted' needs a redactor")
    scrubber = Scrubber(redactor if form == "redacted" else None, hash_key)
    for graph in graphs:
        out: dict[str, list[dict[str, Any]]] = {}
        for edge in graph.edges():
            out.setdefault(edge.dst, []).append({"from": edge.src, "kind": edge.kind, **edge.attrs})
            if edge.kind in ("reads", "writes"):
                out.setdefault(edge.src, []).append({"dataset": edge.dst, "kind": edge.kind})
        for node in graph.events():
            base = {"session": graph.session, "seq": node.seq, "node": node.id}
            a = node.attrs
            if node.kind == "message":
                yield {"type": "message", **base, "role": a["role"], "text": a["text"]}
            elif node.kind == "result":
                event = {
                    "type": "result",
                    **base,
                    "tool": a.get("tool"),
                    "call_id": a.get("call_id"),
                    "output": a.get("output"),
                    "labels": sorted(node.labels),
                }
                if a.get("value_labels"):  # labels held only by these placeholders
                    event["value_labels"] = a["value_labels"]
                yield event
            elif node.kind == "call":
                edges = out.get(node.id, [])
                if form == "clear":
                    args, ctx = a["arguments"], a.get("context", {})
                else:
                    args, _ = scrubber.scrub(a["arguments"])
                    ctx = scrubber.scrub(a["context"])[0] if a.get("context") else {}
                yield {
                    "type": "call",
                    **base,
                    "tool": a["tool"],
                    "call_id": a.get("call_id"),
                    "arguments": args,
                    "arguments_form": form,
                    "principal": a.get("principal"),
                    "context": ctx,
                    "intents": a.get("intents", []),
                    "verdict": a.get("verdict"),
                    "policy_verdict": a.get("policy_verdict"),
                    "rules": a.get("rules", []),
                    "elapsed_ms": a.get("elapsed_ms"),
                    "flows": [
                        {"from": e["from"], "argument": e.get("argument")}
                        for e in edges
                        if e["kind"] == "flows_to"
                    ],
                    "datasets": [
                        {"id": e["dataset"], "access": e["kind"]} for e in edges if "dataset" in e
                    ],
                }


def write_trace(
    graphs: SessionGraph | Iterable[SessionGraph],
    target: str | Path | IO[str],
    **options: Any,
) -> int:
    """Write a trace file (header + events); returns the number of events written."""
    events = trace_events(graphs, **options)
    if isinstance(target, str | Path):
        with open(target, "w", encoding="utf-8") as handle:
            return _write(events, handle)
    return _write(events, target)


def _write(events: Iterable[dict[str, Any]], handle: IO[str]) -> int:
    handle.write(json.dumps({"format": TRACE_FORMAT, "version": TRACE_VERSION}) + "\n")
    count = 0
    for event in events:
        handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


def read_trace(path: str | Path) -> Iterator[dict[str, Any]]:
    """The events of a trace file; raises ``ValueError`` on a wrong format or version."""
    with open(path, encoding="utf-8") as handle:
        header = json.loads(handle.readline() or "{}")
        if header.get("format") != TRACE_FORMAT:
            raise ValueError(f"{path}: not a firewall trace (no '{TRACE_FORMAT}' header)")
        if header.get("version") != TRACE_VERSION:
            raise ValueError(f"{path}: trace version {header.get('version')} is not supported")
        for number, line in enumerate(handle, start=2):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"{path}:{number}: {exc}") from None


def is_trace(path: str | Path) -> bool:
    """True when ``path`` is a file starting with the trace header."""
    try:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline()
        return json.loads(first).get("format") == TRACE_FORMAT
    except (OSError, ValueError, AttributeError, UnicodeDecodeError):
        return False
