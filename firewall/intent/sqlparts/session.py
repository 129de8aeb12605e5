"""Session statements: who the session is, whether it may write, and how it lexes SQL.

``SET``/``RESET`` and ``set_config`` look harmless, but some of them undo a restriction
the operator relies on: ``SET ROLE``, ``RESET SESSION AUTHORIZATION``, ``SET
default_transaction_read_only = off``, ``SET TRANSACTION READ WRITE`` (privilege
changes, ``privilege.grant``); others change how the *next* statement is lexed
(``standard_conforming_strings``, ``sql_mode`` with ``NO_BACKSLASH_ESCAPES`` or
``ANSI_QUOTES``, a multi-byte client character set), so a later harmless-looking statement
can smuggle a second one past any parser: those are reported in ``lexer_settings``.
Every setting changed is named in ``settings``, so a policy can allow a list of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from firewall.intent.sqlparts import analysis as A
from firewall.intent.sqlparts.analysis import Analysis
from firewall.intent.sqlparts.catalog import (
    CONFIG_SETTINGS,
    IDENTITY_SETTINGS,
    LEXER_SETTINGS,
    LEXER_SQL_MODES,
    READ_ONLY_SETTINGS,
    SAFE_CHARSETS,
)

_SERVER_SCOPES = frozenset({"GLOBAL", "PERSIST", "PERSIST_ONLY"})
_CHARSET_SETTINGS = frozenset(
    {"names", "character set", "charset", "character_set_client", "character_set_connection"}
)


def change(a: Analysis, name: str, value: str | None, written_out: bool = True) -> None:
    """Record that setting ``name`` (lower case) becomes ``value`` (``None``: its default)."""
    name = name.strip().lower()
    if name.startswith("@@"):
        name = name[2:]
    for prefix in ("session.", "local.", "global."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if name in IDENTITY_SETTINGS or name in READ_ONLY_SETTINGS:
        a.intents.add(A.GRANT)
    elif name in CONFIG_SETTINGS:
        a.intents.add(A.EXECUTE)
    lexer = False
    if name in LEXER_SETTINGS or name == "client_encoding":
        if name in _CHARSET_SETTINGS or name == "client_encoding":
            lexer = not written_out or (value or "").strip().lower() not in SAFE_CHARSETS
        else:
            lexer = True
    elif name == "sql_mode":
        if not written_out:
            lexer = True
        else:
            modes = {m.strip().lower() for m in (value or "").split(",")}
            lexer = bool(modes & LEXER_SQL_MODES)
    a.setting(name, lexer)


def reset_all(a: Analysis) -> None:
    """``RESET ALL`` / ``DISCARD ALL``: every setting, read-only ones included, reverts."""
    a.intents.add(A.GRANT)
    a.setting("all", lexer=True)


def transaction_modes(a: Analysis, modes: Sequence[str]) -> None:
    """``BEGIN`` / ``SET TRANSACTION`` modes: READ WRITE lifts a read-only default."""
    if any("READ WRITE" in " ".join(m.upper().split()) for m in modes):
        a.intents.add(A.GRANT)
        a.setting("transaction_read_only")


def set_item(a: Analysis, node: exp.SetItem) -> None:
    """One item of a parsed ``SET``."""
    scope = str(node.args.get("kind") or "").upper()
    if scope in _SERVER_SCOPES:
        a.intents.add(A.EXECUTE)
    if scope == "TRANSACTION":
        transaction_modes(a, [e.sql() for e in node.expressions])
        a.setting("transaction")
        return
    target = node.this
    if scope in ("NAMES", "CHARACTER SET", "CHARSET"):
        change(a, "names", _value_text(target), _written_out(target))
        return
    if isinstance(target, exp.EQ | exp.PropertyEQ):
        name_node, value = target.this, target.expression
    else:
        name_node, value = target, None
    if isinstance(name_node, exp.Parameter):
        a.setting("@" + name_node.name.lower())  # a user variable: no server setting
        return
    if isinstance(name_node, exp.SessionParameter):
        kind = str(name_node.args.get("kind") or "").upper()
        if kind in _SERVER_SCOPES:
            a.intents.add(A.EXECUTE)
    name = name_node.name if isinstance(name_node, exp.Expression) else ""
    if not name:
        a.fail("SET of something that is not a setting name")
        return
    change(a, name, _value_text(value), value is None or _written_out(value))


def _written_out(node: exp.Expression | None) -> bool:
    return isinstance(node, exp.Literal | exp.Var | exp.Identifier | exp.Column | exp.Boolean)


def _value_text(node: exp.Expression | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, exp.Literal | exp.Var | exp.Identifier):
        return str(node.this)
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    return node.sql()


def set_command(a: Analysis, words: Sequence[str], strings: Sequence[str | None]) -> None:
    """A ``SET`` the parser kept as a command (``SET ROLE``, ``SET TIME ZONE`` ...).

    ``words`` are the upper-case words after SET (``""`` for a string), ``strings`` the
    string values at the same positions.
    """
    index = 0
    if _word(words, 0) in ("LOCAL", "SESSION") and _word(words, 1) != "CHARACTERISTICS":
        index = 1
    if _word(words, 0) in _SERVER_SCOPES:
        a.intents.add(A.EXECUTE)
        index = 1
    what = _word(words, index)
    following = _word(words, index + 1)
    if what == "ROLE" or (what == "SESSION" and following == "AUTHORIZATION"):
        change(a, "role" if what == "ROLE" else "session_authorization", None)
    elif what == "AUTHORIZATION":
        change(a, "session_authorization", None)
    elif what == "SESSION" and following == "CHARACTERISTICS":
        a.setting("session characteristics")
        transaction_modes(a, [" ".join(words[index:])])
    elif what == "PASSWORD":
        change(a, "password", None)
    elif what == "DEFAULT" and following == "ROLE":
        change(a, "default role", None)
    elif what == "TIME" and following == "ZONE":
        a.setting("timezone")
    elif what == "STATEMENT":
        a.setting("statement")  # MariaDB SET STATEMENT x=y FOR <statement>
        a.fail("SET STATEMENT ... FOR is not read")
    elif what in ("NAMES", "CHARACTER", "CHARSET"):
        value = next((s for s in strings[index + 1 :] if s), None) or _word(
            words, index + (2 if what == "CHARACTER" else 1)
        )
        change(a, "names", value)
    elif what and what.replace("_", "").replace(".", "").isalnum():
        # SET name TO value / SET name = value forms the parser did not take
        value = next((s for s in strings[index + 1 :] if s), None)
        if value is None:
            value = _word(words, index + 2)
        change(a, what.lower(), value)
    else:
        a.fail("SET form not understood")


def reset_command(a: Analysis, words: Sequence[str]) -> None:
    """``RESET name`` / ``RESET ROLE`` / ``RESET SESSION AUTHORIZATION`` / ``RESET ALL``."""
    what = _word(words, 0)
    if what == "ALL":
        reset_all(a)
    elif what == "ROLE":
        change(a, "role", None)
    elif what == "SESSION" and _word(words, 1) == "AUTHORIZATION":
        change(a, "session_authorization", None)
    elif what:
        change(a, what.lower(), None)
    else:
        a.fail("RESET of nothing")


def _word(words: Sequence[str], index: int) -> str:
    return words[index] if index < len(words) else ""
