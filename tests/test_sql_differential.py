"""Differential test: run SQL against the real PostgreSQL and MariaDB, observe what changed,
and check that the classifier's intents cover every change.

PostgreSQL runs each case inside a savepoint of one transaction that is rolled back;
MariaDB (whose DDL commits) gets a throwaway database rebuilt for every case. What is
observed: tables and columns, row counts and contents, grants and roles, the current
user, and files the server wrote. ``code.execute`` and ``unknown`` cover any change (they
say "this may do anything"); otherwise each kind of change needs its intents.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from firewall.intent.sql import classify_sql
from tests.conftest import MARIADB, need_server
from tests.test_intent_sql import BENIGN, CASES

OPAQUE = {"code.execute", "unknown"}
#: A kind of change -> the intents that announce it (any one suffices).
COVERS = {
    "table dropped": {"schema.drop"},
    "table created": {"schema.create", "schema.alter"},
    "columns changed": {"schema.alter", "schema.drop", "schema.create"},
    "rows removed": {"data.delete", "data.truncate", "schema.drop"},
    "rows added": {"data.write"},
    "rows changed": {"data.write", "data.delete"},
    "grants changed": {"privilege.grant", "privilege.revoke"},
    "roles changed": {"privilege.grant", "privilege.revoke"},
    "user changed": {"privilege.grant"},
    "file written": {"file.write", "data.export"},
}

# Never run these for real: they reach beyond the scratch schema (other sessions, server
# configuration, other databases, outbound programs) or cannot run in a transaction.
UNSAFE = (
    "pg_terminate_backend",
    "ALTER SYSTEM",
    "DROP DATABASE",
    "TO PROGRAM",
    "FROM PROGRAM",
    "dblink",
    "SET GLOBAL",
    "/etc/",
    "/home/",
    "/tmp/",
    "/var/",
    "mysql.user",
    "CREATE EXTENSION",
)


def _corpus(dialect: str) -> list[str]:
    texts = [sql for d, sql, *_ in CASES if d == dialect]
    texts += [sql for d, sql, _ in BENIGN if d == dialect]
    return [t for t in texts if t.strip() and not any(u.lower() in t.lower() for u in UNSAFE)]


@pytest.fixture
def outdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fwdiff-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _file_cases(outdir: Path, dialect: str) -> list[str]:
    out = outdir / "out"
    if dialect == "postgres":
        return [
            f"COPY users TO '{out}-a.csv'",
            f"COPY (SELECT email FROM users) TO '{out}-b.csv' WITH (FORMAT csv)",
            f"SELECT 1; COPY users TO '{out}-c.csv'",
            f"SELECT lo_export(lo_from_bytea(0, 'secret'), '{out}-d.bin')",
        ]
    return [
        f"SELECT * FROM users INTO OUTFILE '{out}-a.txt'",
        f"SELECT email FROM users INTO DUMPFILE '{out}-b.txt'",
        f"SELECT 1 /*! ; SELECT * FROM users INTO OUTFILE '{out}-c.txt' */",
        f"SELECT email INTO OUTFILE '{out}-d.txt' FROM users",
    ]


EXTRA = {
    "postgres": [
        "DELETE FROM users WHERE id = 1",
        "UPDATE users SET name = upper(name) WHERE id = 2",
        "INSERT INTO users (id, email, name) VALUES (9, 'n@x.test', 'n')",
        "ALTER TABLE users ADD COLUMN phone text",
        "CREATE TABLE scratch_new (id int)",
        "CREATE ROLE fwdiff_role",
        "GRANT SELECT ON users TO PUBLIC",
        "DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$",
        "WITH moved AS (DELETE FROM orders RETURNING *)"
        " INSERT INTO audit (id) SELECT id FROM moved",
        "SELECT * FROM users WHERE id = 1 FOR UPDATE",
        "CREATE OR REPLACE VIEW v_users AS SELECT id FROM users",
        "COMMENT ON TABLE users IS 'x'",
        "SELECT 1 /*! ; DROP TABLE users */",
        "DR\u200bOP TABLE users",
    ],
    "mysql": [
        "DELETE FROM users WHERE id = 1",
        "UPDATE users SET name = upper(name) WHERE id = 2",
        "INSERT INTO users (id, email, name) VALUES (9, 'n@x.test', 'n')",
        "ALTER TABLE users ADD COLUMN phone TEXT",
        "CREATE TABLE scratch_new (id INT)",
        "SELECT 1 /*!50000 ; DELETE FROM orders */",
        "SELECT 1 /*!99999 ; DROP TABLE orders */",
        "SELECT 1 --x\n; DROP TABLE orders",
        "PREPARE s FROM 'DROP TABLE accounts'; EXECUTE s",
        "INSERT INTO t VALUES (1, 1, 1, 0) ON DUPLICATE KEY UPDATE x = 5",
        "CREATE OR REPLACE TABLE t (id INT)",
        "GRANT SELECT ON users TO 'fwdiff_user'@'localhost'",
        "CREATE USER 'fwdiff_user'@'localhost'",
        "DROP TABLE users, orders",
    ],
}


def _check(sql: str, dialect: str, changes: set[str]) -> str | None:
    """Why the classification misses a change, or ``None`` when it covers all of them."""
    intents = classify_sql(sql, dialect).intents
    if intents & OPAQUE:
        return None
    missing = [c for c in sorted(changes) if not (COVERS[c] & intents)]
    if missing:
        return f"{sql!r}: changed {missing}, classified {sorted(intents)}"
    return None


def _diff(before: dict, after: dict) -> set[str]:
    changes: set[str] = set()
    dropped = before["tables"] - after["tables"]
    created = after["tables"] - before["tables"]
    for table in list(dropped):
        shape = (before["columns"].get(table), before["rows"].get(table))
        twin = next(
            (t for t in created if (after["columns"].get(t), after["rows"].get(t)) == shape), None
        )
        if twin is not None:  # the same columns and rows under a new name: a rename
            dropped.discard(table)
            created.discard(twin)
            changes.add("columns changed")
    if dropped:
        changes.add("table dropped")
    if created:
        changes.add("table created")
    for table in before["tables"] & after["tables"]:
        if before["columns"].get(table) != after["columns"].get(table):
            changes.add("columns changed")
            continue  # a changed row shape changes every row's checksum
        old, new = before["rows"].get(table), after["rows"].get(table)
        if old and new:
            if new[0] < old[0]:
                changes.add("rows removed")
            elif new[0] > old[0]:
                changes.add("rows added")
            elif new[1] != old[1]:
                changes.add("rows changed")
    common = before["tables"] & after["tables"]

    def grants(snapshot: dict) -> list:
        # a created or dropped table brings or takes its owner's grants: only compare the rest
        return [g for g in snapshot["grants"] if len(g) == 2 or g[1] in common]

    if grants(before) != grants(after):
        changes.add("grants changed")
    for key, label in (("roles", "roles changed"), ("user", "user changed")):
        if before[key] != after[key]:
            changes.add(label)
    if after["files"] - before["files"]:
        changes.add("file written")
    return changes


# -- PostgreSQL -----------------------------------------------------------------------------

PG_SEED = """
CREATE SCHEMA {s};
SET LOCAL search_path TO {s}, public;
CREATE TABLE users (id int PRIMARY KEY, email text, name text, admin bool DEFAULT false,
                    x int DEFAULT 0);
INSERT INTO users VALUES (1, 'a@x.test', 'a', false, 0), (2, 'b@x.test', 'b', false, 0),
                         (7, 'c@x.test', 'c', false, 0);
CREATE TABLE orders (id int, cid int, total numeric, created_at timestamptz DEFAULT now());
INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 7, 30);
CREATE TABLE accounts (id int, balance int);
INSERT INTO accounts VALUES (1, 100), (2, 200);
CREATE TABLE audit (id int, email text, name text, admin bool, x int);
CREATE TABLE t (id int PRIMARY KEY, x int, a int, gone bool DEFAULT false);
INSERT INTO t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3);
CREATE TABLE s (id int, gone bool);
INSERT INTO s VALUES (1, true), (4, false);
CREATE TABLE tmp (id int);
INSERT INTO tmp VALUES (1);
"""


def _pg_snapshot(cur, schema: str, outdir: Path) -> dict:
    cur.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
    )
    tables = {r[0] for r in cur.fetchall()}
    cur.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s ORDER BY 1, 2",
        (schema,),
    )
    columns: dict[str, list] = {}
    for table, column, kind in cur.fetchall():
        columns.setdefault(table, []).append((column, kind))
    rows = {}
    for table in tables:
        cur.execute(
            f"SELECT count(*), md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), ''))"
            f' FROM "{schema}"."{table}" r'
        )
        rows[table] = cur.fetchone()
    cur.execute(
        "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants"
        " WHERE table_schema = %s ORDER BY 1, 2, 3",
        (schema,),
    )
    grants = cur.fetchall()
    cur.execute("SELECT rolname, rolsuper, rolcanlogin FROM pg_roles ORDER BY 1")
    roles = cur.fetchall()
    cur.execute("SELECT current_user, session_user")
    user = cur.fetchone()
    files = {p.name for p in outdir.iterdir()}
    return {
        "tables": tables,
        "columns": columns,
        "rows": rows,
        "grants": grants,
        "roles": roles,
        "user": user,
        "files": files,
    }


def test_postgres_changes_are_covered(postgres_conn, outdir):
    schema = f"fwdiff_{os.getpid()}"
    cases = _corpus("postgres") + EXTRA["postgres"] + _file_cases(outdir, "postgres")
    failures: list[str] = []
    changed = 0
    with postgres_conn.cursor() as cur:
        cur.execute(PG_SEED.format(s=schema))
        for sql in cases:
            cur.execute("SAVEPOINT fw_case")
            before = _pg_snapshot(cur, schema, outdir)
            cur.execute("SAVEPOINT fw_run")
            try:
                if "STDOUT" in sql.upper() or "STDIN" in sql.upper():
                    with cur.copy(sql) as copy:
                        for _ in copy:
                            pass
                else:
                    cur.execute(sql)
            except Exception:
                cur.execute("ROLLBACK TO SAVEPOINT fw_run")  # what ran before the error is undone
            cur.execute(f"SET LOCAL search_path TO {schema}, public")
            cur.execute("RESET ROLE")
            after = _pg_snapshot(cur, schema, outdir)
            cur.execute("ROLLBACK TO SAVEPOINT fw_case")
            changes = _diff(before, after)
            changed += bool(changes)
            problem = _check(sql, "postgres", changes)
            if problem:
                failures.append(problem)
    postgres_conn.rollback()
    assert not failures, "\n".join(failures)
    assert changed >= 25, f"only {changed} cases changed anything: the seed does not fit the corpus"


# -- MariaDB --------------------------------------------------------------------------------

MY_SEED = [
    "CREATE TABLE users (id INT PRIMARY KEY, email TEXT, name TEXT, admin BOOL DEFAULT 0,"
    " x INT DEFAULT 0)",
    "INSERT INTO users VALUES (1, 'a@x.test', 'a', 0, 0), (2, 'b@x.test', 'b', 0, 0),"
    " (7, 'c@x.test', 'c', 0, 0)",
    "CREATE TABLE orders (id INT, cid INT, total DECIMAL(10, 2))",
    "INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 7, 30)",
    "CREATE TABLE accounts (id INT, balance INT)",
    "INSERT INTO accounts VALUES (1, 100), (2, 200)",
    "CREATE TABLE audit (id INT, email TEXT, name TEXT, admin BOOL, x INT)",
    "CREATE TABLE t (id INT PRIMARY KEY, x INT, a INT, gone BOOL DEFAULT 0)",
    "INSERT INTO t VALUES (1, 1, 1, 0), (2, 2, 2, 0), (3, 3, 3, 0)",
    "CREATE TABLE s (id INT, gone BOOL)",
    "INSERT INTO s VALUES (1, 1), (4, 0)",
    "CREATE TABLE tmp (id INT)",
    "INSERT INTO tmp VALUES (1)",
    "CREATE TABLE items (name TEXT, price INT)",
]


def _my_snapshot(cur, db: str, outdir: Path) -> dict:
    cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (db,))
    tables = {r[0] for r in cur.fetchall()}
    cur.execute(
        "SELECT table_name, column_name, column_type FROM information_schema.columns"
        " WHERE table_schema = %s ORDER BY 1, 2",
        (db,),
    )
    columns: dict[str, list] = {}
    for table, column, kind in cur.fetchall():
        columns.setdefault(table, []).append((column, kind))
    rows = {}
    for table in tables:
        cur.execute(f"SELECT count(*) FROM `{db}`.`{table}`")
        count = cur.fetchone()[0]
        cur.execute(f"CHECKSUM TABLE `{db}`.`{table}`")
        rows[table] = (count, cur.fetchone()[1])
    cur.execute(
        "SELECT grantee, privilege_type FROM information_schema.user_privileges ORDER BY 1, 2"
    )
    grants = cur.fetchall()
    cur.execute(
        "SELECT grantee, table_name, privilege_type FROM information_schema.table_privileges"
        " WHERE table_schema = %s ORDER BY 1, 2, 3",
        (db,),
    )
    grants += cur.fetchall()
    cur.execute("SELECT user, host FROM mysql.user ORDER BY 1, 2")
    roles = cur.fetchall()
    files = {p.name for p in outdir.iterdir()}
    return {
        "tables": tables,
        "columns": columns,
        "rows": rows,
        "grants": grants,
        "roles": roles,
        "user": None,
        "files": files,
    }


@pytest.fixture
def mariadb_multi():
    """A MariaDB connection that accepts several statements per call, as a client tool does."""
    try:
        import pymysql
        from pymysql.constants import CLIENT

        conn = pymysql.connect(
            **MARIADB, connect_timeout=3, autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS
        )
    except Exception as exc:
        need_server("MariaDB", exc)
    yield conn
    conn.close()


def _drain(cur) -> None:
    while cur.nextset():
        pass


def test_mariadb_changes_are_covered(mariadb_multi, outdir):
    db = f"fwdiff_{os.getpid()}"
    cases = _corpus("mysql") + EXTRA["mysql"] + _file_cases(outdir, "mysql")
    failures: list[str] = []
    changed = 0
    cur = mariadb_multi.cursor()
    try:
        for sql in cases:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            cur.execute(f"CREATE DATABASE `{db}`")
            cur.execute(f"USE `{db}`")
            for statement in MY_SEED:
                cur.execute(statement)
            before = _my_snapshot(cur, db, outdir)
            try:
                cur.execute(sql)
                _drain(cur)
            except Exception:
                pass  # statements before the failing one have run: the snapshot sees them
            cur.execute(f"USE `{db}`")
            after = _my_snapshot(cur, db, outdir)
            changes = _diff(before, after)
            changed += bool(changes)
            problem = _check(sql, "mysql", changes)
            if problem:
                failures.append(problem)
            cur.execute("DROP USER IF EXISTS 'fwdiff_user'@'localhost', 'x'@'%'")
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
        cur.execute("DROP USER IF EXISTS 'fwdiff_user'@'localhost', 'x'@'%'")
    assert not failures, "\n".join(failures)
    assert changed >= 12, f"only {changed} cases changed anything: the seed does not fit the corpus"
