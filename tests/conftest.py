"""Shared test helpers.

Tests that need a real database server call ``need_server(...)``: where the server is
absent they skip with a clear message, but under ``FIREWALL_REQUIRE_SERVERS=1`` (set by
``.ci/run``, because CI has the servers) the absence is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"

POSTGRES_URL = os.environ.get("FIREWALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "database": "test"}


def need_server(name: str, error: BaseException | str) -> None:
    """Skip (or, in CI, fail) a test because the server ``name`` cannot be reached."""
    message = f"{name} server not reachable: {error}"
    if os.environ.get("FIREWALL_REQUIRE_SERVERS") == "1":
        pytest.fail(message + " (FIREWALL_REQUIRE_SERVERS=1: CI must have it)")
    pytest.skip(message)


@pytest.fixture
def postgres_conn():
    """A psycopg connection to the test PostgreSQL, or a skip (a failure in CI)."""
    try:
        import psycopg

        conn = psycopg.connect(POSTGRES_URL, connect_timeout=3)
    except Exception as exc:
        need_server("PostgreSQL", exc)
    yield conn
    conn.close()


@pytest.fixture
def mariadb_conn():
    """A PyMySQL connection to the test MariaDB, or a skip (a failure in CI)."""
    try:
        import pymysql

        conn = pymysql.connect(**MARIADB, connect_timeout=3, autocommit=True)
    except Exception as exc:
        need_server("MariaDB", exc)
    yield conn
    conn.close()
