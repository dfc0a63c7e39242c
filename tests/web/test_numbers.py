"""The browser tests' reference for numbers on the page (tests/web/numbers.py) formats as
Chromium's Intl does, in the languages they read numbers in, ties and big numbers included."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.web.numbers import LOCALES, shown

_rng = random.Random(13)
NUMBERS: list[float] = [
    0.0,
    -0.0,
    0.5,
    1.5,
    2.5,
    -2.5,
    0.125,
    0.285 * 100,  # a share the page multiplies by 100 first
    12.25,
    12.35,
    99.95,
    99.995,
    100.5,
    999.5,
    1234.5,
    -1234.5,
    9999.999,
    12345.678,
    2_351_424.0,
    1e9 + 0.5,
    *(round(_rng.uniform(-1e6, 1e6), _rng.randint(0, 4)) for _ in range(150)),
    *(_rng.random() * 10 ** _rng.randint(-2, 7) for _ in range(150)),
]


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_numbers_read_as_chromium_formats_them(browser: Any, lang: str) -> None:
    page = browser.new_page()
    try:
        for digits in (None, 0, 1, 2):
            # web/src/format.js: formatNumber's default digits and Intl.NumberFormat
            got = page.evaluate(
                """([locale, digits, numbers]) => numbers.map((n) => {
                  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
                  return new Intl.NumberFormat(locale, { maximumFractionDigits: d }).format(n);
                })""",
                [LOCALES[lang].replace("_", "-"), digits, NUMBERS],
            )
            want = [shown(n, digits, lang) for n in NUMBERS]
            wrong = [(n, g, w) for n, g, w in zip(NUMBERS, got, want, strict=True) if g != w]
            assert not wrong, f"{lang}, {digits} digits: (number, Chromium, ours) {wrong[:5]}"
    finally:
        page.close()
