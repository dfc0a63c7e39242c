"""Residents' text as plain text: control characters dropped, length bounded.

Markup is not stripped or rewritten: a review that says ``<script>`` is stored and returned as
exactly that text, and every reader renders it as text (the map escapes it), so nothing a
resident writes is ever interpreted as HTML, and nothing they wrote is silently changed.
"""

from __future__ import annotations

import unicodedata

from twin.core.errors import BadInput


def clean_text(value: object, field: str, max_chars: int, *, required: bool) -> str | None:
    """Return ``value`` as plain text without control characters (newlines and tabs kept),
    trimmed; raise :class:`BadInput` naming ``field`` if it is empty but required, not text,
    or longer than ``max_chars``."""
    if value is None:
        if required:
            raise BadInput(f"{field}: required")
        return None
    if not isinstance(value, str):
        raise BadInput(f"{field}: must be text")
    text = "".join(
        ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    ).strip()
    if not text:
        if required:
            raise BadInput(f"{field}: empty")
        return None
    if len(text) > max_chars:
        raise BadInput(f"{field}: at most {max_chars} characters (got {len(text)})")
    return text
