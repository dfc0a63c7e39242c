"""Small counts hidden: the one rule every public aggregate of residents' appeals follows.

An aggregate that anyone may read (a hexagon's count, a district's appeals per 10,000, a
service's mean rating) never describes fewer than ``k`` people: such a value is withheld
(answered as null, or the cell left out), never shown. ``k`` is ``TWIN_LIMITS_MIN_COUNT``
(the tiles' own is ``TWIN_TILES_PUBLIC_MIN_COUNT``) and is never taken below
:data:`MIN_PUBLIC_COUNT`, whatever is configured: 5 is the usual floor of statistical
disclosure control for counts of people (e.g. the UK ONS's and Eurostat's rules of thumb).

Differencing: two public answers with different filters can be subtracted. The routes that
filter (``/api/appeals/hexagons``, ``/api/appeals/ratings``) therefore only take whole
calendar months (:func:`whole_months`), so no difference isolates less than a month, and the
hexagons also withhold a filtered cell whose complement within the unfiltered answer would
be a small count (:func:`safe_against`). The difference of two *filtered* answers (two month
ranges, two categories) could still isolate fewer than ``k`` appeals of one cell and month
(January-March less January-February in one cell: 12 - 10 = 2 in March), and no suppression
rule closes that for every combination of answers (it is the "complementary suppression"
problem of statistical tables). So the public hexagons also carry noise, by the **cell key
method** of the Australian Bureau of Statistics' TableBuilder and the UK's 2021 census tables
(Fraser & Wooton 2005; Giessing 2016; the sdcTools ``ptable``/``cellKey`` R packages; there
is no maintained Python one, so the few lines are here):

* every appeal has a *record key*, a keyed hash of its id under a secret kept in the store
  (:func:`record_keys`; random to anyone without the secret);
* a cell's *cell key* is the sum of its appeals' record keys (mod 2**32), so the same set of
  appeals gets the same key — and so the same published count — whatever question found it:
  asking again, or by another filter that selects the same appeals, averages nothing away;
* the published count is the true one plus a noise of -2..+2 looked up by the cell key
  (:data:`NOISE`, :func:`noisy`); a count that noise would take below ``k`` is withheld, and
  an empty cell stays 0.

A difference of two answers is then the true difference plus two independent noises (-4..+4,
a standard deviation of about 1.3): "2 in March" reads the same as 0 to 6. What this does not
stop: an attacker with the patience to average many *different* pairs of answers that isolate
the same appeals (e.g. [month m, March] less [month m, February] for every m before), each
with noise of its own; with whole months only, that is a few dozen pairs per cell, and their
average still carries about a fifth of the noise. Suppression (below) and noise together are
what statistics offices publish tables of people with; nothing short of a differential
privacy budget per user would close it entirely.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import h3

#: The floor of ``k``: no setting takes a public aggregate below five people.
MIN_PUBLIC_COUNT = 5


def public_k(configured: int | None = None) -> int:
    """Return the ``k`` in force: the configured one, never below :data:`MIN_PUBLIC_COUNT`.

    >>> public_k(), public_k(1), public_k(8)
    (5, 5, 8)
    """
    return max(configured or MIN_PUBLIC_COUNT, MIN_PUBLIC_COUNT)


def shown(count: float | None, k: int) -> bool:
    """Return whether a count of people may be shown: 0 (nobody) or at least ``k``.

    >>> [shown(n, 5) for n in (0, 1, 4, 5, None)]
    [True, False, False, True, False]
    """
    if count is None or count != count:  # None or NaN
        return False
    return count == 0 or count >= k


def safe_against(part: int, whole: int, k: int) -> bool:
    """Return whether ``part`` (a filtered count) may be shown beside ``whole`` (the same
    cell unfiltered, also public): both it and what subtracting it leaves are 0 or ≥ ``k``.

    >>> safe_against(5, 5, 5), safe_against(5, 7, 5), safe_against(5, 10, 5)
    (True, False, True)
    """
    return part >= k and shown(whole - part, k)


def whole_months(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """Return ``start`` moved to the first day of its month and ``end`` to the last of its.

    >>> whole_months(dt.date(2026, 2, 10), dt.date(2026, 2, 11))
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    >>> whole_months(None, None)
    (None, None)
    """
    first = start.replace(day=1) if start is not None else None
    last = end.replace(day=calendar.monthrange(end.year, end.month)[1]) if end is not None else None
    return first, last


def nest(counts: Mapping[str, int], res: int) -> Counter[str]:
    """Return ``counts`` of H3 cells summed up to their parents at ``res``: H3 cells do not
    nest exactly (a point's cell at res 8 is not always the parent of its cell at res 9), so
    public counts at several resolutions are summed from the finest, where a cell is then
    exactly the sum of its children and subtracting two resolutions leaves no stray count.
    """
    out: Counter[str] = Counter()
    for cell, n in counts.items():
        out[h3.cell_to_parent(cell, res) if h3.get_resolution(cell) > res else cell] += n
    return out


def shown_cells(
    counts: Mapping[str, int],
    res: int,
    k: int,
    coarsest: int,
    keep: Callable[[str, int], bool] = lambda cell, n: True,
) -> dict[str, int]:
    """Return the cells of ``counts`` (nested, at ``res``) that a public answer may show:
    each holds at least ``k`` (and passes ``keep``), and no coarser public answer, down to
    ``coarsest``, can be subtracted to a small count: a parent's count less its shown
    children is 0 or at least ``k``, else its smallest shown children are withheld too.

    >>> import h3
    >>> c = h3.latlng_to_cell(43.25, 76.95, 9)
    >>> kids = sorted(h3.cell_to_children(h3.cell_to_parent(c, 8), 9))
    >>> sorted(shown_cells({kids[0]: 10, kids[1]: 2}, 9, 5, 8).values())  # 12 - 10 = 2
    []
    >>> sorted(shown_cells({kids[0]: 10, kids[1]: 6, kids[2]: 2}, 9, 5, 8).values())
    [10]
    """
    shown = {c: n for c, n in counts.items() if n >= k and keep(c, n)}
    for level in range(res - 1, coarsest - 1, -1):
        whole = nest(counts, level)
        beneath: dict[str, list[str]] = {}
        for c in shown:
            beneath.setdefault(h3.cell_to_parent(c, level), []).append(c)
        for parent, cells in beneath.items():
            rest = whole[parent] - sum(shown[c] for c in cells)
            for c in sorted(cells, key=lambda c: (shown[c], c)):
                if shown_rest(rest, k):
                    break
                rest += shown.pop(c)
    return shown


def shown_rest(rest: int, k: int) -> bool:
    """Return whether what subtraction leaves may be known: nothing, or at least ``k``."""
    return rest == 0 or rest >= k


# -- the cell key method -----------------------------------------------------------------------

#: The perturbation table: noise -2..+2 with probabilities 5, 20, 50, 20 and 5 % (mean 0,
#: variance 0.8), chosen by where the cell key falls in [0, 2**32).
NOISE = (-2, -1, 0, 1, 2)
NOISE_P = (0.05, 0.20, 0.50, 0.20, 0.05)
KEY_SPACE = 2**32
_BOUNDS = [round(sum(NOISE_P[: i + 1]) * KEY_SPACE) for i in range(len(NOISE_P) - 1)]


def record_keys(secret: bytes, ids: Iterable[int]) -> list[int]:
    """Return each record's key: the first 32 bits of HMAC-SHA256(secret, id), uniform on
    [0, 2**32) and unknown without ``secret``.

    >>> record_keys(b"s", [1, 2]) == record_keys(b"s", [1, 2]) != record_keys(b"t", [1, 2])
    True
    >>> all(0 <= k < 2**32 for k in record_keys(b"s", range(100)))
    True
    """
    return [
        int.from_bytes(hmac.new(secret, str(int(i)).encode(), hashlib.sha256).digest()[:4], "big")
        for i in ids
    ]


def cell_key(keys: Iterable[int]) -> int:
    """Return a cell's key from its records' keys: their sum mod 2**32 (a cell's key at a
    coarser resolution is then its children's keys summed, as its count is).

    >>> cell_key([2**31, 2**31 + 5])
    5
    """
    return sum(keys) % KEY_SPACE


def noise_of(key: int) -> int:
    """Return the noise that cell key ``key`` draws from :data:`NOISE`.

    >>> [noise_of(k) for k in (0, 2**32 // 10, 2**31, 2**32 - 1)]
    [-2, -1, 0, 2]
    """
    return NOISE[bisect_right(_BOUNDS, key % KEY_SPACE)]


def noisy(count: int, key: int, k: int) -> int | None:
    """Return the count to publish for a cell of ``count`` records with cell key ``key``:
    0 for an empty cell, else the count plus its noise, or None (withheld) when that is
    below ``k``.

    >>> noisy(0, 2**31, 5), noisy(7, 2**31, 5), noisy(7, 0, 5), noisy(6, 0, 5)
    (0, 7, 5, None)
    """
    if count == 0:
        return 0
    out = count + noise_of(key)
    return out if out >= k else None
