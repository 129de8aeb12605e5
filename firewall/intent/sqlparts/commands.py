"""Statements sqlglot does not model (``exp.Command``), classified by their keywords.

A command is never harmless by default: a keyword this module does not know is
``unknown``. The words after the keyword are read with the dialect's tokenizer, so
comments between them (``ALTER /**/ ROLE``) do not hide anything. Where a command
carries a statement it will run (``EXPLAIN ANALYZE``, ``PREPARE ... AS``, a block body,
``EXECUTE IMMEDIATE '...'``), that statement is classified too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from firewall.intent.sqlparts import analysis as A
from firewall.intent.sqlparts import session
from firewall.intent.sqlparts.analysis import Analysis
from firewall.intent.sqlparts.catalog import PROCEDURES

_STRINGS = frozenset({TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.HEREDOC_STRING})
_ROLES = frozenset({"ROLE", "USER", "GROUP", "LOGIN"})
_CREATE_MODIFIERS = frozenset(
    {
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNIQUE",
        "GLOBAL",
        "LOCAL",
        "UNLOGGED",
        "IF",
        "NOT",
        "EXISTS",
        "PERSISTENT",
        "TRUSTED",
        "PROCEDURAL",
        "DEFINER",
        "SECURE",
        "TRANSIENT",
        "VOLATILE",
    }
)
_STATEMENT_START = frozenset(
    {
        "SELECT",
        "WITH",
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "VALUES",
        "TABLE",
        "CREATE",
        "EXECUTE",
        "DECLARE",
        "REPLACE",
        "COPY",
        "FROM",
    }
)
_TRANSACTION_WORDS = frozenset(
    {"", "TRANSACTION", "WORK", "TRAN", "ISOLATION", "READ", "DEFERRED", "IMMEDIATE", "EXCLUSIVE"}
)
_NO_EFFECT = frozenset(
    {
        "COMMIT",
        "END",
        "ROLLBACK",
        "ABORT",
        "SAVEPOINT",
        "RELEASE",
        "START",
        "LISTEN",
        "UNLISTEN",
        "NOTIFY",
        "DEALLOCATE",
        "CLOSE",
        "UNLOCK",
        "PRINT",
        "RAISERROR",
        "WAITFOR",
        "GO",
    }
)
_MAINTENANCE = frozenset(
    {"ANALYZE", "ANALYSE", "OPTIMIZE", "REINDEX", "CLUSTER", "CHECK", "REPAIR"}
)


def classify_command(a: Analysis, node: exp.Command) -> None:
    """Classify a generic command by its keyword and the words that follow it."""
    keyword = str(node.this or "").upper()
    rest = node.expression
    text = str(rest.this) if isinstance(rest, exp.Literal) else str(rest or "")
    from firewall.intent.sqlparts.reader import tokenize

    tokens = tokenize(text, a.dialect)
    if tokens is None:
        a.kind(keyword.lower() or "command")
        a.fail(f"cannot read the {keyword} command")
        return
    words = [t.text.upper() if t.token_type not in _STRINGS else "" for t in tokens]
    handler = _HANDLERS.get(keyword)
    if handler is None:
        a.kind(keyword.lower() or "command")
        a.fail(f"unrecognised statement '{keyword}'")
        return
    handler(a, keyword, text, tokens, words)


# -- helpers ---------------------------------------------------------------------------


def _word(words: Sequence[str], index: int) -> str:
    return words[index] if index < len(words) else ""


def _after(text: str, tokens: Sequence[Token], index: int) -> str:
    """The text from token ``index`` to the end."""
    return text[tokens[index].start :] if index < len(tokens) else ""


def _first_string(tokens: Sequence[Token], start: int = 0) -> str | None:
    for token in tokens[start:]:
        if token.token_type in _STRINGS:
            return token.text
    return None


def _qualified_name(tokens: Sequence[Token], index: int) -> str:
    """``a.b.c`` starting at token ``index`` (lower case), or ``""``."""
    parts: list[str] = []
    while index < len(tokens):
        token = tokens[index]
        if token.token_type in _STRINGS or token.text in ("(", ";", ","):
            break
        parts.append(token.text.lower())
        if index + 1 < len(tokens) and tokens[index + 1].text == ".":
            index += 2
            continue
        break
    return ".".join(parts)


def _nested(a: Analysis, text: str, why: str) -> None:
    from firewall.intent.sqlparts.reader import analyze_nested

    analyze_nested(a, text, why)


def _statement_index(words: Sequence[str], start: int = 0) -> int | None:
    depth = 0
    for index in range(start, len(words)):
        word = words[index]
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0 and word in _STATEMENT_START:
            return index
    return None


# -- keywords --------------------------------------------------------------------------

Handler = Callable[[Analysis, str, str, Sequence[Token], Sequence[str]], None]


def _explain(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    start = _statement_index(words)
    options = words[: start if start is not None else len(words)]
    analyze = False
    for index, word in enumerate(options):
        if word in ("ANALYZE", "ANALYSE"):
            analyze = _word(options, index + 1) not in ("FALSE", "OFF", "0")
    if start is None:
        if keyword in ("DESCRIBE", "DESC") or not words:
            a.kind("describe")
            a.intents.add(A.READ)
            return
        a.kind("explain")
        a.fail("EXPLAIN of something that is not a statement")
        return
    if analyze:
        a.kind("explain analyze")  # the statement runs: it is classified as itself
        _nested(a, _after(text, tokens, start), "EXPLAIN ANALYZE")
        return
    a.kind("explain")
    a.intents.add(A.READ)
    child = _child(a, _after(text, tokens, start))
    if child.errors:
        a.fail(f"EXPLAIN of a statement that cannot be read: {child.errors[0]}")


def _child(a: Analysis, text: str) -> Analysis:
    from firewall.intent.sqlparts.reader import analyze_text

    return analyze_text(text, a.dialect, a.depth + 1, a.max_limit)


def _do(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("do")
    a.dynamic = True
    a.intents.add(A.EXECUTE)


def _execute(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("execute")
    a.dynamic = True
    a.intents.add(A.EXECUTE)
    if _word(words, 0) == "IMMEDIATE":
        body = _first_string(tokens[1:2])
        if body is not None:
            _nested(a, body, "EXECUTE IMMEDIATE")
        return
    name = _word(words, 0).lower()
    entry = PROCEDURES.get(name)
    if entry is not None:
        a.dangerous(name, entry)
    if name:
        a.functions[name] = None


def _prepare(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("prepare")
    a.dynamic = True
    if "FROM" in words[:3]:  # MySQL: PREPARE s FROM 'text' | @variable
        body = _first_string(tokens)
        if body is not None:
            _nested(a, body, "PREPARE")
        else:
            a.intents.add(A.EXECUTE)
        return
    start = _statement_index(words, 1)
    if start is None:
        a.intents.add(A.EXECUTE)
        a.fail("PREPARE of something that is not a statement")
        return
    _nested(a, _after(text, tokens, start), "PREPARE")


def _call(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("call")
    a.intents.add(A.EXECUTE)
    name = _qualified_name(tokens, 0)
    short = name.rsplit(".", 1)[-1]
    if short:
        a.functions[short] = None
        entry = PROCEDURES.get(short)
        if entry is not None:
            a.dangerous(short, entry)


def _alter(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    what = _word(words, 0)
    if what in _ROLES:
        a.kind(f"alter {what.lower()}")
        a.intents.add(A.GRANT)
    elif what == "DEFAULT":
        a.kind("alter default privileges")
        a.intents.add(A.REVOKE if "REVOKE" in words else A.GRANT)
    elif what == "SYSTEM" or what == "EXTENSION":
        a.kind(f"alter {what.lower()}")
        a.intents.add(A.EXECUTE)
    else:
        a.kind("alter")
        a.intents.add(A.ALTER)
        if what in ("TABLE", "VIEW", "SCHEMA", "DATABASE", "INDEX", "SEQUENCE"):
            index = 1
            while _word(words, index) in ("IF", "EXISTS", "ONLY"):
                index += 1
            name = _qualified_name(tokens, index)
            if name:
                a.written[name] = None
    if "DROP" in words:
        a.intents.add(A.DROP)
    if "OWNER" in words:
        a.intents.add(A.GRANT)


def _object_index(words: Sequence[str]) -> int:
    index = 0
    while _word(words, index) in _CREATE_MODIFIERS:
        index += 1
    return index


def _create(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    index = _object_index(words)
    what = _word(words, index)
    if "REPLACE" in words[:index]:
        a.intents.add(A.DROP)
        a.drops[what.lower() or "object"] = None
    if what in _ROLES and _word(words, index + 1) != "MAPPING":
        a.kind(f"create {what.lower()}")
        a.intents.add(A.GRANT)
        return
    a.kind(f"create {what.lower()}".strip())
    a.intents.add(A.CREATE)
    if what in ("EXTENSION", "LANGUAGE", "TRANSFORM"):
        a.intents.add(A.EXECUTE)
    elif what in ("SERVER", "FOREIGN", "SUBSCRIPTION", "PUBLICATION", "USER", "CONNECTION"):
        a.intents.add(A.EGRESS)
    body = _statement_index(words, index + 1)
    if body is not None and words[body] != "EXECUTE" and what in ("RULE", "TRIGGER", "EVENT"):
        _nested(a, _after(text, tokens, body), f"CREATE {what}")


def _drop(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    what = _word(words, 0)
    a.drops[what.lower() or "object"] = None
    if what in _ROLES:
        a.kind(f"drop {what.lower()}")
        a.intents.update((A.REVOKE, A.DROP))
        return
    a.kind("drop")
    a.intents.add(A.DROP)


def _grant(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    revoke = keyword == "REVOKE"
    a.kind("revoke" if revoke else "grant")
    a.intents.add(A.REVOKE if revoke else A.GRANT)


def _set(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    what = _word(words, 0)
    if what in ("LOCAL", "SESSION") and _word(words, 1) in ("ROLE", "AUTHORIZATION"):
        what = _word(words, 1)
    role = what in ("ROLE", "AUTHORIZATION") or (
        what == "SESSION" and _word(words, 1) == "AUTHORIZATION"
    )
    a.kind("set role" if role else "set")
    strings = [t.text if t.token_type in _STRINGS else None for t in tokens]
    session.set_command(a, words, strings)


def _reset(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("reset")
    session.reset_command(a, words)


def _discard(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("discard")
    if _word(words, 0) == "ALL":  # includes SET SESSION AUTHORIZATION DEFAULT; RESET ALL
        session.reset_all(a)


def _show(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())
    a.intents.add(A.READ)


def _use(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("use")
    if _word(words, 0) in ("ROLE", "SECONDARY"):
        a.intents.add(A.GRANT)


def _begin(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    first = _word(words, 0)
    if first in _TRANSACTION_WORDS or first == ";":
        a.kind("begin")
        return
    a.kind("block")  # BigQuery / T-SQL / Snowflake block: its statements run
    _nested(a, text, "block")


def _no_effect(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())


def _declare(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("declare")
    start = _statement_index(words, 1)
    if start is not None:
        _nested(a, _after(text, tokens, start), "DECLARE")


def _load(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    if _word(words, 0) in ("DATA", "XML"):
        a.kind("load data")
        a.intents.add(A.WRITE)
        location = _first_string(tokens)
        if location is not None:
            if "LOCAL" in words[:3]:
                a.intents.add(A.FILE_READ)
                a.files_read[location] = None
            else:
                a.source(location)
        else:
            a.intents.add(A.FILE_READ)
        if "REPLACE" in words:
            a.intents.add(A.DELETE)
        if "TABLE" in words:
            name = _qualified_name(tokens, words.index("TABLE") + 1)
            if name:
                a.written[name] = None
        return
    a.kind("load")
    a.intents.add(A.EXECUTE)  # loads an extension / shared library


def _install(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())
    a.intents.add(A.EXECUTE)
    if keyword == "INSTALL" and _word(words, 0) not in ("PLUGIN", "COMPONENT", "SONAME"):
        a.intents.add(A.EGRESS)


def _vacuum(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("vacuum")
    if "INTO" in words:
        location = _first_string(tokens)
        a.sink(location if location is not None else "VACUUM INTO")
    else:
        a.intents.add(A.ALTER)


def _maintenance(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())
    a.intents.add(A.ALTER)


def _refresh(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("refresh")
    a.intents.add(A.WRITE)


def _lock(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("lock")
    a.intents.add(A.WRITE)


def _rename(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("rename")
    a.intents.add(A.ALTER)
    index = 1 if _word(words, 0) in ("TABLE", "TABLES", "USER", "DATABASE") else 0
    name = _qualified_name(tokens, index)
    if name:
        a.written[name] = None
    if _word(words, 0) == "USER":
        a.intents.add(A.GRANT)


def _replace(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("replace")
    a.intents.update((A.WRITE, A.DELETE))  # REPLACE deletes the rows it conflicts with
    index = 1 if _word(words, 0) == "INTO" else 0
    while _word(words, index) in ("LOW_PRIORITY", "DELAYED"):
        index += 1
    name = _qualified_name(tokens, index)
    if name:
        a.written[name] = None
    start = _statement_index(words, index + 1)
    if start is not None and words[start] in ("SELECT", "WITH", "TABLE"):
        child = _child(a, _after(text, tokens, start))
        a.read.update(child.read)
    rows = _values_rows(a, text)
    label = f"replace {name or '?'}"
    if rows is not None and rows <= a.max_limit:
        a.write(label, f"its {rows} VALUES row(s), each replacing its conflicting rows")
    else:
        a.write(label, None, why="it replaces whatever rows a query yields")


def _values_rows(a: Analysis, text: str) -> int | None:
    """How many rows ``REPLACE <rest>`` inserts when it is ``INTO t [(cols)] VALUES ...``."""
    import sqlglot

    try:
        parsed = sqlglot.parse_one("INSERT " + text, read=a.dialect)
    except Exception:
        return None
    source = parsed.expression if isinstance(parsed, exp.Insert) else None
    return len(source.expressions) if isinstance(source, exp.Values) else None


def _dml(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    """INSERT / UPDATE / DELETE / MERGE forms the parser did not model: the worst case."""
    a.kind(keyword.lower())
    if keyword in ("UPDATE", "DELETE", "UPSERT"):
        a.intents.add(A.DELETE if keyword == "DELETE" else A.WRITE)
        a.unknown_write(keyword.lower())
    else:
        a.intents.update((A.WRITE, A.DELETE) if keyword == "MERGE" else (A.WRITE,))


def _truncate(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("truncate")
    a.intents.add(A.TRUNCATE)


def _copy(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("copy")
    a.fail("COPY form not understood")
    a.intents.update((A.WRITE, A.EXPORT, A.FILE_READ, A.FILE_WRITE))


def _unload(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("unload")
    a.intents.add(A.READ)
    locations = [t.text for t in tokens if t.token_type in _STRINGS]
    a.sink(locations[-1] if len(locations) > 1 else "UNLOAD")


def _stage_get(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("get")
    a.intents.update((A.FILE_WRITE, A.EXPORT))
    a.exports["local file"] = None


def _stage_remove(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("remove")
    a.intents.update((A.FILE_DELETE, A.DELETE))


def _stage_list(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("list")
    a.intents.add(A.READ)


def _backup(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("backup")
    location = _first_string(tokens)
    a.sink(location if location is not None else "BACKUP")


def _restore(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("restore")
    a.intents.update((A.WRITE, A.DELETE, A.CREATE, A.DROP, A.FILE_READ))


def _import(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("import")
    a.intents.update((A.WRITE, A.CREATE))
    location = _first_string(tokens)
    if location is not None:
        a.source(location)
    else:
        a.intents.add(A.FILE_READ)


def _export(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("export")
    a.intents.add(A.READ)
    location = _first_string(tokens)
    a.sink(location if location is not None else "EXPORT")


def _admin(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())
    a.intents.add(A.EXECUTE)


def _fetch(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind(keyword.lower())
    a.intents.add(A.READ)


def _comment(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("comment")
    a.intents.add(A.ALTER)


def _undrop(
    a: Analysis, keyword: str, text: str, tokens: Sequence[Token], words: Sequence[str]
) -> None:
    a.kind("undrop")
    a.intents.add(A.CREATE)


_HANDLERS: dict[str, Handler] = {
    "EXPLAIN": _explain,
    "DESCRIBE": _explain,
    "DESC": _explain,
    "DO": _do,
    "EXECUTE": _execute,
    "EXEC": _execute,
    "PREPARE": _prepare,
    "CALL": _call,
    "ALTER": _alter,
    "CREATE": _create,
    "DROP": _drop,
    "GRANT": _grant,
    "REVOKE": _grant,
    "DENY": _grant,
    "SET": _set,
    "RESET": _reset,
    "DISCARD": _discard,
    "SHOW": _show,
    "USE": _use,
    "BEGIN": _begin,
    "DECLARE": _declare,
    "LOAD": _load,
    "INSTALL": _install,
    "UNINSTALL": _install,
    "FORCE": _install,
    "VACUUM": _vacuum,
    "REFRESH": _refresh,
    "LOCK": _lock,
    "RENAME": _rename,
    "REPLACE": _replace,
    "INSERT": _dml,
    "UPSERT": _dml,
    "UPDATE": _dml,
    "DELETE": _dml,
    "MERGE": _dml,
    "TRUNCATE": _truncate,
    "COPY": _copy,
    "UNLOAD": _unload,
    "GET": _stage_get,
    "REMOVE": _stage_remove,
    "RM": _stage_remove,
    "LIST": _stage_list,
    "LS": _stage_list,
    "BACKUP": _backup,
    "RESTORE": _restore,
    "IMPORT": _import,
    "EXPORT": _export,
    "SHUTDOWN": _admin,
    "KILL": _admin,
    "DBCC": _admin,
    "RECONFIGURE": _admin,
    "FETCH": _fetch,
    "MOVE": _fetch,
    "COMMENT": _comment,
    "UNDROP": _undrop,
    **dict.fromkeys(_NO_EFFECT, _no_effect),
    **dict.fromkeys(_MAINTENANCE, _maintenance),
}
