"""Bundled non-OSM sources: boundaries, population, hospitals, akimat projects, air quality."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from etl import airdata, seismic
from etl.bundled.common import Prepared, district_name

_KK_DISTRICTS = {
    "Alatau": "Алатау ауданы",
    "Almaly": "Алмалы ауданы",
    "Auezov": "Әуезов ауданы",
    "Bostandyk": "Бостандық ауданы",
    "Medeu": "Медеу ауданы",
    "Nauryzbay": "Наурызбай ауданы",
    "Turksib": "Түрксіб ауданы",
    "Zhetysu": "Жетісу ауданы",
}

_WORK_STATUS = {
    "планируется": "planned",
    "в работе": "in_progress",
    "завершено": "done",
    "выполнено": "done",
    "завершен": "done",
    "отменено": "cancelled",
    "отменен": "cancelled",
}


def _read(path: Path) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(path)
    frame["_row"] = np.arange(1, len(frame) + 1)
    return frame


def _rel(data: Path, path: Path) -> str:
    return str(path.relative_to(data))


#: The boundaries' vintage: OpenStreetMap as exported on 2024-11-15/18 (ODbL). Until issue 19
#: the 2017 export was loaded; the 2017 files stay beside them for the mapping test, and a
#: store loaded from them takes the new rows over in place (same source ids and feature ids).
CITY_FILE = "almaty/boundaries/almaty_city_and_districts_osm_2024-11-15.geojson"
DISTRICTS_FILE = "almaty/boundaries/almaty_districts_osm_2024-11-18.geojson"
CITY_FILE_2017 = "almaty/boundaries/almaty_city_boundary_osm2017.geojson"
DISTRICTS_FILE_2017 = "almaty/boundaries/almaty_districts_osm2017.geojson"
CITY_RELATION = 2465058


def _relation_id(osm_ids: pd.Series) -> pd.Series:
    """Return the numeric relation id of overpass's ``@id`` (``relation/3072001``)."""
    return osm_ids.str.removeprefix("relation/").astype("int64")


def boundaries(data: Path) -> list[Prepared]:
    """Return the city boundary and the eight districts with gov.kz populations.

    Districts keep their ids and names across vintages: the source id is the OSM relation id
    and the name the canonical English one read from ``name:ru`` (``name`` mixes Kazakh and
    Russian in the 2024 export, and ``name:en`` spells Türksib and Jetisu).
    """
    city_path = data / CITY_FILE
    both = _read(city_path)
    city = both[both["@id"] == f"relation/{CITY_RELATION}"]
    if len(city) != 1:
        from twin.core.errors import SourceError

        raise SourceError(f"{city_path}: no single feature relation/{CITY_RELATION} (Almaty)")
    city_frame = gpd.GeoDataFrame(
        {
            "_row": city["_row"],
            "source_id": str(CITY_RELATION),
            "name": "Алматы",
            "osm_id": CITY_RELATION,
        },
        geometry=city.geometry.values,
        crs=city.crs,
    )
    path = data / DISTRICTS_FILE
    src = _read(path)
    names = src["name:ru"].map(district_name)
    relation = _relation_id(src["@id"])
    pop = pd.read_csv(data / "almaty/population/almaty_district_population_govkz.csv")
    population = dict(
        zip(pop["district_name"].map(district_name), pop["official_population"], strict=True)
    )
    districts = gpd.GeoDataFrame(
        {
            "_row": src["_row"],
            "source_id": relation.astype(str),
            "name": names,
            "name_ru": src["name:ru"],
            "name_kk": names.map(_KK_DISTRICTS),
            "osm_id": relation,
            "population": names.map(population),
            "area_km2": (src.geometry.to_crs(32643).area / 1e6).round(3),
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    return [
        Prepared(
            "city_boundary",
            _rel(data, city_path),
            city_path,
            city_frame,
            renamed_from=CITY_FILE_2017,
        ),
        Prepared("districts", _rel(data, path), path, districts, renamed_from=DISTRICTS_FILE_2017),
    ]


def population(data: Path) -> list[Prepared]:
    """Return the modelled 500 m population grid."""
    path = data / "almaty/population/almaty_proxy_population_grid500m.geojson"
    src = _read(path)
    frame = gpd.GeoDataFrame(
        {
            "_row": src["_row"],
            "source_id": src["cell_id"],
            "cell_id": src["cell_id"],
            "population": src["population_estimate_final"],
            "p10": src["p10"],
            "p90": src["p90"],
            "confidence": src["confidence_band"],
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    return [Prepared("population_grid", _rel(data, path), path, frame)]


def health(data: Path) -> list[Prepared]:
    """Return the medical organisations with emergency statistics and the ones with beds."""
    path = data / "almaty/health/almaty_hospitals_emergency_stats.geojson"
    src = _read(path)
    stats = gpd.GeoDataFrame(
        {
            "_row": src["_row"],
            "source_id": src["medical_organization_id"].astype(str),
            "name": "Медицинская организация № " + src["medical_organization_id"].astype(str),
            "kind": "hospital",
            "emergency_visits": src["total_emergency_visits"],
            "hospitalised": src["hospitalized_emerg"],
            "address": src["address"],
            "district": src["district"].map(district_name),
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    beds_path = data / "almaty/health/almaty_hospitals_beds_2gis_geocoded.geojson"
    b = _read(beds_path)
    beds = gpd.GeoDataFrame(
        {
            "_row": b["_row"],
            "source_id": "beds-" + b["_row"].astype(str),
            "name": b["medical_organization"].str.strip(' "«»'),
            "kind": "hospital",
            "beds": pd.to_numeric(b["Number_of_ beds_actually_deployed_closed"], errors="coerce"),
            "ownership": b["type2"],
            "address": b["found_address_2gis"],
            "district": b["district_2gis"].map(district_name),
        },
        geometry=b.geometry.values,
        crs=b.crs,
    )
    return [
        Prepared("health", _rel(data, path), path, stats),
        Prepared("health", _rel(data, beds_path), beds_path, beds),
    ]


def works(data: Path) -> list[Prepared]:
    """Return the akimat's park and square improvement projects as landscaping works."""
    path = data / "almaty/city_projects/almaty_park_improvement_projects_akimat_gis.geojson"
    src = _read(path)
    status = src["status_ru"].str.strip().str.lower().map(_WORK_STATUS)
    frame = gpd.GeoDataFrame(
        {
            "_row": src["_row"],
            "source_id": src["id"].astype(str),
            "title": src["address"],
            "kind": "landscaping",
            "status": status,
            "start_date": src["start_date"],
            "end_date": src["end_date"],
            "district": src["district_ru"].map(district_name),
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    return [Prepared("works", _rel(data, path), path, frame)]


def air(data: Path) -> list[Prepared]:
    """Return the Kazhydromet/WAQI stations with their latest real daily means, the
    AirGradient sensors (listed, no readings bundled) and the daily means per station."""
    path = data / "almaty/air_quality/almaty_air_stations_airdatakz.geojson"
    src = _read(path)
    history = data / "almaty/air_quality/history"
    readings = [
        airdata.read_hourly(history / f"{p}.csv.gz", set(src["station_id"]))
        for p in airdata.PARAMETERS
    ]
    daily = pd.concat([r.frame for r in readings], ignore_index=True)
    latest = airdata.latest_by_station(daily).set_index("station_id")
    ids = src["station_id"]
    latest_day = ids.map(latest["latest_day"])
    series = [
        None
        if not isinstance(day, str)
        else json.dumps(airdata.recent_series(daily, sid, day), separators=(",", ":"))
        for sid, day in zip(ids, latest_day, strict=True)
    ]
    stations = gpd.GeoDataFrame(
        {
            "_row": src["_row"],
            "source_id": ids,
            "station_id": ids,
            "name": src["station_name"],
            "network": src["source"].map({"kgmt": "kazhydromet", "waqi": "waqi"}),
            "parameters": src["parameters"].str.replace(";", ", "),
            "first_reading": src["first_utc"],
            "last_reading": src["last_utc"],
            "latest_day": latest_day,
            "pm10": ids.map(latest["pm10"]),
            "no2": ids.map(latest["no2"]),
            "aqi": ids.map(latest["aqi"]),
            "readings": series,
        },
        geometry=src.geometry.values,
        crs=src.crs,
    )
    csv_path = data / "almaty/air_quality/almaty_airgradient_sensors_2026.csv"
    c = pd.read_csv(csv_path, dtype=str)
    sensors = gpd.GeoDataFrame(
        {
            "_row": np.arange(1, len(c) + 1),
            "source_id": c["station_id"],
            "station_id": c["station_id"],
            "name": c["station_name"],
            "network": "airgradient",
            "parameters": "pm25",
            "first_reading": c["first_utc"],
            "last_reading": c["last_utc"],
        },
        geometry=gpd.points_from_xy(c["lon"].astype(float), c["lat"].astype(float)),
        crs=4326,
    )
    out = [
        Prepared("air_sensors", _rel(data, path), path, stations),
        Prepared("air_sensors", _rel(data, csv_path), csv_path, sensors),
    ]
    where = stations.set_index("station_id").geometry
    for r, parameter in zip(readings, airdata.PARAMETERS, strict=True):
        f = r.frame
        frame = gpd.GeoDataFrame(
            {
                "_row": np.arange(1, len(f) + 1),
                "source_id": f["station_id"] + "|" + f["day"],
                "station_id": f["station_id"],
                "parameter": f["parameter"],
                "day": f["day"],
                "value": f["value"],
                "hours": f["hours"],
            },
            geometry=where.reindex(f["station_id"]).values,
            crs=src.crs,
        )
        file = history / f"{parameter}.csv.gz"
        out.append(Prepared("air_readings", _rel(data, file), file, frame, rejected=r.rejected))
    return out


def seismic_layers(data: Path) -> list[Prepared]:
    """Return the Vs30 site points in the city's box and the GEM residential exposure."""
    path = data / "almaty/seismic/almaty_grid_vs30.csv"
    v = seismic.read_vs30(path)
    sites = gpd.GeoDataFrame(
        {
            "_row": np.arange(1, len(v) + 1),
            "source_id": v["lon"].map("{:.5f}".format) + "," + v["lat"].map("{:.5f}".format),
            "vs30": v["vs30"].round(1),
            "site_class": v["site_class"],
            "z1pt0": v["z1pt0"].round(1),
        },
        geometry=gpd.points_from_xy(v["lon"], v["lat"]),
        crs=4326,
    )
    exp_path = data / "almaty/buildings_exposure/almaty_residential_building_exposure_gem.csv"
    e = pd.read_csv(exp_path)
    exposure = gpd.GeoDataFrame(
        {
            "_row": np.arange(1, len(e) + 1),
            "source_id": e["asset_fid"].astype(str) + "-" + np.arange(1, len(e) + 1).astype(str),
            "taxonomy": e["taxonomy"],
            "buildings": e["buildings"],
            "occupants_night": e["occupants_night"],
            "replacement_cost_usd": e["total_repl_cost_usd"],
            "district": e["district_ru"].map(district_name),
        },
        geometry=gpd.points_from_xy(e["lon"], e["lat"]),
        crs=4326,
    )
    return [
        Prepared("seismic_sites", _rel(data, path), path, sites),
        Prepared("seismic_exposure", _rel(data, exp_path), exp_path, exposure),
    ]


PREPARERS = (boundaries, population, health, works, air, seismic_layers)
