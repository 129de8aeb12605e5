"""Added time of ``FirewallMiddleware`` in a 20-step ``create_agent`` loop over SQLite tools.

The same scripted loop (a chat model that calls ``run_sql`` 20 times, one query per turn,
on a real SQLite file) runs with and without the middleware, alternately, in one process;
medians of several runs are compared. With the middleware every call is checked and every
result (short rows: ids, totals, statuses, one customer email in five) is redacted.
Run: ``python benchmarks/adapters_langchain.py`` (also part of ``bench_adapters.py``).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from adapters.langchain import FirewallMiddleware  # noqa: E402
from firewall import Firewall, load_policy, policy_from_dict  # noqa: E402

POLICY = ROOT / "policies" / "default.yaml"
STEPS = 20
RUNS = 11


class ScriptedModel(BaseChatModel):
    """Calls ``run_sql`` with the next query each turn, then answers."""

    queries: list[str]
    turn: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedModel:
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kw: Any) -> ChatResult:
        if self.turn < len(self.queries):
            query = self.queries[self.turn]
            call = {"name": "run_sql", "args": {"query": query}, "id": f"c{self.turn}"}
            message = AIMessage(content="", tool_calls=[{**call, "type": "tool_call"}])
        else:
            message = AIMessage(content="Done.")
        self.turn += 1
        return ChatResult(generations=[ChatGeneration(message=message)])


def shop(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL, status TEXT);
        """
    )
    db.executemany(
        "INSERT INTO customers VALUES (?, ?)", [(i, f"user{i}@mailbox.test") for i in range(50)]
    )
    db.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?)",
        [(i, i % 50, 10.0 + i, "shipped" if i % 3 else "open") for i in range(200)],
    )
    db.commit()
    db.close()
    return path


def queries() -> list[str]:
    out = []
    for step in range(STEPS):
        if step % 5 == 4:
            out.append(f"SELECT email FROM customers WHERE id = {step}")
        else:
            out.append(f"SELECT id, total, status FROM orders WHERE customer_id = {step} LIMIT 3")
    return out


def sql_tool(path: Path):
    @tool
    def run_sql(query: str) -> str:
        """Run one SQL statement on the shop database."""
        db = sqlite3.connect(path)
        try:
            cursor = db.execute(query)
            columns = [c[0] for c in cursor.description or ()]
            return json.dumps([dict(zip(columns, r, strict=True)) for r in cursor.fetchall()])
        finally:
            db.close()

    return run_sql


def one_loop(path: Path, firewall: Firewall | None) -> float:
    middleware = [FirewallMiddleware(firewall)] if firewall is not None else []
    agent = create_agent(ScriptedModel(queries=queries()), [sql_tool(path)], middleware=middleware)
    start = time.perf_counter()
    result = agent.invoke({"messages": [HumanMessage("Summarise the orders.")]})
    elapsed = time.perf_counter() - start
    assert len([m for m in result["messages"] if m.type == "tool"]) == STEPS
    return elapsed


def compare(path: Path, label: str, make_firewall) -> None:
    without, with_fw = [], []
    one_loop(path, None), one_loop(path, make_firewall())  # warm up (builds the analyzer)
    for _ in range(RUNS):
        without.append(one_loop(path, None))
        with_fw.append(one_loop(path, make_firewall()))
    base, guarded = statistics.median(without), statistics.median(with_fw)
    added = (guarded - base) * 1000 / STEPS
    ratio = guarded / base
    print(f"{label:<40} {base * 1000:9.1f} {guarded * 1000:9.1f} {ratio:7.2f}x {added:9.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = shop(Path(tmp) / "shop.db")
        print(f"create_agent loop, {STEPS} tool steps on SQLite, median of {RUNS} runs (ms)")
        head = f"{'without':>9} {'with':>9} {'ratio':>8} {'+ms/step':>9}"
        print(f"{'FirewallMiddleware with':<40} {head}")
        policy = load_policy(POLICY)
        compare(path, "default policy (redaction with NER)", lambda: Firewall(policy))
        patterns = variant(policy, ner=False, entities=_pattern_entities(policy))
        compare(path, "redaction by patterns only (no NER)", lambda: Firewall(patterns))
        unredacted = variant(policy, enabled=False)
        compare(path, "no redaction (checks only)", lambda: Firewall(unredacted))
        print("(a shared machine: compare the columns of one row, measured alternately in one run)")


def variant(policy: Any, **redaction: Any) -> Any:
    """The default policy with other redaction settings."""
    settings = {**policy.redaction.model_dump(), **redaction}
    return policy_from_dict({"name": "bench", "include": [str(POLICY)], "redaction": settings})


def _pattern_entities(policy: Any) -> list[str]:
    from firewall.redact.entities import NER_ENTITIES

    return [e for e in policy.redaction.entities if e not in NER_ENTITIES or e == "DATE_TIME"]


if __name__ == "__main__":
    main()
