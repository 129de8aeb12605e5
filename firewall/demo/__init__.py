"""The demo: a shop's support agent, a LangChain ``create_agent`` loop, working on a real
SQLite database with the firewall as its middleware.

No model API is needed: the chat model is scripted, including the moves a prompt
injection hidden in a customer's email causes (with ``OPENAI_API_KEY`` set, a real model
takes its place). Every tool call goes through ``Firewall.check()``; only allowed calls
touch the database, and everything a tool returns passes ``Firewall.after()`` before the
model sees it. The run leaves its audit log, its JSONL trace and a picture of its action
graph in the output directory.

Run: ``make demo`` (or ``python -m firewall.demo``; ``--interactive`` to answer the
approvals yourself).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from firewall import (
    ApprovalRequest,
    Approver,
    CallbackApprover,
    ConsolePromptApprover,
    Firewall,
    Principal,
    SessionGraph,
    load_policy,
)
from firewall.audit import AuditSink, VerifyReport, verify
from firewall.audit.scrub import redactor_for
from firewall.demo.console import Reporter, Summary, reporter_for
from firewall.demo.shop import USER_PROMPT, ShopTools, build_shop
from firewall.export.jsonl import write_trace

POLICY = Path(__file__).resolve().parent.parent.parent / "policies" / "default.yaml"
SESSION = "demo-session"
AGENT = Principal(id="support-bot", kind="agent", roles=("support", "finance"))
CONTEXT = {"env": "staging", "tenant": "demo-shop"}
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass
class DemoRun:
    """What a run leaves behind: the firewall (with its session graph) and the files."""

    firewall: Firewall
    tools: ShopTools
    directory: Path
    audit_path: Path
    trace_path: Path
    graph_path: Path | None
    verified: VerifyReport
    #: The chat model that played the agent (the scripted one keeps a ``transcript``).
    model: Any = None

    @property
    def graph(self) -> SessionGraph:
        """The session's action graph (displays itself in a notebook)."""
        return self.firewall.graph(SESSION)


def support_lead(request: ApprovalRequest) -> bool:
    """The person on duty: approves replies to customers, nothing else."""
    return request.call.name == "send_email"


class TerminalApprover:
    """Asks the person at the terminal, with the live table paused while they answer."""

    def __init__(
        self, reporter: Reporter, answers: TextIO | None = None, timeout: float = 120.0
    ) -> None:
        self.reporter = reporter
        self.asker = ConsolePromptApprover(timeout=timeout, input_stream=answers, name="you")

    def request(self, request: ApprovalRequest) -> Any:
        with self.reporter.paused():
            return self.asker.request(request)


def run(
    out: TextIO | None = None,
    trace_path: str | Path | None = None,
    *,
    directory: str | Path | None = None,
    interactive: bool = False,
    picture: bool = True,
    model: Any = None,
    answers: TextIO | None = None,
    svg: str | Path | None = None,
) -> DemoRun:
    """Run the session; files go to ``directory`` (a new temporary one when not given).

    ``model`` is a LangChain chat model; by default the scripted one plays the scenario.
    ``interactive`` asks a person about held calls (reading ``answers``, else the
    terminal); otherwise the scripted support lead approves replies to customers only.
    ``svg`` also saves the terminal output as a picture.
    """
    from firewall.demo.agent import ScriptedChatModel, build_agent, drive

    where = Path(directory) if directory is not None else Path(tempfile.mkdtemp("-firewall-demo"))
    where.mkdir(parents=True, exist_ok=True)
    for name in ("shop.db", "audit.db"):  # a new shop and a new chain on every run
        for suffix in ("", "-wal", "-shm"):
            (where / (name + suffix)).unlink(missing_ok=True)
    reporter = reporter_for(out if out is not None else sys.stdout, record=svg is not None)
    tools = ShopTools(build_shop(where / "shop.db"))
    approver: Approver = (
        TerminalApprover(reporter, answers)
        if interactive
        else CallbackApprover(support_lead, name="support lead")
    )
    firewall = Firewall(load_policy(POLICY), approver=approver)
    audit_path = where / "audit.db"
    audit = AuditSink(audit_path, redactor=redactor_for(firewall))
    firewall.sinks.extend([audit, reporter])

    model = model if model is not None else ScriptedChatModel()
    agent = build_agent(
        firewall, tools, principal=AGENT, context=CONTEXT, session=SESSION, model=model
    )
    reporter.start(USER_PROMPT)
    try:
        drive(agent, reporter, SESSION)
    except BaseException:
        reporter.abort()
        tools.db.close()
        raise
    finally:
        audit.close()

    trace = Path(trace_path) if trace_path is not None else where / "trace.jsonl"
    # Arguments as the model wrote them, placeholders and all, passed through redaction.
    write_trace(firewall.graph(SESSION), trace, redactor=redactor_for(firewall))
    graph_path = None
    if picture:
        from firewall.view import save_png

        graph_path = save_png(firewall.graph(SESSION), where / "demo-graph.png")
    report = verify(str(audit_path))
    reporter.finish(
        Summary(
            calls=reporter.rows,
            database=tools.table_rows(),
            mail_sent=[m["to"] for m in tools.outbox],
            audit=f"{report.records} chained records, "
            + ("intact" if report.ok else f"BROKEN: {report.problems[0]}"),
            flows=stopped_flows(firewall),
            files=[str(p) for p in (audit_path, trace, graph_path) if p is not None],
        )
    )
    if svg is not None:
        reporter.save_svg(Path(svg))
    tools.db.close()
    return DemoRun(firewall, tools, where, audit_path, trace, graph_path, report, model)


def stopped_flows(firewall: Firewall) -> list[str]:
    """Data that reached a call the firewall stopped, in words."""
    try:
        from firewall.view import action_graph, denied_flows
    except ImportError:
        return []
    return [
        f"{row['source']} -> {row['tool']}.{row['argument']} [{row['verdict']}]"
        for row in denied_flows(action_graph(firewall.graph(SESSION)))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firewall.demo",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", default="demo-output", help="directory for the audit log, trace and picture"
    )
    parser.add_argument("--trace", help="write the JSONL trace here instead")
    parser.add_argument("--interactive", action="store_true", help="approve held calls yourself")
    parser.add_argument(
        "--model",
        help="OpenAI model when OPENAI_API_KEY is set "
        f"(default: $OPENAI_MODEL or {DEFAULT_OPENAI_MODEL}; $OPENAI_BASE_URL is used)",
    )
    parser.add_argument(
        "--scripted", action="store_true", help="the scripted model even with an API key"
    )
    parser.add_argument("--svg", help="also save the terminal output as an SVG picture")
    args = parser.parse_args(argv)
    from firewall.demo.agent import model_from_environment

    model = None if args.scripted else model_from_environment(args.model)
    try:
        result = run(
            trace_path=args.trace,
            directory=args.out,
            interactive=args.interactive,
            model=model,
            svg=args.svg,
        )
    except Exception as exc:
        if model is None:
            raise
        print(f"demo: the model failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0 if result.verified.ok else 1
