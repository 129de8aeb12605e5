"""Escaped identifiers decoded before parsing, so names are matched as the server reads them.

PostgreSQL reads ``U&"\\0070g_read_file"`` as the name ``pg_read_file`` (and
``U&"d!0061ta" UESCAPE '!'`` as ``data``). sqlglot tokenizes it as ``U & "..."``: a
bitwise AND of a column ``U`` and a name that matches nothing. The three tokens (and a
``UESCAPE 'c'`` clause) are replaced by one identifier token holding the decoded name.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType


class BadEscape(ValueError):
    """An escape the server would reject: the text is not what it seems."""


def has_unicode_identifier(text: str) -> bool:
    """Cheap pre-check: only texts with ``U&"`` need the token pass."""
    return '&"' in text and ("U&" in text or "u&" in text)


def decode_tokens(tokens: list[Token]) -> list[Token]:
    """Tokens with every ``U&"..."`` identifier decoded (raises ``BadEscape``)."""
    out: list[Token] = []
    index, count = 0, len(tokens)
    while index < count:
        token = tokens[index]
        if (
            index + 2 < count
            and token.token_type == TokenType.VAR
            and token.text in ("U", "u")
            and tokens[index + 1].token_type == TokenType.AMP
            and tokens[index + 2].token_type == TokenType.IDENTIFIER
            and token.end + 1 == tokens[index + 1].start
            and tokens[index + 1].end + 1 == tokens[index + 2].start
        ):
            quoted = tokens[index + 2]
            escape, used = "\\", 3
            if (
                index + 4 < count
                and tokens[index + 3].text.upper() == "UESCAPE"
                and tokens[index + 4].token_type == TokenType.STRING
            ):
                escape, used = tokens[index + 4].text, 5
                if len(escape) != 1 or escape in "0123456789abcdefABCDEF+'\" \t\r\n":
                    raise BadEscape(f"invalid UESCAPE character {escape!r}")
            name = decode(quoted.text, escape)
            last = tokens[index + used - 1]
            out.append(
                Token(
                    TokenType.IDENTIFIER,
                    name,
                    token.line,
                    token.col,
                    token.start,
                    last.end,
                    token.comments,
                )
            )
            index += used
            continue
        out.append(token)
        index += 1
    return out


def decode(body: str, escape: str = "\\") -> str:
    """Decode a ``U&`` body: ``\\XXXX``, ``\\+XXXXXX`` and a doubled escape character."""
    if escape not in body:
        return body
    parts: list[str] = []
    index, size = 0, len(body)
    while index < size:
        char = body[index]
        if char != escape:
            parts.append(char)
            index += 1
            continue
        if index + 1 < size and body[index + 1] == escape:
            parts.append(escape)
            index += 2
            continue
        if index + 1 < size and body[index + 1] == "+":
            digits, index, want = body[index + 2 : index + 8], index + 8, 6
        else:
            digits, index, want = body[index + 1 : index + 5], index + 5, 4
        if len(digits) != want or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise BadEscape(f"invalid Unicode escape in identifier {body!r}")
        value = int(digits, 16)
        if value == 0 or value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise BadEscape(f"invalid Unicode code point in identifier {body!r}")
        parts.append(chr(value))
    return "".join(parts)
