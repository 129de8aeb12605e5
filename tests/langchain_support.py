"""A scripted chat model and real SQLite tools for the LangChain adapter's tests.

The model is a real ``BaseChatModel``: ``create_agent`` binds tools to it and calls it like
any provider's model. Each turn it answers with the next prepared message (or what a
function makes of the messages it was given) and it keeps every message list it received,
so a test can assert on exactly what the model saw.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool
from pydantic import Field

from tests.conftest import POLICIES

POLICY = POLICIES / "default.yaml"

CUSTOMERS = [
    (1, "Ada Lovelace", "ada.lovelace@mailbox.test", "+1 415 555 0134"),
    (2, "Kofi Mensah", "kofi.mensah@mailbox.test", "+44 20 7946 0958"),
    (3, "Dana Whitfield", "dana.whitfield@corp-mail.net", "+1 212 555 0187"),
]
SECRETS = [value for row in CUSTOMERS for value in row[2:]]

PLACEHOLDER = re.compile(r"<EMAIL_ADDRESS_\d+>")

Turn = AIMessage | Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """Answers each model call with the next turn of ``script``; records what it was given."""

    script: list[Any] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[Any] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self.bound_tools = list(tools)
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        if len(self.seen) > len(self.script):
            turn: Turn = AIMessage(content="(script ended)")
        else:
            turn = self.script[len(self.seen) - 1]
        message = turn(list(messages)) if callable(turn) else turn
        return ChatResult(generations=[ChatGeneration(message=message)])

    def everything_seen(self) -> str:
        """Every message the model was given, as one text (content and tool-call arguments)."""
        parts = []
        for messages in self.seen:
            for message in messages:
                parts.append(json.dumps(message.content, ensure_ascii=False))
                for call in getattr(message, "tool_calls", None) or []:
                    parts.append(json.dumps(call["args"], ensure_ascii=False))
        return "\n".join(parts)


def calls(*specs: tuple[str, dict[str, Any]], turn: int = 0) -> AIMessage:
    """An assistant turn that calls tools, with ids unique across the script."""
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{turn}_{i}", "type": "tool_call"}
            for i, (name, args) in enumerate(specs)
        ],
    )


def last_tool_texts(messages: list[BaseMessage]) -> list[str]:
    """The tool results the model is answering (after its last own turn)."""
    texts: list[str] = []
    for message in reversed(messages):
        if message.type == "ai":
            break
        if message.type == "tool":
            texts.append(str(message.content))
    return texts[::-1]


def build_shop(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL);
        """
    )
    db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", CUSTOMERS)
    db.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, 1, 40.0), (2, 2, 12.5)])
    db.commit()
    db.close()
    return path


class Shop:
    """The agent's tools on a real SQLite file; ``runs`` counts every statement executed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runs: list[str] = []
        self.outbox: list[dict[str, str]] = []

    def tables(self) -> set[str]:
        with sqlite3.connect(self.path) as db:
            return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def count(self, table: str) -> int:
        with sqlite3.connect(self.path) as db:
            return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def execute(self, query: str) -> str:
        self.runs.append(query)
        db = sqlite3.connect(self.path)
        try:
            cursor = db.execute(query)
            columns = [c[0] for c in cursor.description or ()]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            db.commit()
            return json.dumps(rows if columns else {"changed": cursor.rowcount})
        finally:
            db.close()

    def tools(self) -> list[Any]:
        shop = self

        @tool
        def run_sql(query: str) -> str:
            """Run one SQL statement on the shop's SQLite database and return the rows."""
            return shop.execute(query)

        @tool
        def send_email(to: str, subject: str, body: str) -> str:
            """Send an email."""
            shop.outbox.append({"to": to, "subject": subject, "body": body})
            return f"queued message to {to}"

        return [run_sql, send_email]

    def async_tools(self) -> list[Any]:
        shop = self

        @tool
        async def run_sql(query: str) -> str:
            """Run one SQL statement on the shop's SQLite database and return the rows."""
            return shop.execute(query)

        @tool
        async def send_email(to: str, subject: str, body: str) -> str:
            """Send an email."""
            shop.outbox.append({"to": to, "subject": subject, "body": body})
            return f"queued message to {to}"

        return [run_sql, send_email]


def mail_the_first_customer(messages: list[BaseMessage]) -> AIMessage:
    """The model writes back the placeholder it was shown for the first customer's address."""
    seen = " ".join(last_tool_texts(messages))
    found = PLACEHOLDER.search(seen)
    assert found, f"the model was shown no email placeholder: {seen}"
    return calls(("send_email", {"to": found.group(), "subject": "Order", "body": "Hi"}), turn=2)
