"""The CQL2-text lexer: text to tokens, refusing any character outside the grammar."""

from __future__ import annotations

import re
from dataclasses import dataclass

from twin.core.errors import BadInput


@dataclass(frozen=True)
class Token:
    """One lexeme: ``kind`` is ident, qident, string, number, op or end."""

    kind: str
    text: str
    pos: int
    value: str | float | int | None = None


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_:.]*)
  | (?P<op><>|<=|>=|[=<>(),\-+])
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    """Return the tokens of ``text``; raise :class:`BadInput` at the first foreign character."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            value, i2 = _quoted(text, i, "'", "string")
            tokens.append(Token("string", text[i:i2], i, value))
            i = i2
            continue
        if c == '"':
            value, i2 = _quoted(text, i, '"', "identifier")
            tokens.append(Token("qident", text[i:i2], i, value))
            i = i2
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise BadInput(f"filter: unexpected character {c!r} at position {i + 1}")
        kind = m.lastgroup or ""
        if kind == "number":
            raw = m.group()
            num: int | float = float(raw) if any(ch in raw for ch in ".eE") else int(raw)
            tokens.append(Token("number", raw, i, num))
        elif kind != "ws":
            tokens.append(Token(kind, m.group(), i))
        i = m.end()
    tokens.append(Token("end", "", n))
    return tokens


def _quoted(text: str, start: int, quote: str, what: str) -> tuple[str, int]:
    """Return the unescaped content of a quoted run at ``start`` and the index after it.

    A doubled quote (and, in strings, a backslash before the quote) stands for the quote.
    """
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == quote:
            if text[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if quote == "'" and c == "\\" and text[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
            continue
        out.append(c)
        i += 1
    raise BadInput(f"filter: {what} starting at position {start + 1} is not closed")
