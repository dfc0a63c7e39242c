"""The page's own number and date formatter (web/src/locale-format.js) writes as CLDR does
(Babel, through tests/web/numbers.py) in Russian, Kazakh and English — ties, big and tiny
numbers included — whatever locale data the browser has (issue 15: Kazakh dates came out as
"2023 M05 15" and sums as "46,800,000 ₸"). The module has no imports, so Node runs it as the
page does, without a browser."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
import subprocess
from typing import Any

import pytest
from babel.dates import format_date, format_skeleton

from tests.web.numbers import LOCALES, shown
from twin.core.settings import PROJECT_ROOT

MODULE = (PROJECT_ROOT / "web" / "src" / "locale-format.js").as_uri()

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
    46_800_000.0,
    1e9 + 0.5,
    1.5e-7,
    *(round(_rng.uniform(-1e6, 1e6), _rng.randint(0, 4)) for _ in range(150)),
    *(_rng.random() * 10 ** _rng.randint(-2, 7) for _ in range(150)),
]
DAYS = [dt.date(2023, 5, 15), dt.date(2026, 1, 1), dt.date(2019, 12, 31)] + [
    dt.date(2022, m, _rng.randint(1, 28)) for m in range(1, 13)
]


def _node(script: str, payload: Any) -> Any:
    node = shutil.which("node")
    assert node, "node is needed to build the web app and to run this test"
    run = subprocess.run(
        [node, "--input-type=module", "-e", f"import * as f from '{MODULE}';\n{script}"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(run.stdout)


READ = "let s = ''; for await (const c of process.stdin) s += c; const p = JSON.parse(s);\n"


@pytest.fixture(scope="module")
def page_numbers() -> dict[str, dict[str, list[str]]]:
    """Return {lang: {digits: [text of each of NUMBERS]}} as the page's formatter writes them."""
    return _node(
        READ
        + """const out = {};
        for (const lang of p.langs) {
          out[lang] = {};
          for (const digits of [null, 0, 1, 2]) out[lang][String(digits)] = p.numbers.map((n) => {
            const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
            return f.formatNumberIn(lang, n, d);
          });
        }
        console.log(JSON.stringify(out));""",
        {"langs": sorted(LOCALES), "numbers": NUMBERS},
    )


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_numbers_are_written_as_cldr_says(page_numbers: Any, lang: str) -> None:
    for digits in (None, 0, 1, 2):
        got = page_numbers[lang]["null" if digits is None else str(digits)]
        want = [shown(n, digits, lang) for n in NUMBERS]
        wrong = [(n, g, w) for n, g, w in zip(NUMBERS, got, want, strict=True) if g != w]
        assert not wrong, f"{lang}, {digits} digits: (number, ours, CLDR) {wrong[:5]}"


def test_kazakh_known_answers(page_numbers: Any) -> None:
    """The issue's three examples, in Kazakh: a date, a sum and a decimal."""
    got = _node(
        "console.log(JSON.stringify([f.formatDayIn('kk', 2023, 5, 15),"
        " f.formatNumberIn('kk', 46800000, 0), f.formatNumberIn('kk', 92.7, 1),"
        " f.formatMonthIn('kk', 2023, 6)]));",
        None,
    )
    assert got == ["2023\u202fж. 15 мамыр", "46\u00a0800\u00a0000", "92,7", "2023\u202fж. маусым"]


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_dates_are_written_as_cldr_says(lang: str) -> None:
    got = _node(
        READ + "console.log(JSON.stringify(p.days.map(([y, m, d]) => "
        "[f.formatDayIn(p.lang, y, m, d), f.formatMonthIn(p.lang, y, m)])));",
        {"lang": lang, "days": [[d.year, d.month, d.day] for d in DAYS]},
    )
    want = [
        [
            format_date(d, "long", locale=LOCALES[lang]),
            format_skeleton("yMMMM", d, locale=LOCALES[lang]),
        ]
        for d in DAYS
    ]
    assert got == want


def test_plural_forms_follow_cldr() -> None:
    """The page picks a word's form by CLDR's plural rules (issue 15: "93 баллов"): the same
    category as Babel's for whole numbers, fractions and the text the page wrote."""
    from babel import Locale

    numbers = [*range(0, 230), 1001, 1011, 1021, 1.5, 2.25, 0.1, 11.5, 101.0]
    got = _node(
        READ + "console.log(JSON.stringify(Object.fromEntries(['ru', 'kk', 'en'].map((l) =>"
        " [l, p.map((n) => f.pluralIn(l, n))]))));",
        numbers,
    )
    for lang in ("ru", "kk", "en"):
        rule = Locale.parse(lang).plural_form
        assert got[lang] == [rule(n) for n in numbers], lang
    words = _node(
        "console.log(JSON.stringify([1, 2, 5, 11, 21, 93, '1\u00a0234', '2,5'].map((n) =>"
        " f.pluralWord('ru', n, 'балл|балла|баллов|балла'))));",
        None,
    )
    assert words == ["балл", "балла", "баллов", "баллов", "балл", "балла", "балла", "балла"]


# The browser's own locale formatting: what wrote "46,800,000 ₸" and "2023 M05 15" in Kazakh.
BROWSER_LOCALE = re.compile(
    r"Intl\.(?:NumberFormat|DateTimeFormat|RelativeTimeFormat|ListFormat)"
    r"|\.toLocale(?:String|DateString|TimeString)\("
)


def test_no_panel_formats_with_the_browsers_locale_data() -> None:
    """Every panel writes numbers and dates through the page's formatter: a panel added later
    that called Intl itself (the participatory budget's sums, city events' dates) wrote
    Kazakh as Chromium's missing data makes it ("484,000,000 ₸")."""
    src = PROJECT_ROOT / "web" / "src"
    found = [
        f"{path.relative_to(src)}:{n}: {line.strip()}"
        for path in sorted(src.rglob("*.js"))
        if path.name != "locale-format.js"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BROWSER_LOCALE.search(line)
    ]
    assert not found, found


MOMENTS = [
    "2024-02-29T17:59:00Z",  # 23:59 in Almaty (UTC+6 until 1 March 2024) ...
    "2024-03-01T18:30:00Z",  # ... 23:30 after it (UTC+5)
    "2025-01-10T04:30:00Z",
    "2026-12-31T19:05:00Z",  # already 2027 in Almaty
    "2023-05-15T00:00:00+06:00",
]


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_moments_are_written_in_almaty_time(lang: str) -> None:
    """A city event's start and end: the date as CLDR writes it and HH:mm, in Almaty's time
    whatever the viewer's time zone."""
    from zoneinfo import ZoneInfo

    got = _node(
        READ + "console.log(JSON.stringify(p.moments.map((m) =>"
        " f.formatMomentIn(p.lang, m, 'Asia/Almaty'))));",
        {"lang": lang, "moments": MOMENTS},
    )
    almaty = ZoneInfo("Asia/Almaty")
    want = []
    for m in MOMENTS:
        local = dt.datetime.fromisoformat(m.replace("Z", "+00:00")).astimezone(almaty)
        want.append(f"{format_date(local.date(), 'long', locale=LOCALES[lang])}, {local:%H:%M}")
    assert got == want
    assert got[0].endswith("23:59") and got[1].endswith("23:30")
