"""The action graph as an interactive plotly figure: the same layout and colours as the
picture, with the details of each node (rules, intents, arguments as recorded, the
redacted output) shown on hover. For notebooks and HTML reports.

Hover text is escaped: placeholders such as ``<EMAIL_ADDRESS_1>`` and whatever an attacker
wrote into a tool result are shown as text, never read as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import networkx as nx
import plotly.graph_objects as go

from firewall.view.actiongraph import Source, action_graph, denied_flows
from firewall.view.picture import EDGE_STYLES, node_colour, outcome

SYMBOLS = {"message": "circle", "call": "square", "result": "circle", "dataset": "hexagon"}
SIZES = {"message": 16, "call": 22, "result": 17, "dataset": 24}
_DASH = {"solid": "solid", "dotted": "dot", "dashed": "dash"}
_HOVER_CHARS = 300


def figure(source: Source | nx.MultiDiGraph, session: str | None = None) -> go.Figure:
    """An interactive figure of the session's action graph."""
    graph = source if isinstance(source, nx.MultiDiGraph) else action_graph(source, session)
    pos = {n: d["pos"] for n, d in graph.nodes(data=True)}
    stopped = {tuple(row["path"][-2:]) for row in denied_flows(graph)}
    traces: list[Any] = []
    for kind, style in EDGE_STYLES.items():
        edges = [(u, v) for u, v, k in graph.edges(data="kind") if k == kind]
        into_stopped = [e for e in edges if kind == "flows_to" and e in stopped]
        plain = [e for e in edges if e not in into_stopped]
        traces.append(_edge_trace(pos, plain, kind, style["edge_color"], style["width"], style))
        if into_stopped:
            traces.append(
                _edge_trace(pos, into_stopped, "flow into a stopped call", "#c00000", 3.5, style)
            )
    for kind, symbol in SYMBOLS.items():
        nodes = [n for n, d in graph.nodes(data=True) if d["kind"] == kind]
        if not nodes:
            continue
        traces.append(
            go.Scatter(
                x=[pos[n][0] for n in nodes],
                y=[pos[n][1] for n in nodes],
                mode="markers+text" if kind in ("call", "dataset") else "markers",
                name=kind + "s",
                marker={
                    "symbol": symbol,
                    "size": SIZES[kind],
                    "color": [node_colour(graph.nodes[n]) for n in nodes],
                    "line": {"color": "#333333", "width": 1},
                },
                text=[html.escape(str(graph.nodes[n]["label"])) for n in nodes],
                textposition="top center" if kind == "call" else "bottom center",
                hovertext=[hover(graph.nodes[n]) for n in nodes],
                hoverinfo="text",
            )
        )
    result = go.Figure(traces)
    result.update_layout(
        title="Action graph (hover a node for its details)",
        plot_bgcolor="white",
        xaxis={"visible": False},
        yaxis={"visible": False},
        height=480,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h"},
    )
    return result


def hover(data: Mapping[str, Any]) -> str:
    """The details of one node, escaped, lines joined with ``<br>``."""
    kind = data["kind"]
    if kind == "call":
        lines = [
            f"<b>{_e(data['tool'])}</b>: {_e(outcome(data))}",
            f"intents: {_e(', '.join(data.get('intents') or ()) or '-')}",
            f"rules: {_e(', '.join(data.get('rules') or ()) or '-')}",
            f"arguments: {_e(_short(data.get('arguments')))}",
        ]
        if isinstance(data.get("elapsed_ms"), int | float):
            lines.append(f"decided in {data['elapsed_ms']:.2f} ms")
    elif kind == "result":
        lines = [
            f"<b>{_e(data.get('tool'))} result</b>",
            f"labels: {_e(', '.join(data.get('labels') or ()) or '-')}",
            f"output: {_e(_short(data.get('output')))}",
        ]
    elif kind == "message":
        lines = [f"<b>{_e(data['role'])} message</b>", _e(_short(data.get("text")))]
    else:
        lines = [f"<b>{_e(data['dataset_kind'])} {_e(data['name'])}</b>"]
    return "<br>".join(lines)


def _edge_trace(
    pos: Mapping[str, Any],
    edges: list[tuple[str, str]],
    name: str,
    colour: str,
    width: float,
    style: Mapping[str, Any],
) -> go.Scatter:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for u, v in edges:
        xs += [pos[u][0], pos[v][0], None]
        ys += [pos[u][1], pos[v][1], None]
    return go.Scatter(
        x=xs,
        y=ys,
        mode="lines",
        name=name.replace("_", " "),
        line={"color": colour, "width": width, "dash": _DASH.get(style["style"], "solid")},
        hoverinfo="skip",
    )


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _HOVER_CHARS else text[: _HOVER_CHARS - 3] + "..."


def _e(value: Any) -> str:
    return html.escape(str(value))
