"""MySQL and T-SQL statements sqlglot cannot parse, classified by what they do.

``SELECT ... INTO OUTFILE|DUMPFILE 'f'`` (a read whose rows go to a server file),
``LOAD DATA ... INFILE`` with every option, ``BULK INSERT t FROM 'f'``, ``BACKUP ...
TO DISK = 'f'`` and ``HANDLER t OPEN|READ|CLOSE``. When a text does not parse, it is
split into statements at top-level semicolons; each statement in one of these forms is
classified here, every other one is parsed on its own. If any of them still does not
parse, the caller falls back to the keyword scan (``unknown``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import Token, TokenType

from firewall.intent.sqlparts import analysis as A
from firewall.intent.sqlparts.analysis import Analysis

_STRINGS = frozenset({TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.HEREDOC_STRING})
_EXPORT_OPTIONS = frozenset(
    {
        "CHARACTER",
        "SET",
        "CHARSET",
        "FIELDS",
        "COLUMNS",
        "TERMINATED",
        "OPTIONALLY",
        "ENCLOSED",
        "ESCAPED",
        "LINES",
        "STARTING",
        "BY",
    }
)


def classify_forms(a: Analysis, tokens: Sequence[Token], text: str) -> bool:
    """Classify ``tokens`` statement by statement; ``False`` when one cannot be read."""
    from firewall.intent.sqlparts.reader import dialect_of, walk_parsed

    chunks = _statements(tokens)
    if not any(_special(chunk) for chunk in chunks):
        return False
    parser = dialect_of(a.dialect).parser(error_level=ErrorLevel.IMMEDIATE)
    roots: list[exp.Expression] = []
    for chunk in chunks:
        try:
            if _special(chunk):
                parsed = _form(a, chunk, text, parser)
                if parsed is None:
                    a.statement_count += 1
                    continue
                roots.extend(parsed)
            else:
                roots.extend(parser.parse(list(chunk), text))
        except Exception:
            return False
    walk_parsed(a, roots)
    return True


def _statements(tokens: Sequence[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        if token.token_type == TokenType.SEMICOLON and depth == 0:
            chunks.append([])
        else:
            chunks[-1].append(token)
    return [c for c in chunks if c]


def _upper(token: Token) -> str:
    return "" if token.token_type in _STRINGS else token.text.upper()


def _special(chunk: Sequence[Token]) -> bool:
    first = _upper(chunk[0])
    if first in ("HANDLER", "BACKUP"):
        return True
    if first == "BULK" and len(chunk) > 1 and _upper(chunk[1]) == "INSERT":
        return True
    if first == "LOAD" and len(chunk) > 1 and _upper(chunk[1]) in ("DATA", "XML"):
        return True
    return any(
        _upper(t) == "INTO" and i + 1 < len(chunk) and _upper(chunk[i + 1]) in _FILE_WORDS
        for i, t in enumerate(chunk)
    )


_FILE_WORDS = frozenset({"OUTFILE", "DUMPFILE"})


def _form(a: Analysis, chunk: list[Token], text: str, parser) -> list[exp.Expression] | None:
    """Classify one special statement; returns statements still to walk, or ``None``."""
    first = _upper(chunk[0])
    if first == "HANDLER":
        _handler(a, chunk)
        return None
    if first == "BULK":
        _bulk_insert(a, chunk)
        return None
    if first in ("BACKUP", "LOAD"):
        from firewall.intent.sqlparts.commands import classify_command

        rest = text[chunk[1].start : chunk[-1].end + 1] if len(chunk) > 1 else ""
        classify_command(a, exp.Command(this=first, expression=exp.Literal.string(rest)))
        return None
    return _into_file(a, chunk, text, parser)


def _name(chunk: Sequence[Token], index: int) -> str:
    parts: list[str] = []
    while index < len(chunk):
        token = chunk[index]
        if token.token_type not in (TokenType.VAR, TokenType.IDENTIFIER) and not (
            token.text.isidentifier()
        ):
            break
        parts.append(token.text.lower())
        if index + 1 < len(chunk) and chunk[index + 1].token_type == TokenType.DOT:
            index += 2
            continue
        break
    return ".".join(parts)


def _handler(a: Analysis, chunk: Sequence[Token]) -> None:
    """``HANDLER t OPEN | READ ... | CLOSE``: reads the table's rows, changes nothing."""
    a.kind("handler")
    a.intents.add(A.READ)
    name = _name(chunk, 1)
    if name:
        a.read[name] = None
    else:
        a.fail("HANDLER of something that is not a table")


def _bulk_insert(a: Analysis, chunk: Sequence[Token]) -> None:
    """``BULK INSERT t FROM 'file'``: the server reads a file (or a share) into a table."""
    a.kind("bulk insert")
    a.intents.add(A.WRITE)
    name = _name(chunk, 2)
    if name:
        a.written[name] = None
    strings = [t.text for t in chunk if t.token_type in _STRINGS]
    if strings:
        a.source(strings[0])
    else:
        a.intents.add(A.FILE_READ)


def _into_file(a: Analysis, chunk: list[Token], text: str, parser) -> list[exp.Expression] | None:
    """``SELECT ... INTO OUTFILE|DUMPFILE 'f' [options] [FROM ...]``: a read sent to a file."""
    start = next(
        i
        for i, t in enumerate(chunk)
        if _upper(t) == "INTO" and i + 1 < len(chunk) and _upper(chunk[i + 1]) in _FILE_WORDS
    )
    index = start + 2
    if index >= len(chunk) or chunk[index].token_type not in _STRINGS:
        raise ValueError("INTO OUTFILE without a file name")
    location = chunk[index].text
    index += 1
    while index < len(chunk) and (
        chunk[index].token_type in _STRINGS
        or _upper(chunk[index]) in _EXPORT_OPTIONS
        or (index > 0 and _upper(chunk[index - 1]) in ("SET", "CHARSET"))
    ):
        index += 1
    rest = chunk[:start] + chunk[index:]
    parsed = parser.parse(rest, text)
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select | exp.Union):
        raise ValueError("INTO OUTFILE of something that is not a query")
    a.kind("select into outfile")
    a.sink(location)
    return parsed
