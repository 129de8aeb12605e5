"""The bash grammar, loaded once per process, and the text rules of bash words.

tree-sitter parsers keep per-parse state, so each thread gets its own ``Parser``; the
``Language`` is shared. The functions here turn the quoted, escaped source of a word into
the text bash would pass to the program.
"""

from __future__ import annotations

import re
import threading

import tree_sitter
import tree_sitter_bash

LANGUAGE = tree_sitter.Language(tree_sitter_bash.language())
_local = threading.local()

#: A ``{`` (as in a brace range ``{1..5}``) followed by a character above U+00FF. The
#: grammar's scanner (tree-sitter-bash 0.25.1, ``scanner.c`` brace_start) tests that
#: character with ``isdigit``, whose table has 256 entries: a larger code point reads
#: outside it and can crash the process (SIGSEGV; found with ``{`` + U+F4EE8). Invalid
#: UTF-8 reaches the scanner as U+FFFD and counts too. Such text is never parsed: the
#: command line is not understood. Only the 2-byte forms of U+0080-U+00FF are let through.
_UNSAFE_FOR_PARSER = re.compile(rb"\{[0-9]*(?:\.\.[0-9]*)?(?![\xc2\xc3][\x80-\xbf])[\x80-\xff]")


class UnsafeForParser(ValueError):
    """Text the bash grammar cannot be trusted to parse without crashing the process."""


def parse(source: bytes) -> tree_sitter.Tree:
    """Parse bash ``source`` with this thread's parser.

    A command line ends with a newline, as bash reads it. Without one the grammar takes
    a slow path at the end of input for pipelines of three or more commands (measured
    ~50-80 us against ~5 us); byte offsets of the text itself are unchanged.
    """
    if _UNSAFE_FOR_PARSER.search(source):
        raise UnsafeForParser("a '{' followed by a character the shell parser cannot read")
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = tree_sitter.Parser(LANGUAGE)
    if not source.endswith(b"\n"):
        source += b"\n"
    return parser.parse(source)


_BARE_ESCAPE = re.compile(r"\\(\n|.)", re.DOTALL)
_DQUOTE_ESCAPE = re.compile(r'\\([\\"$`\n])')
_ANSI_ESCAPE = re.compile(
    r"\\(?:x([0-9A-Fa-f]{1,2})|u([0-9A-Fa-f]{1,4})|U([0-9A-Fa-f]{1,8})|([0-7]{1,3})|c(.)|(.))",
    re.DOTALL,
)
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


def unescape_bare(text: str) -> str:
    """An unquoted word: a backslash quotes the next character; backslash-newline vanishes."""
    if "\\" not in text:
        return text
    return _BARE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def unescape_double(text: str) -> str:
    """Inside double quotes only ``\\ \" \\$ \\` `` and backslash-newline are escapes."""
    if "\\" not in text:
        return text
    return _DQUOTE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def decode_ansi_c(body: str) -> str:
    """The value of ``$'...'`` (``body`` without the quotes): C-style escapes decoded."""

    def one(match: re.Match[str]) -> str:
        hex2, hex4, hex8, octal, control, other = match.groups()
        if hex2 is not None:
            return chr(int(hex2, 16))
        if hex4 is not None:
            return chr(int(hex4, 16))
        if hex8 is not None:
            code = int(hex8, 16)
            return chr(code) if code <= 0x10FFFF else ""
        if octal is not None:
            return chr(int(octal, 8) & 0xFF)
        if control is not None:
            return chr(ord(control) & 0x1F)
        return _ANSI_SIMPLE.get(other, "\\" + other)

    return _ANSI_ESCAPE.sub(one, body)


_BRACE_LIST = re.compile(r"\{[^{}]*,[^{}]*\}")


def has_brace_list(text: str) -> bool:
    """True when an unquoted word holds a brace list (``{a,b}``) bash would expand."""
    return "{" in text and _BRACE_LIST.search(text) is not None


def expand_braces(text: str, limit: int = 64) -> list[str]:
    """Bash brace expansion of comma lists (``/{etc,usr}`` -> ``/etc``, ``/usr``).

    Stops at ``limit`` results; sequence forms (``{1..9}``) are left as written.
    """
    match = _BRACE_LIST.search(text)
    if match is None:
        return [text]
    head, tail = text[: match.start()], text[match.end() :]
    results: list[str] = []
    for option in match.group(0)[1:-1].split(","):
        for expanded in expand_braces(head + option + tail, limit):
            results.append(expanded)
            if len(results) >= limit:
                return results
    return results
