"""Numbers as a person reads them on the page, made here without the page's code: the
interface language's number format from CLDR (Babel), so a browser test can compare what it
sees with the API's number.

The page formats with its own formatter and CLDR data (web/src/locale-format.js, not the
browser's Intl, which lacks Kazakh data in Debian's Chromium): grouped digits, at most that
many decimals, no trailing zeros, ties rounded away from zero (as Intl's ``halfExpand``, where
Python's decimal default would round half to even). ``test_numbers.py`` checks the page's
formatter against this module on many numbers, in all three languages.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from babel.numbers import format_decimal

#: The CLDR locale of each interface language (web/src/locale-format.js copies their data).
LOCALES = {"ru": "ru_RU", "kk": "kk_KZ", "en": "en_GB"}
#: What the English interface shows for a unit where it differs from the unit's name.
UNITS_EN = {
    "KZT": "₸",
    "per 10,000": "per 10,000 residents",
    "per 1,000": "per 1,000 residents",
}


def shown(value: float, digits: int | None, lang: str) -> str:
    """Return ``value`` as the page shows it in ``lang`` with at most ``digits`` decimals
    (None: the page's default, 0 from 100 up, 1 from 10 up, else 2).

    Examples
    --------
    >>> shown(1234567.25, 1, "ru")
    '1\\xa0234\\xa0567,3'
    >>> shown(0.5, 0, "en"), shown(12.0, 2, "en")
    ('1', '12')
    """
    if digits is None:
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    # repr: the shortest decimal that is this double, as JavaScript prints it too
    exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP  # away from zero, as Intl's halfExpand
        rounded = exact.quantize(Decimal(1).scaleb(-digits))
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(rounded, format=pattern, locale=LOCALES[lang])


def percent(value: float, digits: int, lang: str) -> str:
    """Return a percentage as the page shows it: the number, then ``%`` with no space."""
    return f"{shown(value, digits, lang)}%"


def with_unit_en(text: str, unit: str | None) -> str:
    """Return a number's text with its unit as the English interface shows them (a space
    between, none before ``°``)."""
    if not unit:
        return text
    label = UNITS_EN.get(unit, unit)
    return f"{text}{label}" if label == "°" else f"{text} {label}"
