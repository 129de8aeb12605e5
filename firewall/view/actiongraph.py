"""The action graph of one session as a networkx graph, laid out in time order.

Nodes are messages, calls, results and datasets (tables, files, hosts); edges are
``proposes`` (message -> call), ``produces`` (call -> result), ``reads`` / ``writes``
(call -> dataset) and ``flows_to`` (result or message -> the argument of a later call that
used its data). Built from trace events, so a trace file, an audit log and a live
``SessionGraph`` all draw the same way.

The layout is a pure function of the events: time runs left to right, one column per
step; messages sit above the calls they propose, results below and to the right of the
call that produced them, datasets along the bottom under the calls that touched them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from firewall.graph import SessionGraph
from firewall.traceview import TraceView, from_graphs

#: Height of each lane; results sit half a column right of their call.
LANES = {"message": 1.3, "call": 0.0, "result": -1.1, "dataset": -2.3}
RESULT_SHIFT = 0.45
#: A message sits a little left of the call it proposes (its data can flow into that call),
#: a result half a column right of its call.
SHIFT = {"message": -0.25, "result": RESULT_SHIFT}
#: Datasets closer than this (in columns) are pushed apart, left to right.
DATASET_GAP = 1.0
#: Chains listed per stopped call at most (``trace_back``).
MAX_CHAINS = 50

Source = TraceView | SessionGraph | Iterable[Mapping[str, Any]]


def events_of(source: Source, session: str | None = None) -> list[dict[str, Any]]:
    """The events of one session, in order, from a trace view, a session graph or events."""
    if isinstance(source, SessionGraph):
        events = from_graphs(source).events
    elif isinstance(source, TraceView):
        events = source.events
    else:
        events = [dict(e) for e in source]
    sessions = list(dict.fromkeys(e.get("session") for e in events))
    if session is None and len(sessions) > 1:
        raise ValueError(f"the trace holds {len(sessions)} sessions {sessions}: pass session=")
    if session is not None:
        events = [e for e in events if e.get("session") == session]
    return sorted(events, key=lambda e: (e.get("seq") is None, e.get("seq") or 0))


def action_graph(source: Source, session: str | None = None) -> nx.MultiDiGraph:
    """The session as a directed multigraph; node attributes say what to draw.

    Every node has ``kind``, ``label`` and ``pos`` (x, y); calls have ``tool``,
    ``verdict``, ``rules``, ``intents`` and ``arguments`` (as the trace holds them:
    redacted or hashed); results ``tool``, ``labels`` and ``output``; messages ``role`` and
    ``text``; datasets ``name`` and ``dataset_kind``. Edges have ``kind`` and, for
    ``flows_to``, ``argument``.
    """
    graph = nx.MultiDiGraph()
    calls_by_id: dict[str, str] = {}
    last_call_of_tool: dict[str, str] = {}
    last_assistant: str | None = None
    column = 0
    open_column = False  # a message's column waits for the call it proposes
    touched: dict[str, list[int]] = {}
    for event in events_of(source, session):
        kind = event.get("type")
        node = str(event.get("node") or f"e{event.get('seq')}")
        if kind == "message":
            column += 1
            open_column = True
            role = str(event.get("role") or "message")
            graph.add_node(
                node,
                kind="message",
                role=role,
                text=event.get("text"),
                seq=event.get("seq"),
                label=role,
                column=column,
            )
            if role == "assistant":
                last_assistant = node
        elif kind == "call":
            if not open_column:
                column += 1
            open_column = False
            tool = str(event.get("tool") or "?")
            verdict = str(event.get("verdict") or "")
            graph.add_node(
                node,
                kind="call",
                tool=tool,
                verdict=verdict,
                policy_verdict=event.get("policy_verdict"),
                rules=list(event.get("rules") or ()),
                intents=list(event.get("intents") or ()),
                arguments=event.get("arguments"),
                elapsed_ms=event.get("elapsed_ms"),
                seq=event.get("seq"),
                label=tool,
                column=column,
            )
            if event.get("call_id"):
                calls_by_id[str(event["call_id"])] = node
            last_call_of_tool[tool] = node
            if last_assistant is not None:
                graph.add_edge(last_assistant, node, kind="proposes")
            for flow in event.get("flows") or ():
                source_node = str(flow.get("from"))
                if source_node in graph:
                    graph.add_edge(
                        source_node, node, kind="flows_to", argument=flow.get("argument")
                    )
            for dataset in event.get("datasets") or ():
                name = str(dataset.get("id"))
                if name not in graph:
                    dataset_kind, _, short = name.partition(":")
                    graph.add_node(
                        name,
                        kind="dataset",
                        dataset_kind=dataset_kind if short else "dataset",
                        name=short or name,
                        label=short or name,
                        column=column,
                    )
                touched.setdefault(name, []).append(column)
                access = "writes" if dataset.get("access") == "writes" else "reads"
                graph.add_edge(node, name, kind=access, allowed=verdict == "allow")
        elif kind == "result":
            tool = event.get("tool")
            producer = calls_by_id.get(str(event.get("call_id"))) if event.get("call_id") else None
            if producer is None and tool is not None:
                producer = last_call_of_tool.get(str(tool))
            if producer is None:
                column += 1
            labels = sorted(event.get("labels") or ())
            graph.add_node(
                node,
                kind="result",
                tool=tool,
                labels=labels,
                output=event.get("output"),
                seq=event.get("seq"),
                label="result" + (f"\n{', '.join(labels)}" if labels else ""),
                column=graph.nodes[producer]["column"] if producer else column,
            )
            if producer is not None:
                graph.add_edge(producer, node, kind="produces")
    for _, data in graph.nodes(data=True):
        x = float(data["column"]) + SHIFT.get(data["kind"], 0.0)
        data["pos"] = (x, LANES[data["kind"]])
    _place_datasets(graph, touched)
    return graph


def _place_datasets(graph: nx.MultiDiGraph, touched: Mapping[str, list[int]]) -> None:
    """Each dataset under the middle of the calls that touched it, none closer than a gap."""
    wanted = sorted((sum(cols) / len(cols), name) for name, cols in touched.items())
    previous = float("-inf")
    for x, name in wanted:
        x = max(x, previous + DATASET_GAP)
        graph.nodes[name]["pos"] = (x, LANES["dataset"])
        previous = x


def positions(graph: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Node -> (x, y): the layout the picture uses."""
    return {node: data["pos"] for node, data in graph.nodes(data=True)}


def trace_back(graph: nx.MultiDiGraph, call: str, limit: int = MAX_CHAINS) -> list[list[str]]:
    """Chains of data into ``call``, back to where it entered the session.

    Follows ``flows_to`` (data into an argument) and ``produces`` (a result from its call)
    backwards; a chain ends at a message, or at a result whose call used no earlier data.
    Each chain is listed from the source to ``call``. Every node is walked once, so the
    cost stays linear in the graph however many paths it has (a node reached again is
    not listed twice), and at most ``limit`` chains are returned.
    """
    chains: list[list[str]] = []
    seen = {call}
    stack: list[list[str]] = [[call]]
    while stack and len(chains) < limit:
        chain = stack.pop()
        parents = sorted(
            {
                src
                for src, _, kind in graph.in_edges(chain[-1], data="kind")
                if kind in ("flows_to", "produces")
            },
            key=_seq_key(graph),
            reverse=True,  # popped earliest first
        )
        fresh = [p for p in parents if p not in seen]
        if not parents and len(chain) > 1:
            chains.append(chain[::-1])
        for parent in fresh:
            seen.add(parent)
            stack.append([*chain, parent])
    return chains


def denied_flows(graph: nx.MultiDiGraph) -> list[dict[str, Any]]:
    """The data that reached calls which did not run, traced to its source.

    One row per chain: the stopped call, the argument the data went into, the result or
    message where the data entered the session, the chain as text and its labels.
    """
    rows = []
    for node, data in sorted(graph.nodes(data=True), key=lambda n: _seq_key(graph)(n[0])):
        if data["kind"] != "call" or data.get("verdict") == "allow":
            continue
        for chain in trace_back(graph, node):
            into = chain[-2]
            arguments = sorted(
                {
                    str(edge.get("argument"))
                    for edge in graph.get_edge_data(into, node, default={}).values()
                    if edge.get("kind") == "flows_to"
                }
            )
            labels = sorted({lab for n in chain for lab in graph.nodes[n].get("labels", ())})
            entered = next(
                (n for n in chain if graph.nodes[n]["kind"] in ("result", "message")), chain[0]
            )
            rows.append(
                {
                    "call": node,
                    "tool": data["tool"],
                    "verdict": data["verdict"],
                    "argument": ", ".join(arguments),
                    "source": describe(graph, entered),
                    "chain": " -> ".join(describe(graph, n) for n in chain),
                    "labels": ", ".join(labels),
                    "path": chain,
                }
            )
    return rows


def describe(graph: nx.MultiDiGraph, node: str) -> str:
    """A node in a few words: ``read_email result [pii, untrusted]``, ``send_money [deny]``."""
    data = graph.nodes[node]
    kind = data["kind"]
    if kind == "call":
        return f"{data['tool']} [{data['verdict']}]"
    if kind == "result":
        labels = data.get("labels") or ()
        return f"{data.get('tool')} result" + (f" [{', '.join(labels)}]" if labels else "")
    if kind == "message":
        return f"{data['role']} message"
    return f"{data['dataset_kind']} {data['name']}"


def _seq_key(graph: nx.MultiDiGraph):
    def key(node: str) -> tuple[float, str]:
        seq = graph.nodes[node].get("seq")
        return (float(seq) if isinstance(seq, int | float) else float("inf"), node)

    return key
