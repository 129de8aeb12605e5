"""A small stdio MCP server over the test shop's SQLite file (``python mcp_shop_server.py DB``).

Started by tests/test_adapter_langchain_mcp.py through langchain-mcp-adapters.
"""

from __future__ import annotations

import json
import sqlite3
import sys

from mcp.server.mcpserver import MCPServer

DB = sys.argv[1]
server = MCPServer("shop")


@server.tool()
def run_sql(query: str) -> str:
    """Run one SQL statement on the shop's SQLite database and return the rows."""
    db = sqlite3.connect(DB)
    try:
        cursor = db.execute(query)
        columns = [c[0] for c in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        db.commit()
        return json.dumps(rows if columns else {"changed": cursor.rowcount})
    finally:
        db.close()


@server.tool()
def send_email(to: str, subject: str, body: str) -> str:
    """Send an email (kept in the shop's outbox table)."""
    db = sqlite3.connect(DB)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS outbox (recipient TEXT, subject TEXT, body TEXT)")
        db.execute("INSERT INTO outbox VALUES (?, ?, ?)", (to, subject, body))
        db.commit()
        return f"queued message to {to}"
    finally:
        db.close()


if __name__ == "__main__":
    server.run("stdio")
