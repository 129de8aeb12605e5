"""One pass over a parsed statement: every node type that matters has a handler.

The walk visits every node, so a DELETE inside a CTE, an INSERT inside a rule body or a
dangerous function deep in a subquery is seen wherever it sits. Handlers are looked up
by the node's exact type (one dict lookup per node); everything else is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlglot import exp

from firewall.intent.sqlparts import analysis as A
from firewall.intent.sqlparts import session
from firewall.intent.sqlparts.analysis import Analysis
from firewall.intent.sqlparts.bounds import Target, condition_bound, in_cte, limit_value
from firewall.intent.sqlparts.catalog import (
    FUNCTIONS,
    PROCEDURES,
    Dangerous,
    is_remote,
    looks_like_file,
    lookup,
)

Handler = Callable[[Analysis, Any], None]

#: Top-level node types that are statements; anything else (``1+1``, a bare name) is not.
STATEMENTS: frozenset[type] = frozenset(
    {
        exp.Select,
        exp.Union,
        exp.Intersect,
        exp.Except,
        exp.Values,
        exp.Subquery,
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Merge,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.TruncateTable,
        exp.Copy,
        exp.Grant,
        exp.Revoke,
        exp.Set,
        exp.Show,
        exp.Use,
        exp.Describe,
        exp.Pragma,
        exp.Attach,
        exp.Detach,
        exp.Transaction,
        exp.Commit,
        exp.Rollback,
        exp.Command,
        exp.Execute,
        exp.ExecuteSql,
        exp.Export,
        exp.LoadData,
        exp.Put,
        exp.Install,
        exp.Comment,
        exp.Undrop,
        exp.Declare,
        exp.Summarize,
        exp.Analyze,
    }
)

#: Top-level nodes that are no statement at all (an empty ``;``, BigQuery's ``END``).
EMPTY: frozenset[type] = frozenset({exp.Semicolon, exp.EndStatement})


def walk_statement(a: Analysis, root: exp.Expression) -> None:
    """Classify one top-level statement into ``a``."""
    if type(root) is exp.Describe and _style(root) != "ANALYZE":
        _describe(a, root)
        return
    handlers = HANDLERS
    for node in root.walk():
        handler = handlers.get(type(node))
        if handler is not None:
            handler(a, node)


# -- helpers ---------------------------------------------------------------------------


def _style(node: exp.Expression) -> str:
    style = node.args.get("style")
    return str(style.name if isinstance(style, exp.Expression) else style or "").upper()


def _name(table: exp.Table) -> str:
    """``catalog.db.name`` as written, lower case."""
    name = table.name
    if not name:
        return ""
    db = table.args.get("db")
    if db is None:
        return name.lower()
    catalog = table.args.get("catalog")
    parts = (catalog.name, db.name, name) if catalog is not None else (db.name, name)
    return ".".join(p for p in parts if p).lower()


def _written(a: Analysis, target: Any) -> None:
    """Record ``target`` (a table, a table with columns, a directory) as written."""
    if isinstance(target, exp.Schema):
        target = target.this
    if isinstance(target, exp.Table):
        a.targets.add(id(target))
        name = _name(target)
        if name:
            a.written[name] = None
    elif isinstance(target, exp.Directory):
        location = _text(target.this)
        if location:
            a.sink(location)


def _text(node: Any) -> str:
    if isinstance(node, exp.Literal | exp.Identifier | exp.Var | exp.National):
        return str(node.this)
    return ""


def _literals(node: exp.Expression) -> Iterator[str]:
    """String literals among a function's direct arguments (and inside array arguments)."""
    for arg in node.iter_expressions():
        if isinstance(arg, exp.National) or (isinstance(arg, exp.Literal) and arg.is_string):
            yield str(arg.this)
        elif isinstance(arg, exp.Array):
            for item in arg.expressions:
                if isinstance(item, exp.Literal) and item.is_string:
                    yield item.this


def _nested(a: Analysis, text: str, why: str) -> None:
    from firewall.intent.sqlparts.reader import analyze_nested

    analyze_nested(a, text, why)


_FALSE = frozenset({"0", "false"})


def is_trivial(cond: exp.Expression) -> bool:
    """True when a WHERE condition selects every row (or none, by a constant).

    A condition that mentions no column is the same for every row: ``1=1``, ``true``,
    ``'a'='a'``, ``2>1``, ``NOT false``. A comparison of a column with itself (``x=x``)
    and an OR with such a branch are too.
    """
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.Or):
        return is_trivial(cond.this) or is_trivial(cond.expression)
    if isinstance(cond, exp.And):
        return is_trivial(cond.this) and is_trivial(cond.expression)
    if isinstance(cond, exp.EQ | exp.NullSafeEQ | exp.GTE | exp.LTE | exp.Like | exp.ILike):
        left, right = cond.this, cond.expression
        if isinstance(left, exp.Column) and left == right:
            return True
        if isinstance(cond, exp.Like | exp.ILike) and _text(right) == "%":
            return True
    if cond.find(exp.Column, exp.Subquery, exp.Select) is not None:
        return False
    return not _constant_false(cond)


def _constant_false(cond: exp.Expression) -> bool:
    if isinstance(cond, exp.Boolean):
        return not cond.this
    if isinstance(cond, exp.Null):
        return True
    if isinstance(cond, exp.Literal):
        return str(cond.this).strip().lower() in _FALSE
    if isinstance(cond, exp.EQ) and isinstance(cond.this, exp.Literal):
        right = cond.expression
        left = cond.this
        return isinstance(right, exp.Literal) and (right.this, right.is_string) != (
            left.this,
            left.is_string,
        )
    return False


# -- statements ------------------------------------------------------------------------


def _describe(a: Analysis, node: exp.Describe) -> None:
    """``EXPLAIN stmt`` / ``DESCRIBE t`` without ANALYZE: only reads the catalog."""
    a.kind("explain" if not isinstance(node.this, exp.Table) else "describe")
    a.intents.add(A.READ)
    if isinstance(node.this, exp.Table):
        name = _name(node.this)
        if name:
            a.read[name] = None


def _select(a: Analysis, node: exp.Expression) -> None:
    a.kind("select")
    a.intents.add(A.READ)


def _into(a: Analysis, node: exp.Into) -> None:
    target = node.this
    if isinstance(target, exp.Table) and isinstance(target.this, exp.Parameter | exp.Var):
        a.targets.add(id(target))  # MySQL ``INTO @variable``: no table is written
        return
    a.kind("select into")
    a.intents.update((A.CREATE, A.WRITE))
    _written(a, target)


def _insert(a: Analysis, node: exp.Insert) -> None:
    a.kind("insert")
    a.intents.add(A.WRITE)
    _written(a, node.this)
    if node.args.get("overwrite"):
        a.intents.add(A.DELETE)
        a.write(f"insert overwrite {_label(node.this)}", None, why="it replaces every row")
        return
    if str(node.args.get("alternative") or "").upper() == "REPLACE":
        a.intents.add(A.DELETE)  # INSERT OR REPLACE deletes the rows it conflicts with
        _upsert(a, node, "insert or replace")
        return
    conflict = node.args.get("conflict")
    if conflict is not None:
        action = conflict.args.get("action")
        updates = conflict.args.get("duplicate") or (
            isinstance(action, exp.Expression) and "UPDATE" in action.name.upper()
        )
        if updates:
            _upsert(a, node, "insert ... on conflict update")


def _upsert(a: Analysis, node: exp.Insert, what: str) -> None:
    """An insert that updates the rows it conflicts with: bounded by its VALUES rows."""
    label = f"{what} {_label(node.this)}"
    source = node.expression
    if in_cte(node):
        a.write(label, None, why="a write inside a WITH clause")
    elif isinstance(source, exp.Values):
        rows = len(source.expressions)
        if rows <= a.max_limit:
            a.write(label, f"its {rows} VALUES row(s), one conflicting row each", has_where=True)
        else:
            a.write(label, None, has_where=True, why=f"{rows} VALUES rows")
    else:
        a.write(label, None, why="it updates whatever rows a query yields")


def _label(target: Any) -> str:
    if isinstance(target, exp.Schema):
        target = target.this
    return _name(target) if isinstance(target, exp.Table) else "?"


def _update(a: Analysis, node: exp.Update) -> None:
    a.kind("update")
    a.intents.add(A.WRITE)
    _written(a, node.this)
    if isinstance(node.parent, exp.When):  # MERGE ... THEN UPDATE: counted with the MERGE
        return
    target = node.this
    where = node.args.get("where")
    has_where = where is not None
    trivial = has_where and is_trivial(where.this)
    limit = limit_value(node.args.get("limit")) if node.args.get("limit") is not None else None
    label = f"update {_label(target)}"
    if in_cte(node):
        a.write(label, None, has_where=has_where, trivial=trivial, why="a write inside WITH")
        return
    if not isinstance(target, exp.Table) or target.args.get("joins"):
        a.write(
            label,
            None,
            has_where=has_where,
            trivial=trivial,
            limit=limit,
            why="several tables are updated",
        )
        return
    others = node.args.get("from_") is not None or node.args.get("from") is not None
    bound = None
    if has_where:
        bound = condition_bound(where.this, Target(target, others), a.dialect, a.max_limit)
    a.write(
        label, bound, has_where=has_where, trivial=trivial, limit=limit, why=_why(has_where, others)
    )


def _why(has_where: bool, others: bool) -> str:
    if not has_where:
        return "no WHERE"
    if others:
        return "no target column (qualified by the target) equals a constant"
    return "no target column equals a constant or parameter through AND"


def _delete(a: Analysis, node: exp.Delete) -> None:
    a.kind("delete")
    a.intents.add(A.DELETE)
    if isinstance(node.parent, exp.When):  # MERGE ... THEN DELETE: counted with the MERGE
        return
    limit = limit_value(node.args.get("limit")) if node.args.get("limit") is not None else None
    targets = []
    for table in node.args.get("tables") or ():
        if (
            a.dialect == "tsql"
            and isinstance(table, exp.Table)
            and table.name.lower() == "top"
            and table.args.get("alias") is not None
        ):
            columns = table.args["alias"].columns  # ``DELETE TOP (n) FROM t``
            limit = limit_value(columns[0]) if len(columns) == 1 else None
            a.targets.add(id(table))
            continue
        targets.append(table)
    aliases = _aliases(node.this) if targets else {}
    for target in targets or (node.this,):
        if isinstance(target, exp.Table) and not target.args.get("db"):
            real = aliases.get(target.name.lower())
            if real:
                a.targets.add(id(target))
                a.written[real] = None
                continue
        _written(a, target)
    where = node.args.get("where")
    has_where = where is not None
    trivial = has_where and is_trivial(where.this)
    main = targets[0] if len(targets) == 1 else node.this
    shown = _label(main)
    label = f"delete {aliases.get(shown, shown) if len(targets) <= 1 else 'several tables'}"
    if in_cte(node):
        a.write(label, None, has_where=has_where, trivial=trivial, why="a write inside WITH")
        return
    source = node.this
    others = bool(
        node.args.get("using")
        or targets
        or (isinstance(source, exp.Table) and source.args.get("joins"))
    )
    if len(targets) > 1 or not isinstance(main, exp.Table):
        a.write(
            label,
            None,
            has_where=has_where,
            trivial=trivial,
            limit=limit,
            why="several tables are deleted from",
        )
        return
    bound = None
    if has_where:
        bound = condition_bound(where.this, Target(main, others), a.dialect, a.max_limit)
    a.write(
        label, bound, has_where=has_where, trivial=trivial, limit=limit, why=_why(has_where, others)
    )


def _aliases(source: Any) -> dict[str, str]:
    """``alias -> table`` for a multi-table DELETE's FROM clause (``DELETE a FROM t a ...``)."""
    found: dict[str, str] = {}
    if isinstance(source, exp.Table):
        for table in (source, *(j.this for j in source.args.get("joins") or ())):
            if isinstance(table, exp.Table) and table.alias:
                found[table.alias.lower()] = _name(table)
    return found


def _merge(a: Analysis, node: exp.Merge) -> None:
    a.kind("merge")
    a.intents.add(A.WRITE)
    _written(a, node.this)
    whens = node.args.get("whens")
    matched = False
    for when in whens.expressions if whens is not None else ():
        then = when.args.get("then")
        if when.args.get("matched"):
            matched = True
        if isinstance(then, exp.Delete) or (
            isinstance(then, exp.Var) and then.name.upper() == "DELETE"
        ):
            a.intents.add(A.DELETE)
    if matched or whens is None:
        a.write(
            f"merge {_label(node.this)}",
            None,
            has_where=True,
            why="MERGE changes every target row its ON condition matches",
        )


def _create(a: Analysis, node: exp.Create) -> None:
    kind = str(node.args.get("kind") or "").upper()
    a.kind("create")
    a.intents.add(A.CREATE)
    _written(a, node.this)
    if node.args.get("expression") is not None and kind in ("TABLE", "MATERIALIZED VIEW"):
        a.intents.add(A.WRITE)
    if node.args.get("replace"):  # CREATE OR REPLACE drops what was there
        a.intents.add(A.DROP)
        a.drops[kind.lower() or "object"] = None
        if kind == "TABLE":
            a.intents.add(A.DELETE)
    if kind == "STAGE":
        for literal in node.find_all(exp.Literal):
            if literal.is_string and ":" in literal.this:
                a.source(literal.this)


def _drop(a: Analysis, node: exp.Drop) -> None:
    kind = str(node.args.get("kind") or "TABLE").upper()
    a.intents.add(A.DROP)
    a.drops[kind.lower()] = None
    if not isinstance(node.parent, exp.Alter):
        a.kind("drop")
    for target in node.args.get("tables") or (node.this,):
        _written(a, target)


def _alter(a: Analysis, node: exp.Alter) -> None:
    a.kind("alter")
    a.intents.add(A.ALTER)
    _written(a, node.this)


def _rename(a: Analysis, node: exp.AlterRename) -> None:
    _written(a, node.this)


def _truncate(a: Analysis, node: exp.TruncateTable) -> None:
    a.kind("truncate")
    a.intents.add(A.TRUNCATE)
    for target in node.expressions:
        _written(a, target)


def _location(node: Any) -> str:
    """A COPY end point: a path or URL, ``STDIN``/``STDOUT``, ``PROGRAM``, ``@stage``."""
    if isinstance(node, exp.Table):
        inner = node.this
        if isinstance(inner, exp.Var) and str(inner.this).startswith("@"):
            return str(inner.this)
        if isinstance(inner, exp.Literal) or (
            isinstance(inner, exp.Identifier) and inner.quoted and is_remote(inner.this)
        ):
            return str(inner.this)
        return ""
    text = _text(node)
    return text.upper() if isinstance(node, exp.Identifier) and not node.quoted else text


def _copy(a: Analysis, node: exp.Copy) -> None:
    a.kind("copy")
    target = node.this
    files = node.args.get("files") or []
    program = ""
    for param in node.args.get("params") or ():
        if not program and isinstance(param, exp.CopyParameter):
            program = _text(param.this)
    target_location = _location(target)
    if node.args.get("kind") and not target_location:  # COPY t FROM <files>
        a.intents.add(A.WRITE)
        _written(a, target)
        for item in files:
            where = _location(item)
            if where == "STDIN":
                continue
            if where == "PROGRAM":
                a.intents.add(A.EXECUTE)
                a.functions[f"PROGRAM {program}".strip()] = None
            elif where:
                a.targets.add(id(item))
                a.source(where)
        return
    # COPY t TO <file>, or Snowflake's COPY INTO <location> FROM <table>: data leaves.
    a.intents.add(A.READ)
    if target_location:
        a.targets.add(id(target))
        a.sink(target_location)
        return
    for item in files:
        where = _location(item)
        if where == "PROGRAM":
            a.intents.add(A.EXECUTE)
            a.sink(f"PROGRAM {program}".strip())
        elif where:
            a.sink(where)


def _grant(a: Analysis, node: exp.Expression) -> None:
    revoke = isinstance(node, exp.Revoke)
    a.kind("revoke" if revoke else "grant")
    a.intents.add(A.REVOKE if revoke else A.GRANT)
    securable = node.args.get("securable")
    if isinstance(securable, exp.Table):
        a.targets.add(id(securable))


def _set(a: Analysis, node: exp.Set) -> None:
    a.kind("set")


def _set_item(a: Analysis, node: exp.SetItem) -> None:
    session.set_item(a, node)


def _show(a: Analysis, node: exp.Expression) -> None:
    a.kind("show")
    a.intents.add(A.READ)


def _use(a: Analysis, node: exp.Use) -> None:
    a.kind("use")
    if isinstance(node.this, exp.Table):
        a.targets.add(id(node.this))
    kind = node.args.get("kind")
    text = kind.name if isinstance(kind, exp.Expression) else str(kind or "")
    if "ROLE" in text.upper():
        a.intents.add(A.GRANT)


def _transaction(a: Analysis, node: exp.Expression) -> None:
    if isinstance(node, exp.Commit):
        a.kind("commit")
    elif isinstance(node, exp.Rollback):
        a.kind("rollback")
    else:
        a.kind("begin")
        modes = node.args.get("modes")
        if modes:
            session.transaction_modes(a, [str(m) for m in modes])


def _explain_analyze(a: Analysis, node: exp.Describe) -> None:
    a.kind("explain analyze")  # the statement runs; its own nodes are walked too


_READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_info",
        "index_xinfo",
        "index_list",
        "foreign_key_list",
        "foreign_key_check",
        "integrity_check",
        "quick_check",
        "function_list",
        "pragma_list",
        "database_list",
        "collation_list",
        "compile_options",
        "module_list",
        "storage_info",
        "version",
    }
)


def _pragma(a: Analysis, node: exp.Pragma) -> None:
    a.kind("pragma")
    this = node.this
    if isinstance(this, exp.EQ | exp.Property | exp.PropertyEQ):
        name = this.this.name.lower() if isinstance(this.this, exp.Expression) else ""
        if name in _READ_PRAGMAS:
            a.intents.add(A.READ)
            return
        a.intents.add(A.ALTER)  # an assignment changes how the database behaves
        if name in ("writable_schema", "trusted_schema"):
            a.intents.add(A.EXECUTE)
    else:
        a.intents.add(A.READ)


def _attach(a: Analysis, node: exp.Attach) -> None:
    a.kind("attach")
    target = node.this
    if isinstance(target, exp.Alias):
        target = target.this
    location = _text(target)
    a.intents.update((A.FILE_READ, A.FILE_WRITE))
    if location:
        a.source(location)
        if not location.startswith(("http://", "https://")):
            a.files_written[location] = None
    else:
        a.fail("ATTACH of something that is not a literal path")


def _detach(a: Analysis, node: exp.Detach) -> None:
    a.kind("detach")
    a.intents.add(A.ALTER)


def _execute(a: Analysis, node: exp.Expression) -> None:
    a.kind("execute")
    a.intents.add(A.EXECUTE)
    target = node.this
    if isinstance(node, exp.ExecuteSql) or isinstance(target, exp.Subquery):
        a.dynamic = True
        if isinstance(target, exp.Table):
            a.targets.add(id(target))
            a.functions[target.name.lower()] = None
        body = target.this if isinstance(target, exp.Subquery) else None
        if isinstance(body, exp.Table):
            a.targets.add(id(body))
            body = body.this
        text = _text(body) if body is not None else ""
        if not text:
            for literal in _literals(node):
                text = literal
                break
        if text:
            _nested(a, text, "dynamic SQL")
        return
    if isinstance(target, exp.Table):
        a.targets.add(id(target))
        name = target.name.lower()
        a.functions[name] = None
        entry = PROCEDURES.get(name)
        if entry is not None:
            a.dangerous(name, entry)
            _function_arguments(a, entry, node)


def _export(a: Analysis, node: exp.Export) -> None:
    a.kind("export")
    a.intents.add(A.READ)
    options = node.args.get("options")
    found = False
    for prop in options.expressions if options is not None else ():
        if isinstance(prop, exp.Property) and prop.name.lower() == "uri":
            location = _text(prop.args.get("value"))
            if location:
                a.sink(location)
                found = True
    if not found:
        a.sink("EXPORT DATA")
        a.intents.add(A.EGRESS)


def _load_data(a: Analysis, node: exp.LoadData) -> None:
    a.kind("load data")
    a.intents.add(A.WRITE)
    if node.args.get("overwrite"):
        a.intents.add(A.DELETE)
    _written(a, node.this)
    found = False
    for key in ("files", "inpath"):
        value = node.args.get(key)
        if isinstance(value, exp.Expression):
            for literal in value.find_all(exp.Literal):
                if literal.is_string:
                    a.source(literal.this)
                    found = True
    if not found:
        a.intents.add(A.FILE_READ)


def _put(a: Analysis, node: exp.Put) -> None:
    a.kind("put")
    location = _text(node.this)
    a.intents.add(A.FILE_READ)
    if location:
        a.files_read[location.removeprefix("file://")] = None
    a.sink(_text(node.args.get("target")) or "@stage")


def _install(a: Analysis, node: exp.Install) -> None:
    a.kind("install")
    a.intents.update((A.EXECUTE, A.EGRESS))


def _comment(a: Analysis, node: exp.Comment) -> None:
    a.kind("comment")
    a.intents.add(A.ALTER)


def _undrop(a: Analysis, node: exp.Expression) -> None:
    a.kind("undrop")
    a.intents.add(A.CREATE)
    _written(a, node.this)


def _declare(a: Analysis, node: exp.Expression) -> None:
    a.kind("declare")


def _analyze(a: Analysis, node: exp.Expression) -> None:
    a.kind("analyze")


def _command(a: Analysis, node: exp.Command) -> None:
    from firewall.intent.sqlparts.commands import classify_command

    classify_command(a, node)


def _cte(a: Analysis, node: exp.CTE) -> None:
    alias = node.alias
    if alias:
        a.ctes.add(alias.lower())


def _table(a: Analysis, node: exp.Table) -> None:
    if id(node) in a.targets:
        return
    inner = node.this
    if isinstance(inner, exp.Identifier):
        if inner.quoted and a.dialect == "duckdb" and looks_like_file(inner.this):
            a.source(inner.this)  # DuckDB scans a quoted path used as a table
            return
    elif isinstance(inner, exp.Var) and str(inner.this).startswith("@"):
        a.intents.add(A.FILE_READ)  # a Snowflake stage
        a.files_read[str(inner.this)] = None
        return
    name = _name(node)
    if name:
        a.read[name] = None


def _function(name: str, entry: Dangerous) -> Handler:
    def handle(a: Analysis, node: exp.Expression) -> None:
        a.dangerous(name, entry)
        _function_arguments(a, entry, node)

    return handle


def _anonymous(a: Analysis, node: exp.Anonymous) -> None:
    name = node.name.lower()
    entry = lookup(name)
    if entry is None:
        entry = PROCEDURES.get(name)
        if entry is None:
            return
    a.dangerous(name, entry)
    _function_arguments(a, entry, node)


def _function_arguments(a: Analysis, entry: Dangerous, node: exp.Expression) -> None:
    how = entry.argument
    if not how:
        return
    literals = list(_literals(node))
    if how == "source":
        for location in literals:
            a.source(location)
    elif how == "path_in":
        for location in literals[:1]:
            a.files_read[location] = None
    elif how == "path_out":
        for location in literals[:1]:
            a.sink(location)
    elif how == "sql":
        a.dynamic = True
        if literals:
            _nested(a, literals[0], "SQL text run by a function")
    elif how == "setting":
        arguments = list(node.iter_expressions())
        if literals and arguments and _is_string(arguments[0]):
            value = _text(arguments[1]) if len(arguments) > 1 and _is_string(arguments[1]) else ""
            session.change(a, literals[0], value, written_out=bool(value))
        else:
            a.intents.add(A.GRANT)  # a setting chosen at run time may be the role
            a.setting("?", lexer=True)


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.National) or (isinstance(node, exp.Literal) and node.is_string)


HANDLERS: dict[type, Handler] = {
    exp.Select: _select,
    exp.Union: _select,
    exp.Intersect: _select,
    exp.Except: _select,
    exp.Values: _select,
    exp.Summarize: _select,
    exp.Into: _into,
    exp.Insert: _insert,
    exp.Update: _update,
    exp.Delete: _delete,
    exp.Merge: _merge,
    exp.Create: _create,
    exp.Drop: _drop,
    exp.Alter: _alter,
    exp.AlterRename: _rename,
    exp.TruncateTable: _truncate,
    exp.Copy: _copy,
    exp.Grant: _grant,
    exp.Revoke: _grant,
    exp.Set: _set,
    exp.SetItem: _set_item,
    exp.Show: _show,
    exp.Use: _use,
    exp.Transaction: _transaction,
    exp.Commit: _transaction,
    exp.Rollback: _transaction,
    exp.Describe: _explain_analyze,
    exp.Pragma: _pragma,
    exp.Attach: _attach,
    exp.Detach: _detach,
    exp.Execute: _execute,
    exp.ExecuteSql: _execute,
    exp.Export: _export,
    exp.LoadData: _load_data,
    exp.Put: _put,
    exp.Install: _install,
    exp.Comment: _comment,
    exp.Undrop: _undrop,
    exp.Declare: _declare,
    exp.Analyze: _analyze,
    exp.Command: _command,
    exp.CTE: _cte,
    exp.Table: _table,
    exp.Anonymous: _anonymous,
}

for _fname, _entry in FUNCTIONS.items():
    _cls = exp.FUNCTION_BY_NAME.get(_fname.upper())
    if _cls is not None and _cls is not exp.Anonymous and _cls not in HANDLERS:
        HANDLERS[_cls] = _function(_fname, _entry)
