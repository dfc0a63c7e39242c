"""Appeals analytics: for staff under ``/api/analysis/appeals…`` (summary and the rating of
services, hot spots, emerging hot spots, forecasts), and for everyone the services' ratings
and hexagon counts that never show a cell of fewer than k appeals (``/api/appeals/…``).

Every staff answer is also a file to take away (``format=csv``; the hot spots as GeoJSON
too): the same figures as the JSON, with a ``Content-Disposition`` naming the file after what
was asked (kind, resolution, category, dates), so a planner's downloads do not overwrite
each other. The CSV is what a spreadsheet reads: one row per service, cell or month.

The analyses are in ``twin.appeals`` (analytics, hotspots, forecast); the one
:class:`~twin.appeals.insights.Insights` of the app keeps their inputs between requests.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from twin.api.deps import CallerDep, StoreDep
from twin.appeals.analytics import Window
from twin.appeals.insights import Insights, Scope, cell_feature
from twin.core.access import require_planner
from twin.core.errors import BadInput
from twin.core.privacy import public_k, whole_months
from twin.core.spreadsheet import csv_text

router = APIRouter(tags=["appeals analysis"])
_LANGS = ("ru", "kk", "en")


def insights(request: Request) -> Insights:
    """Return the app's appeals analyses (made on first use)."""
    state = request.app.state
    if not hasattr(state, "appeal_insights"):
        state.appeal_insights = Insights()
    found: Insights = state.appeal_insights
    return found


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise BadInput(f"{name} must be a date YYYY-MM-DD (got {value[:30]!r})") from None


def _today(as_of: str | None) -> dt.date:
    return _day(as_of, "as_of") or dt.datetime.now(dt.UTC).date()


def _lang(lang: str) -> str:
    if lang not in _LANGS:
        raise BadInput(f"lang must be one of {', '.join(_LANGS)}")
    return lang


def _scope(
    category: str | None, start: str | None, end: str | None, district: str | None = None
) -> Scope:
    return Scope(category or None, district or None, _day(start, "start"), _day(end, "end"))


@router.get("/api/analysis/appeals")
async def summary(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    start: str | None = None,
    end: str | None = None,
    as_of: str | None = None,
    lang: str = "ru",
    format: str = "json",
) -> Any:
    """Counts by district, service, category and month, handling times, share past deadline,
    satisfaction, the rating and anti-rating of services (formula stated), and each month
    against the same month a year before. Default window: the 12 months up to ``as_of``.
    ``format=csv``: the services' table (rating order), one row per service."""
    require_planner(caller.role, "see the appeals analytics")
    _format(format, ("json", "csv"))
    today = _today(as_of)
    last = _day(end, "end") or today
    first = _day(start, "start") or (last - dt.timedelta(days=364))
    w = Window(first, last, today)
    body = await run_in_threadpool(insights(request).summary, store, w, _lang(lang))
    if format == "csv":
        name = _file_name("appeal-services", first.isoformat(), last.isoformat(), lang)
        return _csv(body["services"], name, SERVICE_COLUMNS)
    return body


@router.get("/api/appeals/ratings")
async def public_ratings(
    request: Request,
    store: StoreDep,
    start: str | None = None,
    end: str | None = None,
    lang: str = "ru",
) -> Any:
    """The city services' rating for everyone: per service only aggregates over its appeals,
    none over fewer than k appeals or ratings (``TWIN_LIMITS_MIN_COUNT``, at least 5); the
    window is taken in whole calendar months (so two answers differ by a month at least)."""
    today = dt.datetime.now(dt.UTC).date()
    last = _day(end, "end") or today
    first = _day(start, "start") or (last - dt.timedelta(days=364))
    months = whole_months(first, last)
    assert months[0] is not None and months[1] is not None
    first, last = months[0], months[1]
    k = public_k(request.app.state.settings.limits.min_count)
    full = await run_in_threadpool(
        insights(request).summary, store, Window(first, last, today), _lang(lang), k
    )
    keys = ("window", "services", "rating", "anti_rating", "formula", "min_ranked", "synthetic")
    return {**{key: full[key] for key in keys}, "k": k}


def _hot_geojson(grid: Any, spots: Any, everything: bool) -> dict[str, Any]:
    frame = spots.frame()
    if not everything:
        frame = frame[(frame["label"] != "") | (frame["count"] > 0)]
    return {
        "type": "FeatureCollection",
        "res": grid.res,
        "fdr_threshold": spots.fdr_threshold,
        "hot": int((frame["label"] == "hot").sum()),
        "cold": int((frame["label"] == "cold").sum()),
        "features": [
            cell_feature(
                r.cell,
                {
                    "count": int(r.count),
                    "z": round(float(r.z), 3),
                    "p": float(r.p),
                    "label": r.label,
                },
            )
            for r in frame.itertuples(index=False)
        ],
    }


def _file_name(*parts: object) -> str:
    """Return a download's name from what was asked (only letters, digits, ``-`` and ``_``)."""
    words = [str(p) for p in parts if p not in (None, "")]
    return re.sub(r"[^A-Za-z0-9_-]+", "_", "-".join(words))


def _csv(rows: list[dict[Any, Any]], name: str, columns: list[str] | None = None) -> Response:
    """A download for a spreadsheet (:mod:`twin.core.spreadsheet`): ``columns`` (else the
    first row's keys) of every row."""
    fields = columns or (list(rows[0]) if rows else [])
    return Response(
        csv_text(fields, ([row.get(c) for c in fields] for row in rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _geojson(body: dict[str, Any], name: str) -> JSONResponse:
    """Return GeoJSON the map reads as it is, named for when it is saved."""
    return JSONResponse(
        body,
        media_type="application/geo+json",
        headers={"Content-Disposition": f'inline; filename="{name}.geojson"'},
    )


def _format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadInput(f"format must be {' or '.join(allowed)} (got {value[:20]!r})")
    return value


#: The services' table as a file, in the order a reader scans it (rank first).
SERVICE_COLUMNS = [
    "rank", "service", "title", "appeals", "answered", "median_days", "p90_days",
    "past_deadline_share", "ratings", "mean_rating", "on_time", "shrunk_rating",
    "resolved_share", "score",
]  # fmt: skip
FORECAST_COLUMNS = [
    "district", "category", "kind", "month", "appeals", "mean", "lower", "upper", "level",
    "model", "backtest_mase", "seasonal_naive_mase",
]  # fmt: skip


@router.get("/api/analysis/appeals/hotspots")
async def hot_spots(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    res: int = 8,
    category: str | None = None,
    start: str | None = None,
    end: str | None = None,
    permutations: Annotated[int, Query(ge=0, le=999)] = 999,
    format: str = "geojson",
) -> Response:
    """Getis-Ord Gi* of appeals on H3 cells (permutation inference, FDR-corrected); GeoJSON
    of the cells with appeals or a verdict, or CSV of every cell."""
    require_planner(caller.role, "see appeal hot spots")
    _format(format, ("geojson", "csv"))
    scope = _scope(category, start, end)
    grid, spots = await run_in_threadpool(
        insights(request).hot_spots, store, scope, res, permutations
    )
    name = _file_name("appeal-hotspots", f"res{res}", category, scope.start, scope.end)
    if format == "csv":
        # z as the GeoJSON gives it: the file and the map's cells carry the same figures
        return _csv(spots.frame().round({"z": 3}).to_dict("records"), name)
    return _geojson(_hot_geojson(grid, spots, False), name)


@router.get("/api/analysis/appeals/emerging")
async def emerging(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    res: int = 8,
    months: int = 12,
    category: str | None = None,
    as_of: str | None = None,
    format: str = "geojson",
) -> Response:
    """Emerging hot spots over the last ``months`` full months: new, intensifying,
    persistent, diminishing, sporadic (method in ``twin.appeals.hotspots``)."""
    require_planner(caller.role, "see emerging appeal hot spots")
    _format(format, ("geojson", "csv"))
    _grid, table, periods = await run_in_threadpool(
        insights(request).emerging, store, _scope(category, None, None), res, months, _today(as_of)
    )
    labelled = table[table["label"] != ""]
    name = _file_name("appeal-emerging", f"res{res}", category, periods[0], periods[-1])
    if format == "csv":
        return _csv(labelled.to_dict("records"), name)
    body = {
        "type": "FeatureCollection",
        "res": res,
        "months": periods,
        "classes": {str(k): int(v) for k, v in labelled["label"].value_counts().items()},
        "features": [
            cell_feature(
                str(r["cell"]),
                {
                    "label": r["label"],
                    "hot_months": int(r["hot_months"]),
                    "trend_tau": round(float(r["trend_tau"]), 3),
                    "trend_p": round(float(r["trend_p"]), 4),
                },
            )
            for r in labelled.to_dict("records")
        ],
    }
    return _geojson(body, name)


@router.get("/api/analysis/appeals/forecast")
async def forecast(
    request: Request,
    store: StoreDep,
    caller: CallerDep,
    district: str | None = None,
    category: str | None = None,
    horizon: Annotated[int, Query(ge=1, le=12)] = 3,
    level: Annotated[float, Query(ge=0.5, le=0.99)] = 0.8,
    as_of: str | None = None,
    format: str = "json",
) -> Any:
    """Appeals per month for the next ``horizon`` months (a district and/or category, or
    all), with prediction intervals, the model chosen by back-test and its errors beside the
    seasonal-naive forecast's. ``format=csv``: the actual months (``kind`` actual) then the
    forecast months with their interval, the model and both back-test errors on each row."""
    require_planner(caller.role, "see appeal forecasts")
    _format(format, ("json", "csv"))
    scope = _scope(category, None, None, district)
    body = await run_in_threadpool(
        lambda: insights(request).forecast(
            store, scope, horizon=horizon, level=level, today=_today(as_of)
        )
    )
    if format == "csv":
        return _csv(
            _forecast_rows(body, district, category),
            _file_name("appeal-forecast", district or "city", category or "all"),
            FORECAST_COLUMNS,
        )
    return body


def _forecast_rows(
    body: dict[str, Any], district: str | None, category: str | None
) -> list[dict[str, Any]]:
    """Return a forecast's answer as the rows of its CSV."""
    naive = body["backtest"]["scores"].get("seasonal naive", {}).get("mase")
    same = {
        "district": district or "",
        "category": category or "",
        "level": body["level"],
        "model": body["model"],
        "backtest_mase": body["backtest"]["mase"],
        "seasonal_naive_mase": naive,
    }
    actual = [
        {**same, "kind": "actual", "month": p["month"], "appeals": p["appeals"]}
        for p in body["history"]
    ]
    ahead = [{**same, "kind": "forecast", **p} for p in body["forecast"]]
    return actual + ahead


@router.get("/api/appeals/hexagons")
async def public_hexagons(
    request: Request,
    store: StoreDep,
    res: int = 8,
    category: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Any:
    """Appeals per H3 cell for everyone, filterable by category and dates (taken in whole
    calendar months); a cell with fewer than k appeals (``TWIN_LIMITS_MIN_COUNT``, at least
    5) is never shown, nor a filtered cell that would leave fewer than k beside the same cell
    unfiltered; the counts shown carry a noise of -2..+2 by the cell key method, the same for
    the same appeals whatever the filter (see :mod:`twin.core.privacy`)."""
    scope = _scope(category, start, end)
    k = request.app.state.settings.limits.min_count
    body = await run_in_threadpool(insights(request).public_hexagons, store, scope, res, k)
    return JSONResponse(body, media_type="application/geo+json")
