"""Bounded writes checked on the real PostgreSQL and MariaDB.

Every write statement of ``tests/data/sql_writes.yaml`` runs in a rolled-back
transaction against a 50-row table; the rows it changed (updated or deleted) are
counted. Whenever the classifier says a write is bounded, fewer than all rows changed.
The default pack allows every everyday write and holds or denies every adversarial
one, and nothing it allows changes the session's identity, a security-relevant setting,
a catalog row or a server file (observed on the engine). A hypothesis strategy builds
WHERE clauses from columns, constants, subqueries and functions and checks the same
claim against both engines.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firewall import Firewall, ToolCall, policy_from_yaml
from firewall.intent.sql import classify_sql
from tests.conftest import MARIADB, POLICIES, need_server

DATA = Path(__file__).parent / "data" / "sql_writes.yaml"
CORPUS = yaml.safe_load(DATA.read_text(encoding="utf-8"))
ROWS = 50
#: For the "fewer than all rows" claim a LIMIT may bound only fewer rows than the table has.
LIMIT = ROWS - 1
STATUSES = ("active", "closed", "pending")


def corpus(dialect: str) -> list[tuple[str, str]]:
    """(kind, sql) for one engine: kind is ``everyday`` or ``adversarial``."""
    return [
        (kind, entry["sql"])
        for kind in ("everyday", "adversarial")
        for entry in CORPUS[kind]
        if dialect in entry["on"]
    ]


def seed_rows() -> list[tuple]:
    """50 accounts whose every column takes several values, none shared by all rows."""
    return [
        (
            i,
            f"u{i}@x.test",
            f"user{i}",
            STATUSES[i % 3],
            i * 10 - 200,
            i % 7 == 0,
            i % 10 + 1,
            None if i % 4 == 0 else f"note{i}",
        )
        for i in range(1, ROWS + 1)
    ]


def pack(dialect: str) -> Firewall:
    """The default pack as shipped; for MariaDB its run_sql tool reads MySQL."""
    document = yaml.safe_load((POLICIES / "default.yaml").read_text(encoding="utf-8"))
    if dialect == "mysql":
        document["tools"]["run_sql"]["classify"]["dialect"] = "mysql"
    return Firewall(policy_from_yaml(yaml.safe_dump(document, sort_keys=False)))


def verdict(firewall: Firewall, dialect: str, sql: str) -> str:
    tool = "run_postgres" if dialect == "postgres" else "run_sql"
    call = ToolCall(name=tool, arguments={"query": sql})
    return firewall.evaluate(call).policy_verdict.label


def claims_bounded(sql: str, dialect: str) -> bool:
    facts = classify_sql(sql, dialect, write_limit=LIMIT)
    return (
        facts.facts["write_count"] > 0
        and not facts.facts["unbounded_write"]
        and "unknown" not in facts.intents
    )


def changed(before: dict, after: dict) -> int:
    """Rows of ``before`` that were deleted or changed."""
    return sum(1 for key, row in before.items() if after.get(key) != row)


@pytest.fixture
def outdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fw-i12-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


# -- PostgreSQL -----------------------------------------------------------------------------

PG_SETTINGS = (
    "role",
    "session_authorization",
    "default_transaction_read_only",
    "transaction_read_only",
    "standard_conforming_strings",
    "backslash_quote",
    "client_encoding",
    "search_path",
)


def pg_seed(cur, schema: str, role: str) -> None:
    cur.execute(f"CREATE SCHEMA {schema}")
    cur.execute(f"SET LOCAL search_path TO {schema}")
    cur.execute(
        "CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE, name text, status text,"
        " balance int, admin bool, owner_id int, note text)"
    )
    cur.executemany("INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", seed_rows())
    cur.execute("CREATE TABLE owners (id int PRIMARY KEY, region text)")
    cur.executemany(
        "INSERT INTO owners VALUES (%s, %s)",
        [(i, ("north", "south", "east")[i % 3]) for i in range(1, 11)],
    )
    cur.execute("CREATE TABLE audit (account_id int, action text)")
    cur.execute(f"CREATE ROLE {role} NOLOGIN")
    cur.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    cur.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}")


def pg_rows(cur) -> dict:
    cur.execute("SELECT * FROM accounts")
    return {row[0]: row for row in cur.fetchall()}


def pg_observe(cur, outdir: Path) -> tuple:
    """Identity, security-relevant settings, role and schema catalog rows, server files."""
    cur.execute("SELECT current_user, session_user")
    identity = cur.fetchone()
    values = []
    for name in PG_SETTINGS:
        cur.execute("SELECT current_setting(%s, true)", (name,))
        values.append(cur.fetchone()[0])
    cur.execute(
        "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM (SELECT rolname, rolsuper,"
        " rolcreaterole, rolcanlogin, rolbypassrls FROM pg_roles) r"
    )
    roles = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM pg_auth_members")
    members = cur.fetchone()[0]
    cur.execute(
        "SELECT md5(string_agg(nspname || coalesce(nspacl::text, ''), ',')) FROM pg_namespace"
    )
    namespaces = cur.fetchone()[0]
    return identity, tuple(values), roles, members, namespaces, sorted(os.listdir(outdir))


def pg_run(cur, sql: str) -> bool:
    """Run ``sql`` inside savepoint ``fw_case``; ``False`` when the engine refused it."""
    cur.execute("SAVEPOINT fw_run")
    try:
        cur.execute(sql)
        return True
    except Exception:
        cur.execute("ROLLBACK TO SAVEPOINT fw_run")
        return False


def test_postgres_bounded_writes_change_fewer_than_all_rows(postgres_conn, outdir):
    schema, role = f"fw_i12_{os.getpid()}", f"fw_i12_low_{os.getpid()}"
    firewall = pack("postgres")
    failures: list[str] = []
    counts = {"everyday": 0, "adversarial": 0, "bounded": 0, "ran": 0}
    with postgres_conn.cursor() as cur:
        pg_seed(cur, schema, role)
        baseline = pg_rows(cur)
        assert len(baseline) == ROWS
        for kind, sql in corpus("postgres"):
            counts[kind] += 1
            cur.execute("SAVEPOINT fw_case")
            watched = pg_observe(cur, outdir)
            ran = pg_run(cur, sql)
            counts["ran"] += ran
            cur.execute(f"SET LOCAL search_path TO {schema}")
            hit = changed(baseline, pg_rows(cur)) if ran else 0
            now = pg_observe(cur, outdir) if ran else watched
            cur.execute("ROLLBACK TO SAVEPOINT fw_case")
            cur.execute("DEALLOCATE ALL")
            label = verdict(firewall, "postgres", sql)
            if claims_bounded(sql, "postgres"):
                counts["bounded"] += 1
                if hit >= ROWS:
                    failures.append(f"claimed bounded, changed {hit} rows: {sql}")
            if label == "allow" and hit >= ROWS:
                failures.append(f"allowed, changed {hit} rows: {sql}")
            if label == "allow" and now != watched:
                failures.append(f"allowed, changed identity/settings/catalog/files: {sql}")
            if kind == "everyday" and label != "allow":
                failures.append(f"everyday write not allowed ({label}): {sql}")
            if kind == "adversarial" and label == "allow":
                failures.append(f"adversarial write allowed: {sql}")
    postgres_conn.rollback()
    assert not failures, "\n".join(failures)
    assert counts["everyday"] >= 90 and counts["adversarial"] >= 90, counts
    assert counts["ran"] >= 0.9 * (counts["everyday"] + counts["adversarial"]), counts


# Statements that change who the session is, whether it may write, or how it lexes SQL:
# (sql, the pack's expected verdict). Run as a restricted role so a change shows.
PG_SESSION = [
    ("RESET ROLE", "deny"),
    ("SET ROLE postgres", "deny"),
    ("SET SESSION AUTHORIZATION postgres", "deny"),
    ("RESET SESSION AUTHORIZATION", "deny"),
    ("SET default_transaction_read_only = off", "deny"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "deny"),
    ("SET TRANSACTION READ WRITE", "deny"),
    ("SET standard_conforming_strings = off", "deny"),
    ("SET backslash_quote = on", "deny"),
    ("SET client_encoding = 'SJIS'", "deny"),
    ("SELECT set_config('role', 'postgres', false)", "deny"),
    ("SELECT set_config('standard_conforming_strings', 'off', false)", "deny"),
    ("RESET ALL", "deny"),
    ("SET search_path = pg_temp, public", "require_approval"),
    ("SELECT 1; SET search_path = public", "require_approval"),
    ("UPDATE pg_catalog.pg_authid SET rolsuper = true WHERE rolname = current_user", "deny"),
    ("UPDATE pg_authid SET rolsuper = true WHERE rolname = 'x'", "deny"),
    ("DELETE FROM pg_catalog.pg_description WHERE objoid = 0", "deny"),
    ("UPDATE U&\"\\0070g_authid\" SET rolsuper = true WHERE rolname = 'x'", "deny"),
    ("SELECT pg_read_file('/etc/hostname')", "deny"),
    ("SELECT U&\"\\0070g_read_file\"('/etc/hostname')", "deny"),
    ('SELECT "pg_catalog"."PG_LS_DIR"(\'.\')', "deny"),
    ("SELECT pg_ls_logdir()", "deny"),
    ("COPY (SELECT 1) TO '{out}/copy.csv'", "deny"),
    ("SELECT lo_unlink(1)", "require_approval"),
    ("SET statement_timeout = 5000", "allow"),
    ("SET LOCAL lock_timeout = '1s'", "allow"),
    ("SET application_name = 'report'", "allow"),
    ("SET TIME ZONE 'UTC'", "allow"),
    ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "allow"),
    ("BEGIN", "allow"),
    ("SELECT id FROM accounts WHERE id = 1", "allow"),
]


def test_postgres_session_statements(postgres_conn, outdir):
    schema, role = f"fw_i12s_{os.getpid()}", f"fw_i12s_low_{os.getpid()}"
    firewall = pack("postgres")
    failures: list[str] = []
    changes = 0
    with postgres_conn.cursor() as cur:
        pg_seed(cur, schema, role)
        for template, expected in PG_SESSION:
            sql = template.replace("{out}", str(outdir))
            label = verdict(firewall, "postgres", sql)
            if label != expected:
                failures.append(f"{sql}: {label}, expected {expected}")
            cur.execute("SAVEPOINT fw_case")
            cur.execute(f"SET ROLE {role}")
            watched = pg_observe(cur, outdir)
            if pg_run(cur, sql):
                now = pg_observe(cur, outdir)
                changes += now != watched
                if label == "allow" and now != watched:
                    failures.append(f"allowed, changed identity/settings/catalog/files: {sql}")
            cur.execute("ROLLBACK TO SAVEPOINT fw_case")
    postgres_conn.rollback()
    assert not failures, "\n".join(failures)
    assert changes >= 8, f"only {changes} statements changed anything observed"


# -- MariaDB --------------------------------------------------------------------------------

MY_SETTINGS = (
    "CURRENT_USER()",
    "CURRENT_ROLE()",
    "@@session.sql_mode",
    "@@session.character_set_client",
    "@@session.tx_read_only",
)


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


def my_seed(cur, db: str) -> None:
    cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    cur.execute(f"CREATE DATABASE `{db}`")
    cur.execute(f"USE `{db}`")
    cur.execute(
        "CREATE TABLE accounts (id INT PRIMARY KEY, email VARCHAR(64) UNIQUE, name TEXT,"
        " status TEXT, balance INT, admin BOOL, owner_id INT, note TEXT) ENGINE=InnoDB"
    )
    cur.executemany("INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", seed_rows())
    cur.execute("CREATE TABLE owners (id INT PRIMARY KEY, region TEXT) ENGINE=InnoDB")
    cur.executemany(
        "INSERT INTO owners VALUES (%s, %s)",
        [(i, ("north", "south", "east")[i % 3]) for i in range(1, 11)],
    )
    cur.execute("CREATE TABLE audit (account_id INT, action TEXT) ENGINE=InnoDB")


def my_rows(cur) -> dict:
    cur.execute("SELECT * FROM accounts")
    return {row[0]: row for row in cur.fetchall()}


def my_observe(cur, outdir: Path) -> tuple:
    cur.execute("SELECT " + ", ".join(MY_SETTINGS))
    values = cur.fetchone()
    cur.execute(
        "SELECT md5(group_concat(concat(Host, User, Priv) ORDER BY Host, User))"
        " FROM mysql.global_priv"
    )
    privileges = cur.fetchone()[0]
    return values, privileges, sorted(os.listdir(outdir))


def my_run(cur, sql: str) -> bool:
    try:
        cur.execute(sql)
        while cur.nextset():
            pass
        return True
    except Exception:
        return False


def my_restore_session(cur, db: str) -> None:
    cur.execute(
        "SET SESSION sql_mode = DEFAULT, SESSION character_set_client = DEFAULT,"
        " SESSION tx_read_only = 0"
    )
    cur.execute(f"USE `{db}`")


def test_mariadb_bounded_writes_change_fewer_than_all_rows(mariadb_multi, outdir):
    db = f"fw_i12_{os.getpid()}"
    firewall = pack("mysql")
    failures: list[str] = []
    counts = {"everyday": 0, "adversarial": 0, "bounded": 0, "ran": 0}
    cur = mariadb_multi.cursor()
    try:
        my_seed(cur, db)
        baseline = my_rows(cur)
        assert len(baseline) == ROWS
        for kind, sql in corpus("mysql"):
            counts[kind] += 1
            watched = my_observe(cur, outdir)
            cur.execute("START TRANSACTION")
            ran = my_run(cur, sql)
            counts["ran"] += ran
            my_restore_session(cur, db)
            hit = changed(baseline, my_rows(cur))
            now = my_observe(cur, outdir)
            cur.execute("ROLLBACK")
            if my_rows(cur) != baseline:  # something committed on its own: start again
                my_seed(cur, db)
            label = verdict(firewall, "mysql", sql)
            if claims_bounded(sql, "mysql"):
                counts["bounded"] += 1
                if hit >= ROWS:
                    failures.append(f"claimed bounded, changed {hit} rows: {sql}")
            if label == "allow" and hit >= ROWS:
                failures.append(f"allowed, changed {hit} rows: {sql}")
            if label == "allow" and now != watched:
                failures.append(f"allowed, changed identity/settings/catalog/files: {sql}")
            if kind == "everyday" and label != "allow":
                failures.append(f"everyday write not allowed ({label}): {sql}")
            if kind == "adversarial" and label == "allow":
                failures.append(f"adversarial write allowed: {sql}")
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    assert not failures, "\n".join(failures)
    assert counts["everyday"] >= 80 and counts["adversarial"] >= 80, counts
    assert counts["ran"] >= 0.85 * (counts["everyday"] + counts["adversarial"]), counts


# (sql, expected verdict, run it on the shared server?) SET PASSWORD and server-wide
# settings are classified only: running them would change the server for everyone.
MY_SESSION = [
    ("SET sql_mode = 'ANSI_QUOTES'", "deny", True),
    ("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'", "deny", True),
    ("SET @@session.sql_mode = 'ANSI'", "deny", True),
    ("SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')", "deny", True),
    ("SET NAMES sjis", "deny", True),
    ("SET character_set_client = 'gbk'", "deny", True),
    ("SET SESSION tx_read_only = 0", "deny", True),
    ("SET PASSWORD = PASSWORD('x')", "deny", False),
    ("SET PASSWORD FOR 'root'@'%' = 'x'", "deny", False),
    ("SET DEFAULT ROLE ALL TO 'root'@'%'", "deny", False),
    ("SET ROLE NONE", "deny", True),
    ("SET GLOBAL general_log = 1", "require_approval", False),
    ("UPDATE mysql.global_priv SET Priv = '{}' WHERE User = 'nobody'", "deny", False),
    ("INSERT INTO mysql.user (Host, User) VALUES ('%', 'x')", "deny", False),
    ("SELECT LOAD_FILE('/etc/hostname')", "deny", True),
    ("SELECT `load_file`('/etc/hostname')", "deny", True),
    ("SELECT * FROM accounts INTO OUTFILE '{out}/a.txt'", "deny", True),
    ("SELECT name INTO DUMPFILE '{out}/b.txt' FROM accounts WHERE id = 1", "deny", True),
    ("LOAD DATA LOCAL INFILE '/etc/hostname' REPLACE INTO TABLE audit", "deny", False),
    ("HANDLER accounts OPEN", "allow", True),
    ("SET time_zone = '+00:00'", "allow", True),
    ("SET @x = 1", "allow", True),
    ("SET NAMES utf8mb4", "allow", True),
    ("SET innodb_lock_wait_timeout = 5", "allow", True),
]


def test_mariadb_session_statements(mariadb_multi, outdir):
    db = f"fw_i12s_{os.getpid()}"
    firewall = pack("mysql")
    failures: list[str] = []
    changes = 0
    cur = mariadb_multi.cursor()
    try:
        my_seed(cur, db)
        for template, expected, run in MY_SESSION:
            sql = template.replace("{out}", str(outdir))
            label = verdict(firewall, "mysql", sql)
            if label != expected:
                failures.append(f"{sql}: {label}, expected {expected}")
            if not run:
                continue
            watched = my_observe(cur, outdir)
            if my_run(cur, sql):
                now = my_observe(cur, outdir)
                changes += now != watched
                if label == "allow" and now != watched:
                    failures.append(f"allowed, changed identity/settings/catalog/files: {sql}")
            my_run(cur, "HANDLER accounts CLOSE")
            my_restore_session(cur, db)
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    assert not failures, "\n".join(failures)
    assert changes >= 5, f"only {changes} statements changed anything observed"


# -- generated WHERE clauses ----------------------------------------------------------------

INT_COLUMNS = ("id", "owner_id", "balance")
TEXT_COLUMNS = ("name", "email", "status", "note")


def _int_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(-300, 300).map(str),
        st.sampled_from(["0", "-0", "NULL", "(SELECT 1)", "(SELECT max(id) FROM owners)"]),
    )


def _text_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["'user3'", "'u7@x.test'", "'active'", "''", "'%'", "NULL", "'note5'"]),
        st.sampled_from(["0", "1", "0e0", "-0"]),  # MySQL compares these as numbers
    )


def _atoms() -> st.SearchStrategy[str]:
    column = st.sampled_from(INT_COLUMNS)
    text = st.sampled_from(TEXT_COLUMNS)
    op = st.sampled_from(["=", "<>", "<", ">", "<=", ">="])
    return st.one_of(
        st.tuples(column, op, _int_value()).map(" ".join),
        st.tuples(text, st.sampled_from(["=", "<>"]), _text_value()).map(" ".join),
        st.tuples(column, st.just("="), column).map(" ".join),
        st.tuples(column, st.just("= abs("), column, st.just(")")).map("".join),
        st.tuples(column, st.just("= "), column, st.just(" + 0")).map("".join),
        st.tuples(st.just("accounts."), column, st.just(" = "), column).map("".join),
        st.tuples(
            column, st.just(" IN ("), _int_value(), st.just(", "), _int_value(), st.just(")")
        ).map("".join),
        st.tuples(column, st.just(" IN (SELECT id FROM owners)")).map("".join),
        st.tuples(column, st.just(" IN (SELECT id FROM accounts)")).map("".join),
        st.tuples(text, st.just(" IS NULL")).map("".join),
        st.tuples(st.just("lower("), text, st.just(") = lower("), text, st.just(")")).map("".join),
        st.tuples(
            st.just("coalesce("), column, st.just(", 0) = coalesce("), column, st.just(", 0)")
        ).map("".join),
        st.sampled_from(
            ["TRUE", "1 = 1", "EXISTS (SELECT 1)", "(SELECT TRUE)", "1 IN (SELECT 1)", "NOT FALSE"]
        ),
    )


def _targeted() -> st.SearchStrategy[str]:
    """Conditions that compare a column with constants: the ones a bound may rest on."""
    column = st.sampled_from(INT_COLUMNS)
    text = st.sampled_from(TEXT_COLUMNS)
    return st.one_of(
        st.tuples(column, st.just("="), _int_value()).map(" ".join),
        st.tuples(text, st.just("="), _text_value()).map(" ".join),
        st.tuples(
            column, st.just(" IN ("), _int_value(), st.just(", "), _int_value(), st.just(")")
        ).map("".join),
        st.tuples(
            text, st.just(" IN ("), _text_value(), st.just(", "), _text_value(), st.just(")")
        ).map("".join),
    )


WHERE = st.recursive(
    st.one_of(_targeted(), _targeted(), _atoms()),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" AND ", " OR "]), inner).map(
            lambda t: f"({t[0]}{t[1]}{t[2]})"
        ),
        inner.map(lambda c: f"NOT ({c})"),
    ),
    max_leaves=4,
)
STATEMENT = st.tuples(
    st.sampled_from(["UPDATE accounts SET note = 'w' WHERE ", "DELETE FROM accounts WHERE "]), WHERE
).map("".join)
GENERATED = settings(
    max_examples=int(os.environ.get("FIREWALL_SQL_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_generated_where_clauses_on_postgres(postgres_conn):
    schema, role = f"fw_i12h_{os.getpid()}", f"fw_i12h_low_{os.getpid()}"
    cur = postgres_conn.cursor()
    pg_seed(cur, schema, role)
    baseline = pg_rows(cur)
    seen = {"bounded": 0}

    @GENERATED
    @given(STATEMENT)
    def check(sql: str) -> None:
        if not claims_bounded(sql, "postgres"):
            return
        seen["bounded"] += 1
        cur.execute("SAVEPOINT fw_case")
        hit = changed(baseline, pg_rows(cur)) if pg_run(cur, sql) else 0
        cur.execute("ROLLBACK TO SAVEPOINT fw_case")
        assert hit < ROWS, f"claimed bounded, changed {hit} rows: {sql}"

    try:
        check()
    finally:
        postgres_conn.rollback()
    assert seen["bounded"] > 0


def test_generated_where_clauses_on_mariadb(mariadb_multi):
    db = f"fw_i12h_{os.getpid()}"
    cur = mariadb_multi.cursor()
    my_seed(cur, db)
    baseline = my_rows(cur)
    seen = {"bounded": 0}

    @GENERATED
    @given(STATEMENT)
    def check(sql: str) -> None:
        if not claims_bounded(sql, "mysql"):
            return
        seen["bounded"] += 1
        cur.execute("START TRANSACTION")
        hit = changed(baseline, my_rows(cur)) if my_run(cur, sql) else 0
        cur.execute("ROLLBACK")
        assert hit < ROWS, f"claimed bounded, changed {hit} rows: {sql}"

    try:
        check()
    finally:
        cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
    assert seen["bounded"] > 0
