"""The action graph as a picture (matplotlib), for the demo, the notebook and reports.

Calls are squares coloured by verdict, results circles tinted by their labels, datasets
hexagons at the bottom, messages at the top; a thick red arrow is data that flowed into a
call the firewall stopped. Built on a ``matplotlib.figure.Figure`` (no pyplot state), so
it draws the same in a script, a test and a notebook.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from firewall.view.actiongraph import Source, action_graph, denied_flows

VERDICT_COLOURS = {"allow": "#2ca02c", "require_approval": "#f0a30a", "deny": "#d62728"}
RESULT_COLOURS = {"untrusted": "#fdae6b", "secret": "#fc9272", "pii": "#c6b8e0"}
MESSAGE_COLOUR = "#6baed6"
DATASET_COLOUR = "#d9c8a9"
PLAIN = "#e6e6e6"
SHAPES = {"message": "o", "call": "s", "result": "o", "dataset": "h"}
SIZES = {"message": 420, "call": 620, "result": 460, "dataset": 700}
EDGE_STYLES: Mapping[str, dict[str, Any]] = {
    "proposes": {"edge_color": "#9ecae1", "width": 1.0, "style": "solid"},
    "produces": {"edge_color": "#888888", "width": 1.2, "style": "solid"},
    "reads": {"edge_color": "#4a7fb5", "width": 1.0, "style": "dotted"},
    "writes": {"edge_color": "#7b4ea3", "width": 1.2, "style": "dashed"},
    "flows_to": {"edge_color": "#e6550d", "width": 1.8, "style": "solid"},
}
_LABEL_BOX = {"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none"}
FLOW_CURVE = "arc3,rad=0.2"
DATA_CURVE = "arc3,rad=0.08"


def node_colour(data: Mapping[str, Any]) -> str:
    """The fill of a node: verdict for calls, the most serious label for results."""
    kind = data["kind"]
    if kind == "call":
        return VERDICT_COLOURS.get(str(data.get("verdict")), PLAIN)
    if kind == "result":
        labels = set(data.get("labels") or ())
        return next((c for label, c in RESULT_COLOURS.items() if label in labels), PLAIN)
    if kind == "message":
        return MESSAGE_COLOUR
    return DATASET_COLOUR


def draw(
    source: Source | nx.MultiDiGraph,
    session: str | None = None,
    *,
    title: str | None = None,
    dpi: int = 110,
) -> Figure:
    """A figure of the session's action graph (``source``: trace view, session graph,
    events, or a graph from ``action_graph``)."""
    graph = source if isinstance(source, nx.MultiDiGraph) else action_graph(source, session)
    pos = {n: d["pos"] for n, d in graph.nodes(data=True)}
    columns = max((d["column"] for _, d in graph.nodes(data=True)), default=1)
    fig = Figure(figsize=(max(8.0, 1.05 * columns + 2.5), 5.2), dpi=dpi)
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.set_axis_off()

    stopped = {tuple(row["path"][-2:]) for row in denied_flows(graph)}
    _draw_edges(ax, graph, pos, stopped)
    for kind, shape in SHAPES.items():
        nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == kind]
        if not nodes:
            continue
        nx.draw_networkx_nodes(
            graph,
            pos,
            nodelist=nodes,
            node_shape=shape,
            node_size=SIZES[kind],
            node_color=[node_colour(graph.nodes[n]) for n in nodes],
            edgecolors="#333333",
            linewidths=0.8,
            ax=ax,
        )
    _draw_labels(ax, graph, pos)

    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.75, max(ys) + 0.6)
    fig.suptitle(title or _title(graph), x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.legend(
        handles=_legend(),
        loc="upper right",
        ncol=5,
        fontsize=7.5,
        frameon=False,
        bbox_to_anchor=(0.995, 0.995),
    )
    return fig


def to_png(figure: Figure) -> bytes:
    """The figure as PNG bytes (no timestamp in the file, so equal pictures are equal)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def save_png(source: Source | nx.MultiDiGraph, path: str | Path, **options: Any) -> Path:
    """Draw the action graph and write it as a PNG file; returns the path."""
    target = Path(path)
    target.write_bytes(to_png(draw(source, **options)))
    return target


def _draw_edges(ax: Any, graph: nx.MultiDiGraph, pos: Mapping[str, Any], stopped: set) -> None:
    for kind, style in EDGE_STYLES.items():
        edges = [(u, v) for u, v, k in graph.edges(data="kind") if k == kind]
        if kind in ("reads", "writes"):
            attempted = [(u, v) for u, v in edges if not _allowed(graph, u, v, kind)]
            edges = [e for e in edges if e not in attempted]
            _edges(ax, graph, pos, attempted, DATA_CURVE, **{**style, "edge_color": "#d62728"})
        if kind == "flows_to":
            into_stopped = [e for e in edges if e in stopped]
            edges = [e for e in edges if e not in stopped]
            _edges(
                ax,
                graph,
                pos,
                into_stopped,
                FLOW_CURVE,
                **{**style, "edge_color": "#c00000", "width": 3.2},
            )
        curve = FLOW_CURVE if kind == "flows_to" else DATA_CURVE if kind != "produces" else None
        _edges(ax, graph, pos, edges, curve, **style)
    arguments: dict[tuple[str, str], set[str]] = {}
    for u, v, d in graph.edges(data=True):
        if d["kind"] == "flows_to" and d.get("argument"):
            arguments.setdefault((u, v), set()).add(str(d["argument"]))
    # Several arguments fed by one result share one arrow: name them all on it.
    flows = {edge: ", ".join(sorted(names)) for edge, names in arguments.items()}
    if flows:
        nx.draw_networkx_edge_labels(
            graph,
            pos,
            edge_labels=flows,
            font_size=7.5,
            font_color="#7f2704",
            connectionstyle=FLOW_CURVE,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.45},
            ax=ax,
        )


def _edges(
    ax: Any,
    graph: nx.MultiDiGraph,
    pos: Mapping[str, Any],
    edges: list[tuple[str, str]],
    curve: str | None,
    **style: Any,
) -> None:
    if not edges:
        return
    nodes = list(graph)
    nx.draw_networkx_edges(
        graph,
        pos,
        edgelist=edges,
        nodelist=nodes,
        arrows=True,
        arrowsize=11,
        node_size=[SIZES[graph.nodes[n]["kind"]] for n in nodes],
        connectionstyle=curve or "arc3",
        ax=ax,
        **style,
    )


def _allowed(graph: nx.MultiDiGraph, u: str, v: str, kind: str) -> bool:
    return any(
        d.get("allowed", True) for d in graph.get_edge_data(u, v).values() if d["kind"] == kind
    )


def _draw_labels(ax: Any, graph: nx.MultiDiGraph, pos: Mapping[str, Any]) -> None:
    for node, data in graph.nodes(data=True):
        x, y = pos[node]
        kind = data["kind"]
        if kind == "message":
            ax.text(x, y + 0.22, data["label"], ha="center", va="bottom", fontsize=8)
        elif kind == "call":
            ax.text(
                x, y + 0.45, data["label"], ha="center", va="bottom", fontsize=8.5, weight="bold"
            ).set_bbox(_LABEL_BOX)
            ax.text(
                x,
                y + 0.22,
                outcome(data),
                ha="center",
                va="bottom",
                fontsize=7.5,
                color=VERDICT_COLOURS.get(str(data.get("verdict")), "#333333"),
                bbox=_LABEL_BOX,
            )
        elif kind == "result":
            ax.text(x, y - 0.2, data["label"], ha="center", va="top", fontsize=7.5)
        else:
            ax.text(
                x,
                y - 0.24,
                f"{data['name']}\n({data['dataset_kind']})",
                ha="center",
                va="top",
                fontsize=7.5,
            )


def outcome(call: Mapping[str, Any]) -> str:
    """A call's verdict in words, saying when a person answered: ``approved``, ``refused``."""
    verdict = str(call.get("verdict") or "")
    if call.get("policy_verdict") == "require_approval" and verdict in ("allow", "deny"):
        return "approved" if verdict == "allow" else "refused"
    return {"allow": "allowed", "deny": "denied", "require_approval": "awaiting approval"}.get(
        verdict, verdict
    )


def _title(graph: nx.MultiDiGraph) -> str:
    calls = [d for _, d in graph.nodes(data=True) if d["kind"] == "call"]
    allowed = sum(d.get("verdict") == "allow" for d in calls)
    denied = sum(d.get("verdict") == "deny" for d in calls)
    held = len(calls) - allowed - denied
    text = f"Action graph: {len(calls)} calls, {allowed} allowed, {denied} denied"
    return text + (f", {held} awaiting approval" if held else "")


def _legend() -> list[Line2D]:
    def marker(shape: str, colour: str, label: str) -> Line2D:
        return Line2D(
            [],
            [],
            marker=shape,
            color="none",
            markerfacecolor=colour,
            markeredgecolor="#333333",
            markersize=8,
            label=label,
        )

    def line(colour: str, label: str, width: float = 1.6, style: str = "-") -> Line2D:
        return Line2D([], [], color=colour, linewidth=width, linestyle=style, label=label)

    return [
        marker("s", VERDICT_COLOURS["allow"], "call allowed"),
        marker("s", VERDICT_COLOURS["require_approval"], "awaiting approval"),
        marker("s", VERDICT_COLOURS["deny"], "call denied"),
        marker("o", MESSAGE_COLOUR, "message"),
        marker("h", DATASET_COLOUR, "table / file / host"),
        marker("o", RESULT_COLOURS["untrusted"], "result: untrusted"),
        marker("o", RESULT_COLOURS["pii"], "result: pii"),
        line(EDGE_STYLES["flows_to"]["edge_color"], "data flow into argument"),
        line("#c00000", "flow into a stopped call", width=3.0),
        line("#4a7fb5", "reads / writes", style=":"),
    ]
