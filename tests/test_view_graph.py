"""The action graph of the demo run as a picture: every event drawn, time left to right,
the injected email's data drawn into the payment it tried, the same picture every time."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from matplotlib.patches import FancyArrowPatch
from PIL import Image

from firewall.traceview import from_graphs, load_trace
from firewall.view import action_graph, denied_flows, draw, positions, save_png, to_png
from firewall.view.picture import VERDICT_COLOURS


@pytest.fixture(scope="module")
def demo_trace(tmp_path_factory) -> Path:
    from firewall.demo import run

    path = tmp_path_factory.mktemp("demo") / "trace.jsonl"
    run(io.StringIO(), trace_path=path)
    return path


def kinds(graph) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, data in graph.nodes(data=True):
        counts[data["kind"]] = counts.get(data["kind"], 0) + 1
    return counts


def node_of(graph, kind: str, tool: str) -> str:
    return next(n for n, d in graph.nodes(data=True) if d["kind"] == kind and d["tool"] == tool)


def test_one_node_per_call_result_message_and_dataset(demo_trace):
    trace = load_trace(demo_trace)
    graph = action_graph(trace)
    datasets = {d["id"] for c in trace.calls for d in c.get("datasets") or ()}
    messages = [e for e in trace.events if e["type"] == "message"]
    assert kinds(graph) == {
        "call": len(trace.calls),
        "result": len(trace.results),
        "dataset": len(datasets),
        "message": len(messages),
    }
    assert "table:orders" in graph and graph.nodes["table:orders"]["dataset_kind"] == "table"


def test_layout_runs_in_time_order(demo_trace):
    graph = action_graph(load_trace(demo_trace))
    pos = positions(graph)
    calls = sorted(
        (d["seq"], n) for n, d in graph.nodes(data=True) if d["kind"] in ("call", "result")
    )
    xs = [pos[n][0] for _, n in calls]
    assert xs == sorted(xs), "events further right happened later"
    for src, dst, kind in graph.edges(data="kind"):
        if kind in ("produces", "flows_to"):
            assert pos[src][0] < pos[dst][0], f"{src} -{kind}-> {dst} points back in time"
    lanes = {d["kind"]: pos[n][1] for n, d in graph.nodes(data=True)}
    assert lanes["message"] > lanes["call"] > lanes["result"] > lanes["dataset"]


def test_same_input_same_positions_live_or_from_the_trace_file(demo_trace, tmp_path):
    first = positions(action_graph(load_trace(demo_trace)))
    assert positions(action_graph(load_trace(demo_trace))) == first
    # The live session graph of a new run draws exactly as its trace file does.
    from firewall.demo import SESSION, run

    firewall = run(io.StringIO(), directory=tmp_path).firewall
    assert positions(action_graph(firewall.graph(SESSION))) == first
    assert positions(action_graph(from_graphs(firewall.graph(SESSION)))) == first


def test_the_injected_email_is_traced_to_the_denied_payment(demo_trace):
    graph = action_graph(load_trace(demo_trace))
    payment = node_of(graph, "call", "send_money")
    mail = node_of(graph, "result", "read_email")
    assert graph.nodes[payment]["verdict"] == "deny"
    assert set(graph.nodes[mail]["labels"]) >= {"untrusted", "pii"}
    rows = [r for r in denied_flows(graph) if r["call"] == payment]
    from_mail = [r for r in rows if r["path"][-2:] == [mail, payment]]
    assert len(from_mail) == 1 and "recipient" in from_mail[0]["argument"].split(", ")
    assert from_mail[0]["source"] == "read_email result [pii, untrusted]"


def stopped_flow_edges(graph) -> int:
    """flows_to edges into calls that did not run: each is drawn as one red arrow."""
    return sum(
        1
        for _, dst, kind in graph.edges(data="kind")
        if kind == "flows_to" and graph.nodes[dst].get("verdict") != "allow"
    )


def test_picture_is_a_real_png_and_the_stopped_flows_are_drawn_red(demo_trace, tmp_path):
    trace = load_trace(demo_trace)
    figure = draw(trace)
    arrows = [p for p in figure.axes[0].patches if isinstance(p, FancyArrowPatch)]
    red = [a for a in arrows if a.get_edgecolor()[:3] == (0.7529411764705882, 0.0, 0.0)]
    assert len(red) == stopped_flow_edges(action_graph(trace)) >= 2
    # Calls are coloured by verdict.
    colours = {
        tuple(round(c, 3) for c in fc[:3])
        for coll in figure.axes[0].collections
        for fc in coll.get_facecolors()
    }
    for verdict in ("allow", "deny"):
        hex_colour = VERDICT_COLOURS[verdict].lstrip("#")
        rgb = tuple(round(int(hex_colour[i : i + 2], 16) / 255, 3) for i in (0, 2, 4))
        assert rgb in colours

    path = save_png(trace, tmp_path / "demo-graph.png")
    image = Image.open(path)
    assert image.format == "PNG"
    width, height = image.size
    assert width >= 900 and height >= 500
    extrema = image.convert("L").getextrema()
    assert extrema[0] < 60 and extrema[1] > 200, "the picture has ink on it"
    assert to_png(draw(trace)) == path.read_bytes(), "the same trace draws the same bytes"


def test_a_trace_with_several_sessions_asks_which(demo_trace):
    events = load_trace(demo_trace).events
    other = [{**e, "session": "other"} for e in events]
    with pytest.raises(ValueError, match="pass session="):
        action_graph(events + other)
    assert kinds(action_graph(events + other, session="other")) == kinds(action_graph(events))


def test_interactive_figure_has_every_node_with_escaped_details(demo_trace):
    from firewall.view import figure

    graph = action_graph(load_trace(demo_trace))
    fig = figure(graph)
    markers = [t for t in fig.data if t.mode and "markers" in t.mode]
    assert sum(len(t.x) for t in markers) == graph.number_of_nodes()
    drawn = {(x, y) for t in markers for x, y in zip(t.x, t.y, strict=True)}
    assert drawn == set(positions(graph).values())  # the same layout as the picture
    hovers = "\n".join(h for t in markers for h in t.hovertext)
    payment = next(h for t in markers for h in t.hovertext if h.startswith("<b>send_money"))
    assert "payment-recipient-from-untrusted-content" in payment
    assert "&lt;IBAN_CODE_1&gt;" in payment  # a placeholder shown as text, not eaten as a tag
    assert "<IBAN_CODE" not in hovers and "<script" not in hovers
    stopped = [t for t in fig.data if t.name == "flow into a stopped call"]
    gaps = len([x for x in stopped[0].x if x is None]) if stopped else 0
    assert gaps == stopped_flow_edges(graph) >= 2


def test_tracing_back_stays_linear_on_a_graph_with_very_many_paths():
    # 30 layers of 2 results, each call fed by both results of the layer before: 2**30 paths.
    events, seq = [], 0
    previous: list[str] = []
    for layer in range(30):
        layer_results = []
        for i in range(2):
            seq += 1
            call = f"c{seq}"
            flows = [{"from": r, "argument": "x"} for r in previous]
            events.append(
                {
                    "type": "call",
                    "seq": seq,
                    "node": call,
                    "tool": f"t{layer}_{i}",
                    "call_id": call,
                    "verdict": "allow",
                    "flows": flows,
                }
            )
            seq += 1
            events.append(
                {
                    "type": "result",
                    "seq": seq,
                    "node": f"r{seq}",
                    "tool": f"t{layer}_{i}",
                    "call_id": call,
                    "labels": ["untrusted"] if layer == 0 else [],
                }
            )
            layer_results.append(f"r{seq}")
        previous = layer_results
    seq += 1
    events.append(
        {
            "type": "call",
            "seq": seq,
            "node": "pay",
            "tool": "send_money",
            "verdict": "deny",
            "flows": [{"from": r, "argument": "to"} for r in previous],
        }
    )
    rows = denied_flows(action_graph(events))
    assert rows and all(r["path"][-1] == "pay" for r in rows)
    assert any("untrusted" in r["labels"] for r in rows)
