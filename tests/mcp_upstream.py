"""A real MCP server for the gateway tests, built with the SDK's ``MCPServer``.

A shop's back office: ``run_sql`` on a SQLite file, ``read_file`` confined to one
directory, ``get_customer`` returning a customer's personal data (with an output
schema), ``send_email`` writing to an outbox file (so a test sees what the server
really received), and tools that exercise the protocol: progress, logging, elicitation
and sampling (as requests on 2025-11-25 connections, as input rounds on 2026-07-28 ones),
and a crash in the middle of a call.

Run: ``python tests/mcp_upstream.py --db FILE --root DIR [--http PORT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import time
from pathlib import Path

import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel


class Customer(BaseModel):
    id: int
    name: str
    email: str
    phone: str


class Confirmation(BaseModel):
    confirm: bool


def build(db: Path, root: Path) -> MCPServer:
    server = MCPServer("shop-backoffice", instructions="The shop's back office.")

    @server.tool()
    def run_sql(query: str) -> str:
        """Run SQL on the shop's SQLite database; returns the rows as JSON."""
        with sqlite3.connect(db) as connection:
            rows = connection.execute(query).fetchall()
        return json.dumps(rows)

    @server.tool()
    def read_file(path: str) -> str:
        """Read a text file of the shop's document folder."""
        target = (root / path).resolve()
        if not target.is_relative_to(root.resolve()):
            raise ValueError("the path is outside the document folder")
        return target.read_text(encoding="utf-8")

    @server.tool()
    def get_customer(customer_id: int) -> Customer:
        """Look up a customer by id."""
        with sqlite3.connect(db) as connection:
            row = connection.execute(
                "SELECT id, name, email, phone FROM customers WHERE id = ?", (customer_id,)
            ).fetchone()
        if row is None:
            raise ValueError(f"no customer {customer_id}")
        return Customer(id=row[0], name=row[1], email=row[2], phone=row[3])

    @server.tool()
    def send_email(to: str, body: str) -> str:
        """Send an email (written to the outbox)."""
        with open(root / "outbox.jsonl", "a", encoding="utf-8") as outbox:
            outbox.write(json.dumps({"to": to, "body": body}) + "\n")
        return "sent"

    @server.tool()
    async def long_task(steps: int, ctx: Context) -> str:
        """Report progress and log while working."""
        for step in range(steps):
            await ctx.report_progress(step + 1, steps, f"step {step + 1}")
            await ctx.info(f"finished step {step + 1}")
        return "done"

    @server.tool()
    async def delete_orders(ctx: Context) -> str | types.InputRequiredResult:
        """Delete every order after the user confirms."""
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            answer = (ctx.input_responses or {}).get("confirm")
            if answer is None:
                return types.InputRequiredResult(
                    input_requests={
                        "confirm": types.ElicitRequest(
                            params=types.ElicitRequestFormParams(
                                message="Delete every order?",
                                requested_schema={
                                    "type": "object",
                                    "properties": {"confirm": {"type": "boolean"}},
                                    "required": ["confirm"],
                                },
                            )
                        )
                    }
                )
            confirmed = (
                isinstance(answer, types.ElicitResult)
                and answer.action == "accept"
                and bool((answer.content or {}).get("confirm"))
            )
        else:
            result = await ctx.elicit("Delete every order?", Confirmation)
            confirmed = result.action == "accept" and result.data.confirm
        if not confirmed:
            return "kept the orders"
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM orders")
        return "deleted the orders"

    @server.tool()
    async def draft_reply(customer_id: int, ctx: Context) -> str | types.InputRequiredResult:
        """Ask the client's model to draft a reply to a customer (sampling)."""
        customer = get_customer(customer_id)
        prompt = f"Draft a reply to {customer.name} <{customer.email}>, phone {customer.phone}."
        message = types.SamplingMessage(
            role="user", content=types.TextContent(type="text", text=prompt)
        )
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            answer = (ctx.input_responses or {}).get("draft")
            if answer is None:
                request = types.CreateMessageRequest(
                    params=types.CreateMessageRequestParams(messages=[message], max_tokens=100)
                )
                return types.InputRequiredResult(input_requests={"draft": request})
        else:
            answer = await ctx.session.create_message(messages=[message], max_tokens=100)
        draft = answer.content.text
        with open(root / "drafts.txt", "a", encoding="utf-8") as drafts:
            drafts.write(draft + "\n")
        return draft

    @server.tool()
    def crash(after: float = 0.2) -> str:
        """Dies in the middle of the call."""
        time.sleep(after)
        os._exit(3)

    return server


def create_database(db: Path) -> None:
    """The shop's data: two customers and their orders."""
    with sqlite3.connect(db) as connection:
        connection.executescript(
            """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total REAL);
            INSERT INTO customers VALUES
              (1, 'Maria Gonzalez', 'maria.gonzalez@example.org', '+1 415-555-0134'),
              (2, 'Tom Baker', 'tom.baker@example.net', '+1 212-555-0188');
            INSERT INTO orders VALUES (1, 1, 19.5), (2, 1, 7.25), (3, 2, 42.0);
            """
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--http", type=int, help="serve Streamable HTTP on this port")
    args = parser.parse_args()
    server = build(args.db, args.root)
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
