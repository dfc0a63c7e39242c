"""Staff analytics of appeals: counts by district, service, category and month; handling time
(median, 90th percentile) and the share past the deadline per service; residents' satisfaction;
the rating and anti-rating of services; each month against the same month a year before.

Everything is computed from the ``appeals`` layer's columns (no geometry), read once per change
of the store (:class:`AppealFrames` keys its copy on the change log's head), so an answer over
three years is pandas work on ~30,000 rows.

The rating of services (:data:`RATING_FORMULA`)::

    score = 100 × (0.5 × on_time + 0.3 × satisfaction + 0.2 × resolved)

* ``on_time``: of the service's appeals whose deadline has passed or that were answered, the
  share answered on or before the deadline (an open appeal past its deadline counts as late);
* ``satisfaction``: (mean rating − 1) / 4, the mean shrunk towards the city's mean by 20
  pseudo-ratings (a Bayesian average, so that three happy ratings do not top the table);
* ``resolved``: of the answered appeals, the share resolved rather than rejected.

Services with fewer than :data:`MIN_RANKED` appeals in the window are listed but not ranked.
The anti-rating is the same table from the bottom.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa

import layers
from layers.appeal_services import CATEGORIES, SERVICES
from twin.appeals.catalog import CLOSED_STATUSES
from twin.core.errors import BadInput
from twin.store import Store

LAYER = layers.get("appeals")
RATING_FORMULA = (
    "score = 100 × (0.5 × on_time + 0.3 × (shrunk mean rating − 1) / 4 + 0.2 × resolved); "
    "on_time: share of due or answered appeals answered by the deadline (open past it = late); "
    "shrunk mean rating: (sum of ratings + 20 × city mean) / (ratings + 20); "
    "resolved: share of answers that resolved rather than rejected"
)
MIN_RANKED = 30
PRIOR_RATINGS = 20
_COLUMNS = (
    "category",
    "service",
    "status",
    "district",
    "created_on",
    "assigned_on",
    "resolved_on",
    "deadline_on",
    "satisfaction",
)


class AppealFrames:
    """The appeals table as a frame, read again only when the store has changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[int, pd.DataFrame]] = {}

    def get(self, store: Store) -> pd.DataFrame:
        """Return every appeal's columns (dates as datetime64, ``synthetic`` as bool, the
        point as ``lon``/``lat``)."""
        head = store.last_change_id()
        key = id(store)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == head:
                return hit[1]
        frame = read(store)
        with self._lock:
            self._cache[key] = (head, frame)
        return frame


def read(store: Store) -> pd.DataFrame:
    """Return the appeals' columns from the store."""
    t = store.tables[LAYER.id]
    raw = sa.types.NullType()
    cols = [t.c.fid, sa.type_coerce(t.c.synthetic, raw).label("synthetic")]
    cols += [sa.type_coerce(t.c[c], raw).label(c) for c in _COLUMNS]
    cols.append(sa.literal_column(store.sql.geom_wkb(f'"{LAYER.table}".geom')).label("geom"))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).order_by(t.c.fid)).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["fid", "synthetic", *_COLUMNS, "geom"])
    wkb = frame.pop("geom").tolist()
    geoms = store.sql.decode_geoms(wkb) if wkb else np.array([], dtype=object)
    frame["lon"] = shapely.get_x(geoms)
    frame["lat"] = shapely.get_y(geoms)
    for c in ("created_on", "assigned_on", "resolved_on", "deadline_on"):
        frame[c] = pd.to_datetime(frame[c].map(lambda v: None if v is None else str(v)[:10]))
    return typed(frame)


#: the columns kept as pandas categoricals: counting and grouping 500,000 rows by them is
#: ~20x faster than by Python strings
CATEGORICAL = ("category", "service", "status", "district")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the types the analyses expect (dates already datetime64):
    categoricals for the coded columns, a float rating, a bool synthetic flag."""
    frame["satisfaction"] = pd.to_numeric(frame["satisfaction"], errors="coerce")
    frame["synthetic"] = frame["synthetic"].astype(bool)
    for c in CATEGORICAL:
        frame[c] = frame[c].astype(object).astype("category")
    return frame


@dataclass(frozen=True)
class Window:
    """The appeals filed from ``start`` to ``end`` (inclusive), judged as of ``today``."""

    start: dt.date
    end: dt.date
    today: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise BadInput("the window's end is before its start")
        if (self.end - self.start).days > 10 * 366:
            raise BadInput("the window may span at most 10 years")


def _window(frame: pd.DataFrame, w: Window) -> pd.DataFrame:
    created = frame["created_on"]
    keep = (created >= pd.Timestamp(w.start)) & (created <= pd.Timestamp(w.end))
    return frame[keep]


def _counts(frame: pd.DataFrame, column: str) -> dict[str, int]:
    counts = frame[column].value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])) if v}


def _months(created: pd.Series) -> dict[str, int]:
    """Return appeals per calendar month ("YYYY-MM"), in order. Counted per day with a
    bincount, then the few distinct days grouped by month: ~10x faster than pandas'
    ``.dt.year``/``.dt.month`` (or a sort) on 540,000 rows."""
    values = created.to_numpy("datetime64[ns]")
    days = values[~np.isnat(values)].astype("datetime64[D]").astype(np.int64)
    if not len(days):
        return {}
    first = int(days.min())
    per_day = np.bincount(days - first)
    seen = np.flatnonzero(per_day)
    months = (seen + first).astype("datetime64[D]").astype("datetime64[M]")
    out: dict[str, int] = {}
    for m, n in zip(months.astype(str).tolist(), per_day[seen].tolist(), strict=True):
        out[m] = out.get(m, 0) + int(n)
    return out


def handling(frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Return per service: appeals, answered, median and 90th percentile handling days, share
    past the deadline, ratings and mean rating, resolved share (unranked numbers)."""
    now = np.datetime64(today.isoformat(), "ns")
    answered = frame["status"].isin(CLOSED_STATUSES).to_numpy()
    created = frame["created_on"].to_numpy("datetime64[ns]")
    resolved = frame["resolved_on"].to_numpy("datetime64[ns]")
    deadline = frame["deadline_on"].to_numpy("datetime64[ns]")
    days = (resolved - created).astype("timedelta64[D]").astype(float)
    days[~answered] = np.nan
    with np.errstate(invalid="ignore"):
        overdue = deadline < now  # NaT compares False
        due = answered | overdue
        late = (answered & (resolved > deadline)) | (~answered & overdue)
    rating = frame["satisfaction"].to_numpy(float)
    rated = np.isfinite(rating)
    service = frame["service"].astype("category")
    codes = service.cat.codes.to_numpy()
    names = list(service.cat.categories)
    k = len(names)
    ok = codes >= 0

    kept = codes[ok]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(kept, weights=values[ok], minlength=k)

    has_days = ok & np.isfinite(days)
    day_codes, day_values = codes[has_days], days[has_days]
    median = np.full(k, np.nan)
    p90 = np.full(k, np.nan)
    for g in range(k):
        part = day_values[day_codes == g]
        if len(part):
            median[g], p90[g] = np.quantile(part, [0.5, 0.9])
    out = pd.DataFrame(
        {
            "appeals": np.bincount(kept, minlength=k),
            "answered": total(answered),
            "median_days": median,
            "p90_days": p90,
            "due": total(due),
            "late": total(late & due),
            "resolved": total((frame["status"] == "resolved").to_numpy()),
            "ratings": total(rated),
            "rating_sum": total(np.where(rated, rating, 0.0)),
        },
        index=pd.Index(names, name="service"),
    )
    out = out[out["appeals"] > 0]
    out["past_deadline_share"] = out["late"] / out["due"].where(out["due"] > 0)
    out["mean_rating"] = out["rating_sum"] / out["ratings"].where(out["ratings"] > 0)
    return out


def rating(table: pd.DataFrame) -> pd.DataFrame:
    """Return the services' scores (see the module's formula), best first; ``rank`` is null
    for a service with fewer than :data:`MIN_RANKED` appeals."""
    city_mean = table["rating_sum"].sum() / max(table["ratings"].sum(), 1)
    if not np.isfinite(city_mean) or table["ratings"].sum() == 0:
        city_mean = 3.0
    shrunk = (table["rating_sum"] + PRIOR_RATINGS * city_mean) / (table["ratings"] + PRIOR_RATINGS)
    on_time = 1.0 - table["past_deadline_share"].fillna(0.0)
    resolved = table["resolved"] / table["answered"].where(table["answered"] > 0)
    score = 100 * (0.5 * on_time + 0.3 * (shrunk - 1) / 4 + 0.2 * resolved.fillna(0.0))
    out = table.assign(
        on_time=on_time, shrunk_rating=shrunk, resolved_share=resolved, score=score
    ).sort_values(["score", "appeals"], ascending=[False, False])
    ranked = out["appeals"] >= MIN_RANKED
    out["rank"] = pd.Series(np.nan, index=out.index)
    out.loc[ranked, "rank"] = np.arange(1, int(ranked.sum()) + 1)
    return out


def _num(v: Any, digits: int = 3) -> float | None:
    if v is None or (isinstance(v, float) and not np.isfinite(v)) or pd.isna(v):
        return None
    return round(float(v), digits)


def _withhold_small(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """Return the per-service ``table`` as the public may see it: ratings of a service with
    fewer than ``k`` of them count as none (its mean is not shown, and its score uses the
    city's mean, so the score does not give the ratings away either)."""
    out = table.copy()
    few = out["ratings"] < k
    out.loc[few, ["ratings", "rating_sum"]] = 0
    out["mean_rating"] = out["rating_sum"] / out["ratings"].where(out["ratings"] > 0)
    return out


_PER_APPEAL = ("answered", "median_days", "p90_days", "past_deadline_share", "ratings",
               "mean_rating", "on_time", "shrunk_rating", "resolved_share", "score")  # fmt: skip


def summary(
    frame: pd.DataFrame, w: Window, lang: str = "ru", min_count: int | None = None
) -> dict[str, Any]:
    """Return the staff summary of the appeals filed in ``w``; with ``min_count`` (k, for
    the public) nothing describes fewer than k appeals or ratings: a service with fewer
    appeals has only its name and ``withheld``, handling times need k answered appeals, and a
    mean rating k ratings (:mod:`twin.core.privacy`)."""
    inside = _window(frame, w)
    by_month = _months(inside["created_on"])
    # the same month a year before (over the whole table, so the first year has its baseline)
    all_months = _months(frame["created_on"])
    trend = []
    for m, n in by_month.items():
        y, mm = int(m[:4]), m[5:7]
        before = int(all_months.get(f"{y - 1}-{mm}", 0))
        trend.append(
            {
                "month": m,
                "appeals": n,
                "same_month_last_year": before,
                "change": _num((n - before) / before) if before else None,
            }
        )
    counted = handling(inside, w.today)
    if min_count is not None:
        counted = _withhold_small(counted, min_count)
    table = rating(counted)
    titles = {s.code: s.title.get(lang) for s in SERVICES}
    services = []
    for code, r in table.iterrows():
        services.append(
            {
                "service": str(code),
                "title": titles.get(str(code), str(code)),
                "appeals": int(r["appeals"]),
                "answered": int(r["answered"]),
                "median_days": _num(r["median_days"], 1),
                "p90_days": _num(r["p90_days"], 1),
                "past_deadline_share": _num(r["past_deadline_share"]),
                "ratings": int(r["ratings"]),
                "mean_rating": _num(r["mean_rating"], 2),
                "on_time": _num(r["on_time"]),
                "shrunk_rating": _num(r["shrunk_rating"], 2),
                "resolved_share": _num(r["resolved_share"]),
                "score": _num(r["score"], 1),
                "rank": None if pd.isna(r["rank"]) else int(r["rank"]),
            }
        )
        if min_count is not None:
            row = services[-1]
            if int(r["appeals"]) < min_count:
                row.update({k: None for k in ("appeals", *_PER_APPEAL)})
                row["withheld"] = True
            elif int(r["answered"]) < min_count:
                row.update(median_days=None, p90_days=None)
    ranked = [s for s in services if s["rank"] is not None]
    cat_titles = {c.code: c.title.get(lang) for c in CATEGORIES}
    return {
        "window": {"start": w.start.isoformat(), "end": w.end.isoformat()},
        "as_of": w.today.isoformat(),
        "appeals": len(inside),
        "synthetic": int(inside["synthetic"].sum()),
        "by_district": _counts(inside, "district"),
        "by_service": _counts(inside, "service"),
        "by_category": _counts(inside, "category"),
        "category_titles": cat_titles,
        "by_month": by_month,
        "by_status": _counts(inside, "status"),
        "trend": trend,
        "services": services,
        "rating": [s["service"] for s in ranked],
        "anti_rating": [s["service"] for s in reversed(ranked)],
        "formula": RATING_FORMULA,
        "min_ranked": MIN_RANKED,
    }
