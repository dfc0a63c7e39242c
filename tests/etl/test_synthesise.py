"""Tests of the seeded generator of demo data (etl.synthesise)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pyogrio  # noqa: F401  - imported before anything could touch SpatiaLite
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import layers
from etl import synthesise as syn
from layers.model import GeomType, PropType

DATA = Path(__file__).resolve().parents[2] / "data" / "almaty"
TODAY = datetime.date(2026, 11, 27)
OSM = DATA / "osm" / "derived_2012"


# --------------------------------------------------------------------------- fixtures


def _osm_ids(frame: pd.DataFrame, prefix: str) -> list[str]:
    """Return ``prefix/<id>`` per row from the GDAL OSM id columns (or the row number)."""
    out = []
    for i, (a, b) in enumerate(zip(frame.get("osm_id", [None] * len(frame)),
                                   frame.get("osm_way_id", [None] * len(frame)), strict=True)):
        key = a if isinstance(a, str) and a else b if isinstance(b, str) and b else str(i)
        out.append(f"{prefix}/{key}")
    return out


def _frame(data: dict[str, object], geometry: gpd.GeoSeries) -> gpd.GeoDataFrame:
    """Return a real-layer frame: source_id, synthetic False, the data, geometry."""
    frame = gpd.GeoDataFrame(data, geometry=geometry.reset_index(drop=True), crs="EPSG:4326")
    frame["synthetic"] = False
    return frame


def load_real() -> dict[str, gpd.GeoDataFrame]:
    """Return the bundled Almaty data renamed to the catalog's property names."""
    real: dict[str, gpd.GeoDataFrame] = {}
    d = gpd.read_file(DATA / "boundaries" / "almaty_districts_osm2017.geojson")
    d["name"] = d["name"].replace({"Bostandyq": "Bostandyk"})
    pop = pd.read_csv(DATA / "population" / "almaty_district_population_govkz.csv")
    pop_by = dict(zip(pop["district_name"], pop["official_population"], strict=True))
    real["districts"] = _frame(
        {"source_id": [f"district/{n}" for n in d["name"]], "name": d["name"],
         "name_ru": d["nameRu"], "osm_id": d["osm-relation-id"].astype(int),
         "population": d["name"].map(pop_by).astype("Int64"),
         "area_km2": d.to_crs(32643).area / 1e6},
        d.geometry)
    c = gpd.read_file(DATA / "boundaries" / "almaty_city_boundary_osm2017.geojson")
    real["city_boundary"] = _frame({"source_id": ["city"], "name": c["name"]}, c.geometry)

    r = gpd.read_file(OSM / "roads.geojson")
    highway = r["highway"].where(r["highway"].isin(layers.city.ROAD_CLASSES), "other")
    real["roads"] = _frame({"source_id": _osm_ids(r, "way"), "name": r["name"],
                            "highway": highway}, r.geometry)
    b = gpd.read_file(OSM / "buildings.geojson")
    use = b["building"].map({"apartments": "residential", "residential": "residential",
                             "office": "commercial", "school": "public", "hospital": "public"})
    real["buildings"] = _frame(
        {"source_id": _osm_ids(b, "way"), "name": b["name"], "building": b["building"],
         "levels": pd.to_numeric(b["building:levels"], errors="coerce").astype("Int64"),
         "use": use}, b.geometry)

    p = gpd.read_file(OSM / "pois_points.geojson")
    kind = np.where(p["amenity"].notna(), "amenity", np.where(
        p["shop"].notna(), "shop", np.where(p["tourism"].notna(), "tourism", "leisure")))
    category = p["amenity"].fillna(p["shop"]).fillna(p["tourism"]).fillna(p["leisure"])
    real["pois"] = _frame(
        {"source_id": _osm_ids(p, "node"), "name": p["name"], "category": category,
         "kind": kind, "opening_hours": p["opening_hours"], "operator": p["operator"],
         "wheelchair": p["wheelchair"]}, p.geometry)

    a = gpd.read_file(OSM / "amenity_polygons.geojson")
    a = a[a["amenity"].isin(["school", "kindergarten"])]
    ps = p[p["amenity"].isin(["school", "kindergarten"])]
    real["schools"] = _frame(
        {"source_id": _osm_ids(ps, "node") + _osm_ids(a, "area"),
         "name": list(ps["name"]) + list(a["name"]),
         "kind": list(ps["amenity"]) + list(a["amenity"])},
        gpd.GeoSeries(list(ps.geometry) + list(a.geometry.representative_point())))

    g = gpd.read_file(DATA / "population" / "almaty_proxy_population_grid500m.geojson")
    real["population_grid"] = _frame(
        {"source_id": g["cell_id"], "cell_id": g["cell_id"],
         "population": g["population_estimate_final"], "p10": g["p10"], "p90": g["p90"],
         "confidence": g["confidence_band"]}, g.geometry)

    h = gpd.read_file(DATA / "health" / "almaty_hospitals_emergency_stats.geojson")
    real["health"] = _frame(
        {"source_id": [f"mo/{i}" for i in h["medical_organization_id"]], "kind": "hospital",
         "emergency_visits": h["total_emergency_visits"],
         "hospitalised": h["hospitalized_emerg"], "address": h["address"]}, h.geometry)

    k = gpd.read_file(OSM / "parks_leisure_green.geojson")
    real["parks"] = _frame(
        {"source_id": _osm_ids(k, "area"), "name": k["name"],
         "kind": k["leisure"].fillna(k["landuse"]).fillna(k["natural"]),
         "area_ha": k.to_crs(32643).area / 1e4}, k.geometry)
    s = gpd.read_file(OSM / "bus_stops.geojson")
    shelter = s["other_tags"].fillna("").str.contains('"shelter"=>"yes"')
    real["bus_stops"] = _frame({"source_id": _osm_ids(s, "node"), "name": s["name"],
                                "shelter": shelter}, s.geometry)

    w = gpd.read_file(DATA / "city_projects" / "almaty_park_improvement_projects_akimat_gis.geojson")
    status = w["status_ru"].map({"В работе": "in_progress", "Завершен": "done",
                                 "Планируется": "planned", "Отменен": "cancelled"})

    def iso(col: pd.Series) -> pd.Series:
        return pd.to_datetime(col, format="%d.%m.%Y", errors="coerce").dt.strftime("%Y-%m-%d")

    real["works"] = _frame(
        {"source_id": [f"akimat/{i}" for i in w["id"]], "title": w["address"],
         "kind": "landscaping", "status": status, "start_date": iso(w["start_date"]),
         "end_date": iso(w["end_date"])}, w.geometry)
    air = gpd.read_file(DATA / "air_quality" / "almaty_air_stations_airdatakz.geojson")
    real["air_sensors"] = _frame(
        {"source_id": air["station_id"], "station_id": air["station_id"],
         "name": air["station_name"],
         "network": air["source"].map({"kgmt": "kazhydromet", "waqi": "waqi"}),
         "parameters": air["parameters"]}, air.geometry)
    return real
