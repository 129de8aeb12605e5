"""Parse SQL once, strictly, and classify every statement; read what does not parse by keyword.

sqlglot runs with ``ErrorLevel.IMMEDIATE``: a partial tree can look harmless, so any
parse error makes the input ``unknown``. Even then the tokens are scanned for keywords
that announce an effect (``INTO OUTFILE``, ``DROP``, ``LOAD DATA``, ...), so a policy
sees ``unknown`` *and* what the text most likely does.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import Token, TokenType

from firewall.intent.sqlparts import analysis as A
from firewall.intent.sqlparts.analysis import Analysis
from firewall.intent.sqlparts.catalog import PROCEDURES, is_system_table, lookup
from firewall.intent.sqlparts.forms import classify_forms
from firewall.intent.sqlparts.identifiers import decode_tokens, has_unicode_identifier
from firewall.intent.sqlparts.walk import EMPTY, STATEMENTS, walk_statement

#: How deep SQL inside SQL (dynamic SQL in dynamic SQL ...) is followed.
MAX_DEPTH = 4


class _DropCommandFallback(logging.Filter):
    """sqlglot logs a warning for every statement it keeps as a generic command; those
    statements are expected here and classified by keyword, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_DropCommandFallback())


@lru_cache(maxsize=64)
def dialect_of(name: str) -> Dialect:
    """The sqlglot dialect called ``name``; raises ``ValueError`` for an unknown one."""
    return Dialect.get_or_raise(name)


class _Instances(threading.local):
    """A tokenizer and a strict parser per dialect and thread: building them costs a sixth
    of parsing a short query, and both reset their state on every use."""

    def __init__(self) -> None:
        self.by_dialect: dict[str, tuple] = {}


_INSTANCES = _Instances()


def _tools(dialect: str) -> tuple:
    found = _INSTANCES.by_dialect.get(dialect)
    if found is None:
        d = dialect_of(dialect)
        found = (d.tokenizer(), d.parser(error_level=ErrorLevel.IMMEDIATE))
        _INSTANCES.by_dialect[dialect] = found
    return found


def tokenize(text: str, dialect: str) -> list[Token] | None:
    """The tokens of ``text`` (comments dropped), or ``None`` when it does not tokenize."""
    try:
        tokens = dialect_of(dialect).tokenize(text)
        return decode_tokens(tokens) if has_unicode_identifier(text) else tokens
    except Exception:
        return None


def analyze_text(text: str, dialect: str, depth: int = 0, max_limit: int = 100) -> Analysis:
    """Parse ``text`` once and classify each statement into a fresh ``Analysis``."""
    a = Analysis(dialect, depth, max_limit)
    tokens = None
    try:
        tokenizer, parser = _tools(dialect)
        tokens = tokenizer.tokenize(text)
        if has_unicode_identifier(text):
            tokens = decode_tokens(tokens)
        statements = parser.parse(tokens, text)
    except RecursionError:
        a.fail("SQL nested too deeply to read")
        return a
    except Exception as exc:
        if tokens is not None and classify_forms(a, tokens, text):
            _system_tables(a)
            return a
        a = Analysis(dialect, depth, max_limit)
        a.fail(f"SQL does not parse: {_first_line(exc)}")
        _keyword_scan(a, text)
        return a
    _walk_all(a, statements)
    return a


def walk_parsed(a: Analysis, statements: list) -> None:
    """Classify already parsed statements into ``a`` (the statement-forms fallback)."""
    _walk_all(a, statements)


def _walk_all(a: Analysis, statements: list) -> None:
    for root in statements:
        if root is None or type(root) in EMPTY:
            continue
        a.statement_count += 1
        if type(root) not in STATEMENTS:
            a.kind("expression")
            a.fail(f"not a SQL statement: {type(root).__name__}")
            continue
        try:
            walk_statement(a, root)
        except RecursionError:
            a.fail("SQL nested too deeply to read")
    if a.statement_count == 0:
        a.fail("no SQL statement")
    _system_tables(a)


def _system_tables(a: Analysis) -> None:
    """A write to the server's own catalog changes privileges or the schema, whatever it is."""
    for name in a.written:
        if name not in a.system_tables and is_system_table(name):
            a.system_tables[name] = None
            a.intents.update((A.GRANT, A.ALTER))


def analyze_nested(parent: Analysis, text: str, why: str) -> None:
    """Classify SQL found inside SQL (dynamic SQL, an explained statement) into ``parent``."""
    if parent.depth + 1 >= MAX_DEPTH:
        parent.intents.add(A.EXECUTE)
        parent.fail(f"{why}: SQL nested more than {MAX_DEPTH} levels deep")
        return
    child = analyze_text(text, parent.dialect, parent.depth + 1, parent.max_limit)
    if child.errors:
        child.errors = [f"{why}: {e}" for e in child.errors]
    parent.merge(child)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# -- keyword scan of text that does not parse -------------------------------------------

_KEYWORD_INTENTS: dict[str, tuple[str, ...]] = {
    "DROP": (A.DROP,),
    "TRUNCATE": (A.TRUNCATE,),
    "DELETE": (A.DELETE,),
    "UPDATE": (A.WRITE,),
    "INSERT": (A.WRITE,),
    "REPLACE": (A.WRITE, A.DELETE),
    "MERGE": (A.WRITE,),
    "UPSERT": (A.WRITE,),
    "ALTER": (A.ALTER,),
    "CREATE": (A.CREATE,),
    "RENAME": (A.ALTER,),
    "GRANT": (A.GRANT,),
    "REVOKE": (A.REVOKE,),
    "EXEC": (A.EXECUTE,),
    "EXECUTE": (A.EXECUTE,),
    "CALL": (A.EXECUTE,),
    "DO": (A.EXECUTE,),
    "PREPARE": (A.EXECUTE,),
    "SHUTDOWN": (A.EXECUTE,),
    "KILL": (A.EXECUTE,),
    "INSTALL": (A.EXECUTE,),
    "OUTFILE": (A.EXPORT, A.FILE_WRITE),
    "DUMPFILE": (A.EXPORT, A.FILE_WRITE),
    "INFILE": (A.FILE_READ, A.WRITE),
    "BULK": (A.FILE_READ, A.WRITE),
    "BACKUP": (A.EXPORT, A.FILE_WRITE),
    "RESTORE": (A.WRITE, A.CREATE),
    "EXPORT": (A.EXPORT,),
    "COPY": (A.EXPORT, A.WRITE),
    "ATTACH": (A.FILE_READ, A.FILE_WRITE),
    "LOAD": (A.EXECUTE, A.WRITE),
    "SELECT": (A.READ,),
}
_STRINGS = frozenset({TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.HEREDOC_STRING})
_EXPORT_WORDS = frozenset({"OUTFILE", "DUMPFILE"})


def _keyword_scan(a: Analysis, text: str) -> None:
    """Add the intents the keywords of unparseable ``text`` announce (it stays ``unknown``)."""
    a.kind("unparsed")
    tokens = tokenize(text, a.dialect)
    if tokens is None:
        return
    for index, token in enumerate(tokens):
        if token.token_type in _STRINGS:
            continue
        word = token.text.upper()
        if word == "LOAD" and index + 1 < len(tokens) and tokens[index + 1].text.upper() == "DATA":
            continue  # LOAD DATA INFILE: INFILE says what it does
        intents = _KEYWORD_INTENTS.get(word)
        if intents is not None:
            a.intents.update(intents)
            if word in ("UPDATE", "DELETE"):
                a.unknown_write(word.lower())
            elif word in _EXPORT_WORDS or word == "INFILE":
                location = _next_string(tokens, index)
                if location is not None:
                    if word == "INFILE":
                        a.files_read[location] = None
                    else:
                        a.sink(location)
            continue
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if following == "(" or word.lower() in PROCEDURES:
            entry = lookup(word.lower()) or PROCEDURES.get(word.lower())
            if entry is not None:
                a.dangerous(word.lower(), entry)


def _next_string(tokens: list[Token], index: int) -> str | None:
    for token in tokens[index + 1 : index + 3]:
        if token.token_type in _STRINGS:
            return token.text
    return None
