"""The action graph: what an agent session did, to which data, and where its arguments came from.

Nodes are the session, user and model messages, tool calls (with their decision), tool
results (with labels such as ``pii``, ``secret``, ``untrusted``) and datasets (tables,
files, hosts). Edges say a message *proposes* a call, a call *produces* a result, a call
*reads* or *writes* a dataset, and a result or message *flows_to* the argument of a later
call that uses its data (found by value, see ``firewall.provenance``).

Each session keeps a bounded number of events; the oldest are evicted together with
their index entries, so memory stays bounded and lookups stay constant-time.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from firewall.callflow import PreparedCall, lookup_call, prepare_call
from firewall.conditions import FLOW_CALL_FIELDS
from firewall.fieldlabels import FieldLabels
from firewall.flowkeys import is_placeholder
from firewall.provenance import (
    MAX_RESULT_CHARS,
    PHRASE_LABELS,
    USER,
    ArgumentFlow,
    Holder,
    ValueIndex,
    index_text,
)

NodeKind = Literal["session", "message", "call", "result", "dataset"]
EdgeKind = Literal["proposes", "produces", "reads", "writes", "flows_to"]

#: Keys of ``flow`` that describe the whole call; an argument with one of these names is
#: still reachable as ``flow.arguments.<name>``.
CALL_WIDE = ("arguments", *sorted(FLOW_CALL_FIELDS))

DEFAULT_MAX_EVENTS = 250_000
DEFAULT_MAX_SESSIONS = 1024
_MAX_DATASETS = 10_000


@dataclass
class Node:
    """One node. ``attrs`` holds what the node is about (tool, verdict, role, ...)."""

    id: str
    kind: NodeKind
    seq: int
    attrs: dict[str, Any] = field(default_factory=dict)
    labels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Edge:
    src: str
    kind: EdgeKind
    dst: str
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Provenance:
    """Where each argument of one call came from; ``as_flow()`` is the CEL variable ``flow``.

    ``recipients`` holds one record per address in the arguments a message tool declares
    as recipients; ``truncated`` says part of the call or of the session was not indexed.
    """

    arguments: dict[str, ArgumentFlow]
    recipients: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def as_flow(self) -> dict[str, Any]:
        per_arg = {name: flow.as_dict() for name, flow in self.arguments.items()}
        labels: set[str] = set()
        foreign: set[str] = set()
        values: set[str] = set()
        tools: set[str] = set()
        truncated = self.truncated
        for flow in self.arguments.values():
            labels.update(flow.labels)
            values.update(flow.value_labels)
            tools.update(flow.tools)
            foreign |= flow.foreign_labels()
            truncated = truncated or flow.truncated
        view: dict[str, Any] = {n: v for n, v in per_arg.items() if n not in CALL_WIDE}
        view["arguments"] = per_arg
        view["any_labels"] = sorted(labels - {USER})
        view["any_tools"] = sorted(tools)
        # Labels reaching leaves the user did not write: what an injection looks like.
        view["foreign_labels"] = sorted(foreign)
        # Of those, the labels of values (addresses, links, accounts), not copied phrases.
        view["value_labels"] = sorted(values - {USER})
        view["all_from_user"] = bool(self.arguments) and all(
            f.from_user for f in self.arguments.values()
        )
        view["recipients"] = list(self.recipients)
        view["truncated"] = truncated
        return view


#: What ``flow.<argument>`` is for an argument the call does not have: nothing found.
EMPTY_ARGUMENT: dict[str, Any] = ArgumentFlow().as_dict()


def with_missing_arguments(flow: dict[str, Any], projection: Any) -> dict[str, Any]:
    """``flow`` with an empty record for each argument a condition reads that the call
    lacks (``flow.cc`` of a mail without ``cc``): nothing found, not an error."""
    if not isinstance(projection, Mapping):
        return flow
    for name in projection:
        if name not in flow and name not in CALL_WIDE:
            flow[name] = EMPTY_ARGUMENT
    named = projection.get("arguments")
    if isinstance(named, Mapping) and isinstance(flow.get("arguments"), dict):
        flow["arguments"] = dict(flow["arguments"])
        for name in named:
            flow["arguments"].setdefault(name, EMPTY_ARGUMENT)
    return flow


EMPTY_FLOW = Provenance(arguments={}).as_flow()


class SessionGraph:
    """The graph of one session. Thread-safe: one lock per session."""

    def __init__(self, session: str | None, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self.session = session
        self.max_events = max_events
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._nodes: OrderedDict[str, Node] = OrderedDict()
        self._out: dict[str, list[Edge]] = {}
        #: Calls whose flows_to edges are not traced yet: node id -> arguments.
        self._unsettled: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._datasets: OrderedDict[str, Node] = OrderedDict()
        self._index = ValueIndex()
        #: Results indexed only in part (longer than ``MAX_RESULT_CHARS``).
        self._truncated: set[str] = set()
        self._calls_by_id: dict[str, str] = {}
        self._last_call_of_tool: dict[str, str] = {}
        self._last_assistant: str | None = None
        self._events = 0
        self.root = Node(id="session", kind="session", seq=0, attrs={"session": session})

    # -- recording ----------------------------------------------------------------------

    def add_message(self, role: str, text: Any) -> Node:
        """A user or model message; values in a user's message are marked ``user``."""
        if role not in ("user", "assistant", "system"):
            raise ValueError(f"role must be user, assistant or system, not {role!r}")
        # Cutting the text is the costly part: done before taking the session's lock.
        indexed = index_text(text, user=role == "user")
        with self._lock:
            node = self._new("message", "m", {"role": role, "text": text})
            if role == "assistant":
                self._last_assistant = node.id
            self._index.add(Holder(node.id, user=role == "user"), indexed.keys)
            self._evict()
            return node

    def add_call(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        call_id: str | None = None,
        verdict: str = "",
        policy_verdict: str | None = None,
        rules: tuple[str, ...] = (),
        intents: tuple[str, ...] = (),
        principal: Any = None,
        context: Mapping[str, Any] | None = None,
        facts: Mapping[str, Any] | None = None,
        provenance: Provenance | None = None,
    ) -> Node:
        """A decided tool call, its flows_to edges and its dataset reads/writes."""
        with self._lock:
            node = self._new(
                "call",
                "c",
                {
                    "tool": tool,
                    "call_id": call_id,
                    "arguments": dict(arguments),
                    "verdict": verdict,
                    "policy_verdict": policy_verdict or verdict,
                    "rules": list(rules),
                    "intents": list(intents),
                    "principal": _principal(principal),
                    "context": dict(context or {}),
                },
            )
            if call_id:
                self._calls_by_id[call_id] = node.id
            self._last_call_of_tool[tool] = node.id
            if self._last_assistant is not None and self._last_assistant in self._nodes:
                self._edge(self._last_assistant, "proposes", node.id)
            if provenance is not None:
                self._flow_edges(node, provenance)
            else:
                # Tracing values costs time on every call; when no rule needed it, it is
                # done when the graph is read (see ``_settle_flows``).
                self._unsettled[node.id] = dict(arguments)
            for kind, name in datasets_of(facts or {}):
                dataset = self._dataset(kind, name)
                edge = "writes" if kind.endswith("+w") else "reads"
                self._edge(node.id, edge, dataset.id, allowed=verdict == "allow")
            self._evict()
            return node

    def add_result(
        self,
        output: Any,
        *,
        tool: str | None = None,
        call_id: str | None = None,
        labels: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
        original: Any = None,
        field_labels: FieldLabels | None = None,
        value_labels: Mapping[str, Iterable[str]] | None = None,
    ) -> Node:
        """A tool's (redacted) output. ``original`` is the unredacted output, indexed by
        digest only, so a value the model later restores from a placeholder is traced here.

        ``labels`` apply to the whole output; ``field_labels`` (the tool's declaration)
        adds labels per field; ``value_labels`` (label -> texts, e.g. the values redaction
        found and their placeholders) label only the keys of those texts, so the rest of
        the output keeps just its origin. The output is indexed up to ``MAX_RESULT_CHARS``
        (the node says ``truncated`` beyond), before the session's lock is taken.
        """
        base = frozenset(labels)
        groups = (field_labels or FieldLabels()).groups(output, base)
        if original is not None:
            groups += (field_labels or FieldLabels()).groups(original, base)
        budget = [MAX_RESULT_CHARS]
        texts = [
            (found, index_text(part, phrases=bool(found & PHRASE_LABELS), budget=budget))
            for found, part in groups
        ]
        truncated = any(i.truncated for _, i in texts)
        indexed = [(found, i.keys) for found, i in texts]
        all_labels = frozenset().union(*(g for g, _ in groups)) if groups else base
        if value_labels:
            indexed = _with_value_labels(indexed, value_labels, all_labels)
            all_labels |= frozenset(value_labels)
        with self._lock:
            call_node = self._calls_by_id.get(call_id) if call_id else None
            if call_node is None and tool is not None:
                call_node = self._last_call_of_tool.get(tool)
            if tool is None and call_node in self._nodes:
                tool = self._nodes[call_node].attrs.get("tool")
            attrs = {"tool": tool, "call_id": call_id, "output": output, "truncated": truncated}
            if value_labels:
                # The placeholders that carry a label (never the values): a trace replays them.
                attrs["value_labels"] = _placeholders_by_label(value_labels)
            node = self._new("result", "r", attrs, all_labels)
            if call_node is not None and call_node in self._nodes:
                self._edge(call_node, "produces", node.id)
            for group_labels, keys in indexed:
                self._index.add(Holder(node.id, labels=group_labels, tool=tool), keys)
            if truncated:
                self._truncated.add(node.id)
            self._evict()
            return node

    # -- reading ------------------------------------------------------------------------

    def provenance(
        self,
        arguments: Mapping[str, Any],
        recipients: tuple[str, ...] = (),
        written: Mapping[str, Any] | None = None,
    ) -> Provenance:
        """Where each argument value came from, by value; cost independent of history.

        ``recipients`` names the arguments holding message recipients: each address in
        them gets its own record. ``written`` is the arguments as the model wrote them,
        when the firewall restored placeholders in them: a leaf also carries what its
        placeholders carry (a name restored into a sentence has no key of its own).
        The keys are computed before the lock is taken.
        """
        prepared = prepare_call(arguments, recipients, written)
        with self._lock:
            return self._lookup(prepared)

    def nodes(self, kind: NodeKind | None = None) -> list[Node]:
        with self._lock:
            items = [self.root, *self._datasets.values(), *self._nodes.values()]
        return [n for n in items if kind is None or n.kind == kind]

    def node(self, node_id: str) -> Node | None:
        with self._lock:
            return self._nodes.get(node_id) or self._datasets.get(node_id)

    def edges(self, kind: EdgeKind | None = None) -> list[Edge]:
        with self._lock:
            self._settle_flows()
            items = [e for edges in self._out.values() for e in edges]
        return [e for e in items if kind is None or e.kind == kind]

    def events(self) -> Iterator[Node]:
        """Messages, calls and results in the order they happened."""
        with self._lock:
            items = list(self._nodes.values())
        yield from items

    def __len__(self) -> int:
        return self._events

    def _repr_html_(self) -> str:
        from firewall.view.html import graph_html

        return graph_html(self)

    # -- internals ----------------------------------------------------------------------

    def _flow_edges(self, node: Node, provenance: Provenance) -> None:
        """flows_to edges into ``node`` from the earlier nodes that held its argument values."""
        for argument, flow in provenance.arguments.items():
            for source in flow.sources:
                held = self._nodes.get(source)
                if held is not None and held.seq < node.seq:
                    self._edge(source, "flows_to", node.id, argument=argument)

    def _settle_flows(self) -> None:
        """Trace the calls recorded without provenance, against what came before each."""
        while self._unsettled:
            node_id, arguments = self._unsettled.popitem(last=False)
            node = self._nodes.get(node_id)
            if node is not None:
                self._flow_edges(node, self._lookup(prepare_call(arguments)))

    def _lookup(self, prepared: PreparedCall) -> Provenance:
        flows, recipients = lookup_call(self._index, prepared)
        return Provenance(flows, recipients, truncated=bool(self._truncated))

    def _new(
        self, kind: NodeKind, prefix: str, attrs: dict[str, Any], labels: Any = frozenset()
    ) -> Node:
        seq = next(self._counter)
        node = Node(id=f"{prefix}{seq}", kind=kind, seq=seq, attrs=attrs, labels=frozenset(labels))
        self._nodes[node.id] = node
        self._events += 1
        return node

    def _edge(self, src: str, kind: EdgeKind, dst: str, **attrs: Any) -> None:
        self._out.setdefault(src, []).append(Edge(src, kind, dst, attrs))

    def _dataset(self, kind: str, name: str) -> Node:
        base = kind.removesuffix("+w")
        node_id = f"{base}:{name}"
        node = self._datasets.get(node_id)
        if node is None:
            node = Node(id=node_id, kind="dataset", seq=0, attrs={"type": base, "name": name})
            self._datasets[node_id] = node
            if len(self._datasets) > _MAX_DATASETS:
                old, _ = self._datasets.popitem(last=False)
                self._out.pop(old, None)
        return node

    def _evict(self) -> None:
        if self._events <= self.max_events:
            return
        target = self.max_events - max(1, self.max_events // 10)
        while self._events > target and self._nodes:
            node_id, node = self._nodes.popitem(last=False)
            self._out.pop(node_id, None)
            self._unsettled.pop(node_id, None)
            self._index.remove(node_id)
            self._truncated.discard(node_id)
            call_id = node.attrs.get("call_id")
            if node.kind == "call" and call_id and self._calls_by_id.get(call_id) == node_id:
                del self._calls_by_id[call_id]
            tool = node.attrs.get("tool")
            if node.kind == "call" and self._last_call_of_tool.get(tool) == node_id:
                del self._last_call_of_tool[tool]
            self._events -= 1


def _placeholders_by_label(value_labels: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    out = {
        label: sorted(t for t in texts if is_placeholder(t))
        for label, texts in value_labels.items()
    }
    return {label: found for label, found in out.items() if found}


def _with_value_labels(
    indexed: list[tuple[frozenset[str], set[int]]],
    value_labels: Mapping[str, Iterable[str]],
    output_labels: frozenset[str],
) -> list[tuple[frozenset[str], set[int]]]:
    """``indexed`` with the keys of labelled values moved to groups that add their labels.

    A value's key found in a group keeps that group's labels and gains the value's; a key
    only the value alone yields (its whole text) gets every label of the output as well.
    Linear: one set intersection per group, then one step per key of a labelled value.
    """
    labels_of: dict[int, frozenset[str]] = {}
    for label, texts in value_labels.items():
        for key in index_text(list(texts)).keys:
            labels_of[key] = labels_of.get(key, frozenset()) | {label}
    if not labels_of:
        return indexed
    out: dict[frozenset[str], set[int]] = {}
    placed: set[int] = set()
    for group_labels, keys in indexed:
        held = keys & labels_of.keys()
        if held:
            placed |= held
            keys = keys - held
            for key in held:
                out.setdefault(group_labels | labels_of[key], set()).add(key)
        if keys:
            out.setdefault(group_labels, set()).update(keys)
    for key, labels in labels_of.items():
        if key not in placed:
            out.setdefault(output_labels | labels, set()).add(key)
    return list(out.items())


def _principal(principal: Any) -> dict[str, Any] | None:
    if principal is None:
        return None
    if isinstance(principal, str):
        return {"id": principal, "kind": "agent", "roles": []}
    if isinstance(principal, Mapping):
        return dict(principal)
    return {"id": principal.id, "kind": principal.kind, "roles": list(principal.roles)}


def datasets_of(facts: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of the datasets a call's facts name; kind ends in ``+w`` for a write.

    Reads ``facts.sql.tables_read`` / ``tables_written`` (the SQL classifier),
    ``facts.path.paths`` with ``operation`` (the path classifier) and ``facts.http.host``
    with ``method`` (the HTTP classifier: GET and HEAD read, anything else writes).
    """
    sql = facts.get("sql")
    if isinstance(sql, Mapping):
        for table in _names(sql.get("tables_read")):
            yield "table", table
        for table in _names(sql.get("tables_written")):
            yield "table+w", table
    path = facts.get("path")
    if isinstance(path, Mapping):
        suffix = "" if path.get("operation") == "read" else "+w"
        for name in _names(path.get("paths")):
            yield "file" + suffix, name
    http = facts.get("http")
    if isinstance(http, Mapping):
        method = str(http.get("method") or "GET").upper()
        suffix = "" if method in ("GET", "HEAD") else "+w"
        for host in _names(http.get("host")):
            yield "host" + suffix, host


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if isinstance(v, str) and v]
    return []


class GraphStore:
    """Session id -> ``SessionGraph``; the least recently used session is dropped past the cap."""

    def __init__(
        self, max_sessions: int = DEFAULT_MAX_SESSIONS, max_events: int = DEFAULT_MAX_EVENTS
    ) -> None:
        self.max_sessions = max_sessions
        self.max_events = max_events
        self._graphs: OrderedDict[str | None, SessionGraph] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: str | None) -> SessionGraph:
        """The graph of ``session``, created when new."""
        with self._lock:
            graph = self._graphs.get(session)
            if graph is None:
                graph = self._graphs[session] = SessionGraph(session, self.max_events)
                if len(self._graphs) > self.max_sessions:
                    self._graphs.popitem(last=False)
            else:
                self._graphs.move_to_end(session)
            return graph

    def find(self, session: str | None) -> SessionGraph | None:
        """The graph of ``session`` if it exists (never creates one)."""
        with self._lock:
            return self._graphs.get(session)

    def sessions(self) -> list[str | None]:
        with self._lock:
            return list(self._graphs)

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._graphs.pop(session, None)


class FlowLookup:
    """The provenance of one call, computed at most once and only when something asks.

    The engine hands one to the rules (the ``flow`` variable). When a rule asked, the same
    result gives the call's flows_to edges; when none did, the edges are traced when the
    graph is read, keeping the lookup off the path of calls no flow rule looks at.
    """

    __slots__ = ("_arguments", "_recipients", "_session", "_store", "_value", "_written")

    def __init__(
        self,
        store: GraphStore,
        session: str | None,
        arguments: Mapping[str, Any],
        recipients: tuple[str, ...] = (),
        written: Mapping[str, Any] | None = None,
    ):
        self._store = store
        self._session = session
        self._arguments = arguments
        self._recipients = recipients
        self._written = written
        self._value: Provenance | None = None

    def computed(self) -> Provenance | None:
        """The provenance if a rule already asked for it, else ``None`` (nothing is computed)."""
        return self._value

    def provenance(self) -> Provenance:
        if self._value is None:
            graph = self._store.find(self._session)
            if graph is None:
                graph = SessionGraph(self._session)  # no history: every value is unknown
            self._value = graph.provenance(self._arguments, self._recipients, self._written)
        return self._value

    def variable(self) -> dict[str, Any]:
        """The CEL variable ``flow``."""
        return self.provenance().as_flow()
