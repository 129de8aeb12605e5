"""What the demo shows while it runs: a live table of calls on a terminal, plain lines
otherwise (a pipe, a test, ``NO_COLOR``), and a summary at the end.

The reporter is also a ``DecisionSink``: the firewall hands it every decision as it is
made, whichever agent loop made the call. It never raises (a sink that raises would turn
the decision into a deny).
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from firewall.model import Decision, Principal, ToolCall, Verdict

COLOURS = {Verdict.ALLOW: "green", Verdict.REQUIRE_APPROVAL: "yellow", Verdict.DENY: "red"}


@dataclass
class Row:
    """One call as the table shows it."""

    number: int
    tool: str
    arguments: str
    intents: str
    verdict: Verdict
    outcome: str
    rules: str
    ms: float
    seen: str = ""


@dataclass
class Summary:
    """What the run ended with, for the closing panel."""

    calls: list[Row]
    database: Mapping[str, int]
    mail_sent: list[str]
    audit: str
    flows: list[str]
    files: list[str] = field(default_factory=list)


def decisive_rules(decision: Decision) -> str:
    """The rules that made the verdict (for an allow, the rules that allowed it)."""
    if decision.approved_by:
        return f"approved by {decision.approved_by}"
    wanted = decision.verdict if decision.verdict is not Verdict.ALLOW else Verdict.ALLOW
    ids = [r.rule_id for r in decision.reasons if r.verdict is wanted]
    if decision.verdict is Verdict.DENY and decision.policy_verdict is Verdict.REQUIRE_APPROVAL:
        ids = [r.rule_id for r in decision.reasons if r.verdict is Verdict.REQUIRE_APPROVAL]
        ids.append("refused")
    return ", ".join(dict.fromkeys(ids)) or "-"


def outcome_of(decision: Decision) -> str:
    if decision.policy_verdict is Verdict.REQUIRE_APPROVAL and decision.mode == "enforce":
        return "APPROVED" if decision.allowed else "REFUSED"
    return decision.verdict.label.upper()


def short(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Reporter:
    """Collects the rows; subclasses decide how they are shown."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._by_call: dict[str, Row] = {}
        self._entities: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    # DecisionSink
    def record(
        self, decision: Decision, call: ToolCall, principal: Principal, context: Mapping[str, Any]
    ) -> None:
        try:
            with self._lock:
                row = Row(
                    number=len(self.rows) + 1,
                    tool=call.name,
                    arguments=short(call.arguments),
                    intents=", ".join(decision.intents) or "-",
                    verdict=decision.verdict,
                    outcome=outcome_of(decision),
                    rules=decisive_rules(decision),
                    ms=decision.elapsed_ms,
                )
                self.rows.append(row)
                if call.id:
                    self._by_call[call.id] = row
            self.decided(row, decision)
        except Exception:  # the display must never change a decision
            pass

    # The audit log's hook for redactions, used here to show what was taken out.
    def record_redaction(
        self, *, call_id: str | None, entities: Mapping[str, int], **_: Any
    ) -> None:
        try:
            with self._lock:
                found = self._entities.setdefault(call_id or "", {})
                for name, count in entities.items():
                    found[str(name)] = found.get(str(name), 0) + int(count)
        except Exception:
            pass

    def row_for(self, call_id: str | None) -> Row | None:
        return self._by_call.get(call_id or "")

    def entities_for(self, call_id: str | None) -> dict[str, int]:
        """What redaction took out of the result of ``call_id``, per entity type."""
        return dict(self._entities.get(call_id or "", {}))

    # What subclasses show.
    def start(self, prompt: str) -> None: ...
    def say(self, text: str) -> None: ...
    def decided(self, row: Row, decision: Decision) -> None: ...
    def saw(self, row: Row | None, text: str, entities: Mapping[str, int]) -> None: ...
    def finish(self, summary: Summary) -> None: ...
    def abort(self) -> None:
        """The run failed: leave the terminal as it was."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Around a question to the person at the terminal."""
        yield

    def save_svg(self, path: Path) -> None:
        """The run as it looked on the terminal (only the live table records it)."""
        raise RuntimeError("only the terminal display can be saved as a picture")


class PlainReporter(Reporter):
    """Lines of plain text: for pipes, logs and tests."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out

    def start(self, prompt: str) -> None:
        self.out.write(f"User: {prompt}\n\n")

    def say(self, text: str) -> None:
        self.out.write(f"Agent: {text}\n")

    def decided(self, row: Row, decision: Decision) -> None:
        self.out.write(f"  -> {row.tool}({row.arguments})\n")
        self.out.write(f"     {row.outcome}  intents: {row.intents}  ({row.ms:.2f} ms)\n")
        if not decision.allowed:
            for reason in decision.reasons:
                if reason.verdict is not Verdict.ALLOW and reason.message:
                    self.out.write(f"     [{reason.rule_id}] {reason.message}\n")

    def saw(self, row: Row | None, text: str, entities: Mapping[str, int]) -> None:
        self.out.write(f"     model sees: {short(text, 150)}\n")
        if entities:
            self.out.write(f"     redacted: {dict(entities)}\n")

    def finish(self, summary: Summary) -> None:
        allowed = sum(r.verdict is Verdict.ALLOW for r in summary.calls)
        self.out.write("\nSummary\n")
        self.out.write(
            f"  {_calls(len(summary.calls))}: {allowed} allowed, "
            f"{len(summary.calls) - allowed} denied\n"
        )
        self.out.write(f"  database after the run: {dict(summary.database)}\n")
        self.out.write(f"  mail sent: {summary.mail_sent}\n")
        self.out.write(f"  audit log: {summary.audit}\n")
        for flow in summary.flows:
            self.out.write(f"  data flow: {flow}\n")
        for path in summary.files:
            self.out.write(f"  wrote {path}\n")


class RichReporter(Reporter):
    """A live table of calls on a terminal, coloured by verdict, and a summary panel."""

    def __init__(self, out: TextIO, *, record: bool = False, width: int | None = None) -> None:
        from rich.console import Console
        from rich.live import Live

        super().__init__()
        self.console = Console(
            file=out, width=width, force_terminal=True if record else None, highlight=False
        )
        #: What was printed above the table, to draw the run again as a picture.
        self._printed: list[Any] = []
        self.live = Live(self._window(), console=self.console, refresh_per_second=8)

    def start(self, prompt: str) -> None:
        from rich.panel import Panel

        self._print(Panel(prompt, title="user", title_align="left", border_style="blue"))
        self.live.start()

    def say(self, text: str) -> None:
        self._print(f"[dim italic]agent:[/] {_escape(text)}")

    def _print(self, renderable: Any) -> None:
        self._printed.append(renderable)
        self.live.console.print(renderable)

    def decided(self, row: Row, decision: Decision) -> None:
        self.live.update(self._window())

    def saw(self, row: Row | None, text: str, entities: Mapping[str, int]) -> None:
        if row is not None:
            row.seen = short(text, 60)
            if entities:
                found = ", ".join(f"{k} x{v}" for k, v in sorted(entities.items()))
                row.seen += f" [redacted {found}]"
            self.live.update(self._window())

    def abort(self) -> None:
        self.live.stop()

    @contextmanager
    def paused(self) -> Iterator[None]:
        self.live.stop()
        try:
            yield
        finally:
            self.live.start()

    def finish(self, summary: Summary) -> None:
        from rich.panel import Panel
        from rich.table import Table

        self.live.vertical_overflow = "visible"  # the whole table stays on screen at the end
        self.live.update(self._table())
        self.live.stop()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        allowed = sum(r.verdict is Verdict.ALLOW for r in summary.calls)
        denied = len(summary.calls) - allowed
        grid.add_row(
            "calls",
            f"{len(summary.calls)}: [green]{allowed} allowed[/], [red]{denied} denied[/]",
        )
        grid.add_row("database", _escape(str(dict(summary.database))))
        grid.add_row("mail sent", _escape(", ".join(summary.mail_sent) or "none"))
        grid.add_row("audit log", _escape(summary.audit))
        for flow in summary.flows:
            grid.add_row("stopped flow", _escape(flow))
        for path in summary.files:
            grid.add_row("wrote", _escape(path))
        self._summary = Panel(grid, title="summary", title_align="left", border_style="cyan")
        self.console.print(self._summary)

    def save_svg(self, path: Path) -> None:
        """The finished run drawn once more on a recording console, saved as SVG."""
        from rich.console import Console

        console = Console(
            file=io.StringIO(), record=True, width=150, force_terminal=True, highlight=False
        )
        for renderable in [*self._printed, self._table(), getattr(self, "_summary", "")]:
            console.print(renderable)
        console.save_svg(str(path), title="make demo")

    def _window(self) -> Any:
        """While running: the latest calls that fit on the screen."""
        return self._table(last=max(5, (self.console.height or 24) // 2 - 4))

    def _table(self, last: int | None = None) -> Any:
        from rich.table import Table
        from rich.text import Text

        table = Table(title="tool calls through the firewall", title_justify="left", expand=True)
        table.add_column("#", justify="right", width=2)
        table.add_column("tool", style="bold", no_wrap=True)
        table.add_column("arguments", ratio=3, overflow="fold")
        table.add_column("intents", ratio=2)
        table.add_column("verdict", no_wrap=True)
        table.add_column("rule", ratio=2, overflow="fold")
        table.add_column("ms", justify="right", no_wrap=True)
        table.add_column("model sees", ratio=3, overflow="fold")
        rows = list(self.rows)
        if last is not None and len(rows) > last:
            table.caption = f"{len(rows) - last} earlier calls above the window"
            rows = rows[-last:]
        for row in rows:
            colour = COLOURS[row.verdict]
            table.add_row(
                str(row.number),
                row.tool,
                Text(row.arguments),
                row.intents,
                Text(row.outcome, style=f"bold {colour}"),
                Text(row.rules, style=colour),
                f"{row.ms:.2f}",
                Text(row.seen, style="dim"),
            )
        return table


def reporter_for(out: TextIO, *, record: bool = False) -> Reporter:
    """The live table on a terminal (or when recording a picture), plain lines elsewhere."""
    if record or (out.isatty() and "NO_COLOR" not in os.environ):
        try:
            return RichReporter(out, record=record, width=None if out.isatty() else 150)
        except ImportError:  # the ``view`` extra is not installed
            if record:
                raise
    return PlainReporter(out)


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
