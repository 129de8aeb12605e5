"""Proof that a write changes only some rows: which condition bounds each UPDATE/DELETE.

A write is *bounded* only when its WHERE restricts the target table's rows by comparing
a target column with a constant or a parameter (``id = 7``, ``id IN (1, 2)``,
``email = $1``), reached through AND; an OR is bounded only when every branch is. Several
values for one column (an IN list, OR branches) bound only on a key column (``id``,
``email``, ...) and only up to the policy's number of rows, as does a ``LIMIT``: a list
can name every value a column like ``status`` holds. Everything else (ranges, subqueries,
self-joins, functions of columns, ``x = x``) is not a proof, however harmless it looks:
the claim is what a rule relies on, so when in doubt it is false.

Traps the checks below close, each seen on a real engine:

- a niladic function written like a column (``WHERE user = 'app'`` is ``current_user``
  in PostgreSQL, true for every row);
- MySQL compares a text column with a number as doubles, so ``WHERE email = 0`` matches
  every non-numeric text; zero (and booleans) therefore prove nothing in MySQL;
- SQLite reads a double-quoted name that is no column as a string, so
  ``WHERE "nosuch" = 'nosuch'`` is always true; quoted names prove nothing there;
- with other tables in the statement (``UPDATE ... FROM``, ``DELETE ... USING``, joins) an
  unqualified column may belong to them: only columns qualified by the target count.
"""

from __future__ import annotations

from sqlglot import exp

#: Keywords PostgreSQL and others read as functions, not columns, when written bare.
_NILADIC = frozenset(
    {
        "user",
        "current_user",
        "session_user",
        "current_role",
        "current_catalog",
        "current_schema",
        "current_date",
        "current_time",
        "current_timestamp",
        "localtime",
        "localtimestamp",
        "system_user",
        "sysdate",
        "rownum",
    }
)
_MYSQL = frozenset({"mysql", "mariadb", "singlestore", "starrocks", "doris", "tidb"})

#: A LIMIT above this is never a bound, whatever the policy says (it is "all rows").
HARD_LIMIT = 2**31 - 1


class Target:
    """The table a write changes and how its columns may be written."""

    __slots__ = ("db", "names", "qualified_only")

    def __init__(self, table: exp.Table, qualified_only: bool) -> None:
        alias = table.alias
        self.names = frozenset({(alias or table.name).lower()})
        db = table.args.get("db")
        self.db = db.name.lower() if isinstance(db, exp.Identifier) else ""
        self.qualified_only = qualified_only


#: Columns that conventionally hold one row per value: a list of their values bounds a
#: write. Any other column is bounded by one value only: ``status IN ('a', 'b', 'c')`` or
#: ``admin = true OR admin = false`` can name every value the column holds.
KEY_COLUMNS = frozenset({"id", "uuid", "guid", "pk", "email"})


class Bound:
    """A proven restriction: its SQL and how many values it allows per column."""

    __slots__ = ("sql", "values")

    def __init__(self, sql: str, values: dict[str, int]) -> None:
        self.sql = sql
        self.values = values

    def valid(self, most: int) -> bool:
        """One value per column, or a list of at most ``most`` values on a key column."""
        return sum(self.values.values()) <= most and all(
            count == 1 or column in KEY_COLUMNS for column, count in self.values.items()
        )


def condition_bound(
    cond: exp.Expression, target: Target, dialect: str, most: int = 100
) -> str | None:
    """The part of ``cond`` that restricts the target's rows (as SQL), or ``None``."""
    bound = _bound(cond, target, dialect, most)
    return bound.sql if bound is not None else None


def _bound(cond: exp.Expression, target: Target, dialect: str, most: int) -> Bound | None:
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.And):
        left = _bound(cond.this, target, dialect, most)
        if left is not None:
            return left
        return _bound(cond.expression, target, dialect, most)
    if isinstance(cond, exp.Or):
        left = _bound(cond.this, target, dialect, most)
        if left is None:
            return None
        right = _bound(cond.expression, target, dialect, most)
        if right is None:
            return None
        values = dict(left.values)
        for column, count in right.values.items():
            values[column] = values.get(column, 0) + count
        both = Bound(f"({left.sql}) OR ({right.sql})", values)
        return both if both.valid(most) else None
    if isinstance(cond, exp.EQ):
        left, right = cond.this, cond.expression
        if _target_column(left, target, dialect) and _constant(right, dialect):
            return Bound(cond.sql(dialect), {left.name.lower(): 1})
        if _target_column(right, target, dialect) and _constant(left, dialect):
            return Bound(cond.sql(dialect), {right.name.lower(): 1})
        return None
    if isinstance(cond, exp.In):
        if cond.args.get("query") is not None or cond.args.get("unnest") is not None:
            return None
        values = cond.expressions
        if (
            values
            and _target_column(cond.this, target, dialect)
            and all(_constant(v, dialect) for v in values)
        ):
            bound = Bound(cond.sql(dialect), {cond.this.name.lower(): len(values)})
            return bound if bound.valid(most) else None
    return None


def _target_column(node: exp.Expression, target: Target, dialect: str) -> bool:
    if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
        return False
    ident = node.this
    if ident.quoted and dialect == "sqlite":
        return False
    if not ident.quoted and ident.name.lower() in _NILADIC:
        return False
    qualifier = node.args.get("table")
    if qualifier is None:
        return not target.qualified_only
    if node.args.get("catalog") is not None:
        return False
    db = node.args.get("db")
    if db is not None and db.name.lower() != target.db:
        return False
    return qualifier.name.lower() in target.names


def _constant(node: exp.Expression, dialect: str) -> bool:
    """A literal (not NULL, not a boolean) or a bind parameter, possibly cast."""
    while isinstance(node, exp.Cast | exp.Paren | exp.Introducer):
        node = node.expression if isinstance(node, exp.Introducer) else node.this
    negative = False
    if isinstance(node, exp.Neg):
        node, negative = node.this, True
    if isinstance(node, exp.Placeholder | exp.Parameter) and not negative:
        return True
    if isinstance(node, exp.National) and not negative:
        return True
    if not isinstance(node, exp.Literal):
        return False
    if node.is_string:
        return not negative
    if dialect in _MYSQL:
        try:
            return float(node.this) != 0.0
        except ValueError:
            return False
    return True


def limit_value(node: exp.Expression | None) -> int | None:
    """The row count of a ``LIMIT n`` (``TOP (n)``), or ``None`` when it is no plain count."""
    if isinstance(node, exp.Limit | exp.Fetch):
        node = node.args.get("expression") or node.args.get("count")
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this)
    elif isinstance(node, exp.Identifier) and not node.quoted:
        text = node.name
    else:
        return None
    if not text.isdigit():
        return None
    value = int(text)
    return value if value <= HARD_LIMIT else None


def in_cte(node: exp.Expression) -> bool:
    """True when ``node`` sits inside a WITH clause (a data-modifying CTE)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.CTE):
            return True
        parent = parent.parent
    return False
