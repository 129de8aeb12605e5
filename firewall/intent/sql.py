"""The SQL classifier: what a SQL text would do to a database, read from its syntax tree.

A tool declares it with ``classify: {classifier: sql, argument: query, dialect: postgres}``.
The text is prepared (MySQL executable comments unwrapped, disguising Unicode
normalised), parsed once by sqlglot at a strict error level, and every statement (and
every statement nested in one: data-modifying CTEs, dynamic SQL with a literal body,
``EXPLAIN ANALYZE``) is walked once. The intents are the union over all statements.
Anything that does not parse, or parses into something that is not a statement, is
``unknown`` (never ``data.read``); MySQL/T-SQL forms sqlglot cannot parse (``INTO OUTFILE``,
``LOAD DATA``, ``BULK INSERT``, ``BACKUP``, ``HANDLER``) are read statement by statement,
and any other parse failure still reports the intents its keywords announce.

Facts (``facts.sql.<name>`` in conditions):

- ``dialect``: the dialect the text was read in.
- ``statements``: statement kinds in order of first appearance, nested ones included
  (``["select", "delete"]`` for ``WITH d AS (DELETE ...) SELECT ...``).
- ``statement_count``: number of top-level statements.
- ``tables_read`` / ``tables_written``: lower-case table names, schema-qualified where
  the text qualifies them (``sales.orders``). Written covers DML targets and DDL objects.
- ``has_where`` / ``has_limit``: every write has a WHERE / a LIMIT (``TOP``); true when
  there is none.
- ``trivial_where``: some UPDATE/DELETE has a WHERE that is true for every row
  (``1=1``, ``true``, ``'a'='a'``, ``x=x``, ``... OR 1=1``, any condition without a column).
- ``unbounded_write``: some UPDATE/DELETE/MERGE/upsert is not *proven* to change only some
  rows (see ``sqlparts/bounds.py``): the "bulk change" rules care about.
- ``write_bound``: one line per write saying which condition bounds it, or why none does.
- ``write_limit``: the largest ``LIMIT`` a write relies on (0 when none); a LIMIT bounds
  only up to the ``write_limit`` option (default 100).
- ``write_count``: number of UPDATE/DELETE/MERGE/upsert statements.
- ``exports``: where data is sent: file paths, URLs, ``STDOUT``, ``PROGRAM <cmd>``, stages.
- ``functions``: dangerous functions and procedures called (``pg_read_file``,
  ``xp_cmdshell``, ...) and procedures run by ``CALL``/``EXEC``.
- ``files_read`` / ``files_written``: server or client files the statements touch.
- ``remote``: URLs and remote locations read or written (``s3://...``, ``https://...``).
- ``drops``: kinds of objects dropped or replaced (``table``, ``column``, ``database``...).
- ``settings``: session or server settings changed (``role``, ``statement_timeout``,
  ``@var`` for a user variable, ``all`` for ``RESET ALL``).
- ``lexer_settings``: the settings among them that change how later SQL is lexed.
- ``system_tables``: server catalog tables written (``pg_catalog.pg_authid``, ``mysql.user``).
- ``dynamic_sql``: SQL built or run at run time (``EXECUTE``, ``PREPARE``, ``DO``,
  ``sp_executesql``, ``EXEC(...)``, ``EXECUTE IMMEDIATE``, ``query_to_xml``).
- ``executable_comments``: the text contained MySQL ``/*! ... */`` code comments.
- ``unicode_normalized``: invisible or look-alike characters were removed or replaced.
- ``error``: why the text could not be fully read (only present with ``unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from firewall.intent import Classifier, register
from firewall.intent.sqlparts.prepare import prepare
from firewall.intent.sqlparts.reader import analyze_text, dialect_of
from firewall.model import Classification, Intent

DEFAULT_DIALECT = "postgres"

#: Rows a ``LIMIT`` may allow and still bound a write (the ``write_limit`` option).
DEFAULT_WRITE_LIMIT = 100

#: Longest text classified; anything longer is ``unknown`` (parsing it would stall the call).
MAX_LENGTH = 1_000_000

FACTS = frozenset(
    {
        "dialect",
        "statements",
        "statement_count",
        "tables_read",
        "tables_written",
        "has_where",
        "has_limit",
        "trivial_where",
        "unbounded_write",
        "write_bound",
        "write_limit",
        "write_count",
        "exports",
        "functions",
        "files_read",
        "files_written",
        "remote",
        "drops",
        "dynamic_sql",
        "settings",
        "lexer_settings",
        "system_tables",
        "executable_comments",
        "unicode_normalized",
        "error",
    }
)

_UNKNOWN = Intent.UNKNOWN.value


def classify_sql(
    text: str, dialect: str = DEFAULT_DIALECT, write_limit: int = DEFAULT_WRITE_LIMIT
) -> Classification:
    """Classify one SQL text (one or more statements) written in ``dialect``.

    ``write_limit``: a ``LIMIT n`` bounds an UPDATE/DELETE only when ``n`` is at most this.
    Never raises: input it cannot read, including an unknown dialect, is ``unknown``.
    The result is shared between calls with the same text; treat it as read-only.
    """
    if not isinstance(text, str) or not isinstance(dialect, str):
        return _unknown("the SQL is not a string", dialect if isinstance(dialect, str) else "")
    if len(text) > MAX_LENGTH:
        return _unknown(f"SQL longer than {MAX_LENGTH} characters", dialect)
    try:
        return _classify_cached(text, dialect.lower(), write_limit)
    except Exception as exc:  # a classifier must not raise; what it cannot read is unknown
        return _unknown(f"SQL could not be classified: {type(exc).__name__}: {exc}", dialect)


def classify(value: Any, options: Mapping[str, Any]) -> Classification:
    """The registered classifier: ``options['dialect']`` names the SQL dialect,
    ``options['write_limit']`` the largest ``LIMIT`` that still bounds a write."""
    dialect = options.get("dialect", DEFAULT_DIALECT) if options else DEFAULT_DIALECT
    limit = options.get("write_limit", DEFAULT_WRITE_LIMIT) if options else DEFAULT_WRITE_LIMIT
    if not isinstance(value, str):
        return _unknown(f"the SQL argument is a {type(value).__name__}, not a string", str(dialect))
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        return _unknown("the sql classifier's write_limit is not a row count", str(dialect))
    return classify_sql(value, dialect if isinstance(dialect, str) else str(dialect), limit)


@lru_cache(maxsize=512)
def _classify_cached(text: str, dialect: str, write_limit: int) -> Classification:
    try:
        dialect_of(dialect)
    except ValueError:
        return _unknown(f"unknown SQL dialect '{dialect}'", dialect)
    if not text.strip():
        return _unknown("the SQL is empty", dialect)
    prepared = prepare(text)
    analysis = analyze_text(prepared.text, dialect, 0, write_limit)
    if prepared.ambiguous:
        analysis.fail("look-alike characters change how the text splits into tokens")
    facts = analysis.facts()
    facts["executable_comments"] = prepared.executable_comments
    facts["unicode_normalized"] = prepared.unicode_normalized
    if analysis.errors:
        facts["error"] = "; ".join(dict.fromkeys(analysis.errors))
    return Classification.model_construct(intents=frozenset(analysis.intents), facts=facts)


def _unknown(why: str, dialect: str) -> Classification:
    return Classification.model_construct(
        intents=frozenset({_UNKNOWN}),
        facts={
            "dialect": dialect,
            "statements": [],
            "statement_count": 0,
            "tables_read": [],
            "tables_written": [],
            "has_where": False,
            "has_limit": False,
            "trivial_where": False,
            "unbounded_write": False,
            "write_bound": [],
            "write_limit": 0,
            "write_count": 0,
            "exports": [],
            "functions": [],
            "files_read": [],
            "files_written": [],
            "remote": [],
            "drops": [],
            "dynamic_sql": False,
            "settings": [],
            "lexer_settings": [],
            "system_tables": [],
            "executable_comments": False,
            "unicode_normalized": False,
            "error": why,
        },
    )


def validate_options(options: Mapping[str, Any]) -> None:
    """Reject a tool declaration whose ``dialect`` sqlglot does not know."""
    limit = options.get("write_limit", DEFAULT_WRITE_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError("the sql classifier's 'write_limit' must be a row count (e.g. 100)")
    dialect = options.get("dialect", DEFAULT_DIALECT)
    if not isinstance(dialect, str) or not dialect.strip():
        raise ValueError("the sql classifier's 'dialect' must be a dialect name, e.g. postgres")
    try:
        dialect_of(dialect.lower())
    except ValueError:
        raise ValueError(
            f"unknown SQL dialect '{dialect}' (e.g. postgres, mysql, sqlite, duckdb, tsql,"
            " snowflake, bigquery)"
        ) from None


register(
    Classifier(
        name="sql",
        func=classify,
        facts=FACTS,
        options=frozenset({"dialect", "write_limit"}),
        description="SQL statements: intents, tables, WHERE/LIMIT, exports (sqlglot).",
        validate_options=validate_options,
    )
)
