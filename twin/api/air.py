"""``/api/air``: real air readings — a station's daily series, the days with readings, and a
day's interpolated surface (JSON with the method and its cross-validation errors; the grid as
a PNG for the map, a GeoTIFF of the values and GeoJSON bands of the colour classes).

Thin: parsing and status codes only; the work is in :mod:`twin.air`. Every answer carries
the readings' source and licence (AirData.kz, CC BY-NC 4.0: non-commercial only).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from twin.air import readings, service
from twin.api.deps import RoleDep, StoreDep
from twin.core.access import require_layer
from twin.core.settings import DATA_DIR

router = APIRouter(prefix="/api/air", tags=["air"])

Parameter = Annotated[str, Query(pattern="^[a-z0-9]{1,10}$", description="pm10 or no2")]
Cell = Annotated[float, Query(ge=service.MIN_CELL, le=service.MAX_CELL)]


@router.get("/stations/{station_id}/series")
async def station_series(
    station_id: str,
    store: StoreDep,
    role: RoleDep,
    parameter: Parameter = "pm10",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """Return a station's daily means (Almaty days) of one pollutant, oldest first."""
    require_layer(role, "air_readings")
    return await run_in_threadpool(
        readings.station_series, store, station_id, parameter, start=start, end=end
    )


@router.get("/city")
async def city(
    role: RoleDep,
    parameter: Parameter = "pm25",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any]:
    """Return the city-wide daily means (PM2.5 since 2017; PM10, NO2, SO2, CO since 2021)."""
    require_layer(role, "air_readings")
    return await run_in_threadpool(readings.city_daily, DATA_DIR, parameter, start=start, end=end)


@router.get("/days")
async def days(store: StoreDep, role: RoleDep, parameter: Parameter = "pm10") -> dict[str, Any]:
    """Return the days with readings of a pollutant and the number of stations on each."""
    require_layer(role, "air_readings")
    found = await run_in_threadpool(readings.days_available, store, parameter)
    return {"parameter": parameter, "days": found, **readings.source_note()}


@router.get("/surface")
async def surface(
    day: dt.date,
    store: StoreDep,
    role: RoleDep,
    parameter: Parameter = "pm10",
    cell: Cell = 500.0,
) -> dict[str, Any]:
    """Return a day's surface: the method chosen by leave-one-out cross-validation with both
    methods' errors, the grid's corners, colour classes, the stations used and each
    district's population-weighted exposure. The image is at ``/api/air/surface.png``."""
    require_layer(role, "air_readings")
    result = await run_in_threadpool(service.day_surface, store, parameter, day, cell)
    out = result.summary()
    query = f"parameter={parameter}&day={day.isoformat()}&cell={cell:g}"
    out["image"] = f"/api/air/surface.png?{query}"
    out["geotiff"] = f"/api/air/surface.tif?{query}"
    out["contours"] = f"/api/air/surface/contours?{query}"
    return out


@router.get("/surface.png", response_class=Response)
async def surface_png(
    day: dt.date,
    store: StoreDep,
    role: RoleDep,
    parameter: Parameter = "pm10",
    cell: Cell = 500.0,
) -> Response:
    """Return a day's surface as a PNG over the grid's corners (transparent outside the city);
    the method and its errors are in the headers too."""
    require_layer(role, "air_readings")
    result = await run_in_threadpool(service.day_surface, store, parameter, day, cell)
    png = await run_in_threadpool(result.png)
    err = result.cv.errors[result.cv.chosen]
    return Response(
        png,
        media_type="image/png",
        headers={
            "X-Air-Method": result.cv.chosen,
            "X-Air-LOO-RMSE": str(err["rmse"]),
            "Cache-Control": "public, max-age=3600",
        },
    )


@router.get("/surface.tif", response_class=Response)
async def surface_geotiff(
    day: dt.date,
    store: StoreDep,
    role: RoleDep,
    parameter: Parameter = "pm10",
    cell: Cell = 500.0,
) -> Response:
    """Return a day's surface as a GeoTIFF: µg/m³ (float32) in EPSG:32643, nodata outside the
    city; the method, its leave-one-out RMSE and the licence are in its tags."""
    require_layer(role, "air_readings")
    result = await run_in_threadpool(service.day_surface, store, parameter, day, cell)
    tif = await run_in_threadpool(result.geotiff)
    name = f"air-{parameter}-{day.isoformat()}.tif"
    return Response(
        tif,
        media_type="image/tiff",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Air-Method": result.cv.chosen,
            "Cache-Control": "public, max-age=3600",
        },
    )


@router.get("/surface/contours")
async def surface_contours(
    day: dt.date,
    store: StoreDep,
    role: RoleDep,
    parameter: Parameter = "pm10",
    cell: Cell = 500.0,
) -> Any:
    """Return a day's surface as GeoJSON bands of its colour classes (the cells of each class
    inside the city merged, in lon/lat): the vector contour layer at the class breaks."""
    require_layer(role, "air_readings")
    result = await run_in_threadpool(service.day_surface, store, parameter, day, cell)
    body = await run_in_threadpool(result.contours)
    return JSONResponse(
        body, media_type="application/geo+json", headers={"Cache-Control": "public, max-age=3600"}
    )
