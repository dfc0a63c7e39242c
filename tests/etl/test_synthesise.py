"""Tests of the seeded generator of demo data (etl.synthesise)."""

from __future__ import annotations

import datetime
import doctest
import importlib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio  # noqa: F401  - imported before anything could touch SpatiaLite
import pytest
import shapely

import layers
from etl import synthesise as syn
from etl.bundled.city import CITY_FILE, CITY_RELATION, DISTRICTS_FILE
from etl.bundled.common import district_name
from etl.synthesise.cameras import intersections
from etl.synthesise.streets import street_label
from etl.synthesise.toy import ORIGIN
from layers.city import MAIN_ROADS
from layers.common import DISTRICT_NAMES
from layers.model import PropType
from layers.programme import REAL_HISTORY

DATA = Path(__file__).resolve().parents[2] / "data" / "almaty"
TODAY = datetime.date(2026, 11, 27)
OSM = DATA / "osm" / "derived_2012"


# --------------------------------------------------------------------------- fixtures


def _osm_ids(frame: pd.DataFrame, prefix: str) -> list[str]:
    """Return ``prefix/<id>`` per row from the GDAL OSM id columns (or the row number)."""
    out = []
    for i, (a, b) in enumerate(
        zip(
            frame.get("osm_id", [None] * len(frame)),
            frame.get("osm_way_id", [None] * len(frame)),
            strict=True,
        )
    ):
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
    d = gpd.read_file(DATA.parent / DISTRICTS_FILE)
    d["name"] = d["name:ru"].map(district_name)
    pop = pd.read_csv(DATA / "population" / "almaty_district_population_govkz.csv")
    pop_by = dict(zip(pop["district_name"], pop["official_population"], strict=True))
    real["districts"] = _frame(
        {
            "source_id": [f"district/{n}" for n in d["name"]],
            "name": d["name"],
            "name_ru": d["name:ru"],
            "osm_id": d["@id"].str.removeprefix("relation/").astype(int),
            "population": d["name"].map(pop_by).astype("Int64"),
            "area_km2": d.to_crs(32643).area / 1e6,
        },
        d.geometry,
    )
    c = gpd.read_file(DATA.parent / CITY_FILE)
    c = c[c["@id"] == f"relation/{CITY_RELATION}"]
    real["city_boundary"] = _frame({"source_id": ["city"], "name": c["name"]}, c.geometry)

    r = gpd.read_file(OSM / "roads.geojson")
    highway = r["highway"].where(r["highway"].isin(layers.city.ROAD_CLASSES), "other")
    real["roads"] = _frame(
        {"source_id": _osm_ids(r, "way"), "name": r["name"], "highway": highway}, r.geometry
    )
    b = gpd.read_file(OSM / "buildings.geojson")
    use = b["building"].map(
        {
            "apartments": "residential",
            "residential": "residential",
            "office": "commercial",
            "school": "public",
            "hospital": "public",
        }
    )
    real["buildings"] = _frame(
        {
            "source_id": _osm_ids(b, "way"),
            "name": b["name"],
            "building": b["building"],
            "levels": pd.to_numeric(b["building:levels"], errors="coerce").astype("Int64"),
            "use": use,
        },
        b.geometry,
    )

    p = gpd.read_file(OSM / "pois_points.geojson")
    kind = np.where(
        p["amenity"].notna(),
        "amenity",
        np.where(p["shop"].notna(), "shop", np.where(p["tourism"].notna(), "tourism", "leisure")),
    )
    category = p["amenity"].fillna(p["shop"]).fillna(p["tourism"]).fillna(p["leisure"])
    real["pois"] = _frame(
        {
            "source_id": _osm_ids(p, "node"),
            "name": p["name"],
            "category": category,
            "kind": kind,
            "opening_hours": p["opening_hours"],
            "operator": p["operator"],
            "wheelchair": p["wheelchair"],
        },
        p.geometry,
    )

    a = gpd.read_file(OSM / "amenity_polygons.geojson")
    a = a[a["amenity"].isin(["school", "kindergarten"])]
    ps = p[p["amenity"].isin(["school", "kindergarten"])]
    real["schools"] = _frame(
        {
            "source_id": _osm_ids(ps, "node") + _osm_ids(a, "area"),
            "name": list(ps["name"]) + list(a["name"]),
            "kind": list(ps["amenity"]) + list(a["amenity"]),
        },
        gpd.GeoSeries(list(ps.geometry) + list(a.geometry.representative_point())),
    )

    g = gpd.read_file(DATA / "population" / "almaty_proxy_population_grid500m.geojson")
    real["population_grid"] = _frame(
        {
            "source_id": g["cell_id"],
            "cell_id": g["cell_id"],
            "population": g["population_estimate_final"],
            "p10": g["p10"],
            "p90": g["p90"],
            "confidence": g["confidence_band"],
        },
        g.geometry,
    )

    h = gpd.read_file(DATA / "health" / "almaty_hospitals_emergency_stats.geojson")
    real["health"] = _frame(
        {
            "source_id": [f"mo/{i}" for i in h["medical_organization_id"]],
            "kind": "hospital",
            "emergency_visits": h["total_emergency_visits"],
            "hospitalised": h["hospitalized_emerg"],
            "address": h["address"],
        },
        h.geometry,
    )

    k = gpd.read_file(OSM / "parks_leisure_green.geojson")
    real["parks"] = _frame(
        {
            "source_id": _osm_ids(k, "area"),
            "name": k["name"],
            "kind": k["leisure"].fillna(k["landuse"]).fillna(k["natural"]),
            "area_ha": k.to_crs(32643).area / 1e4,
        },
        k.geometry,
    )
    s = gpd.read_file(OSM / "bus_stops.geojson")
    shelter = s["other_tags"].fillna("").str.contains('"shelter"=>"yes"')
    real["bus_stops"] = _frame(
        {"source_id": _osm_ids(s, "node"), "name": s["name"], "shelter": shelter}, s.geometry
    )

    w = gpd.read_file(
        DATA / "city_projects" / "almaty_park_improvement_projects_akimat_gis.geojson"
    )
    status = w["status_ru"].map(
        {
            "В работе": "in_progress",
            "Завершен": "done",
            "Планируется": "planned",
            "Отменен": "cancelled",
        }
    )

    def iso(col: pd.Series) -> pd.Series:
        return pd.to_datetime(col, format="%d.%m.%Y", errors="coerce").dt.strftime("%Y-%m-%d")

    real["works"] = _frame(
        {
            "source_id": [f"akimat/{i}" for i in w["id"]],
            "title": w["address"],
            "kind": "landscaping",
            "status": status,
            "start_date": iso(w["start_date"]),
            "end_date": iso(w["end_date"]),
        },
        w.geometry,
    )
    air = gpd.read_file(DATA / "air_quality" / "almaty_air_stations_airdatakz.geojson")
    real["air_sensors"] = _frame(
        {
            "source_id": air["station_id"],
            "station_id": air["station_id"],
            "name": air["station_name"],
            "network": air["source"].map({"kgmt": "kazhydromet", "waqi": "waqi"}),
            "parameters": air["parameters"],
        },
        air.geometry,
    )
    return real


@pytest.fixture(scope="module")
def real() -> dict[str, gpd.GeoDataFrame]:
    """The bundled Almaty layers, read once for the module."""
    return load_real()


@pytest.fixture(scope="module")
def generated(real: dict[str, gpd.GeoDataFrame]) -> syn.Generated:
    """One full run on the real data with the default seed."""
    return syn.generate_all(real, seed=2026, today=TODAY)


def _metric(frame: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(frame.to_crs(32643).geometry.values, dtype=object)


def _all_frames(out: syn.Generated) -> list[tuple[str, str, gpd.GeoDataFrame]]:
    return [("new", k, v) for k, v in out.new.items()] + [
        ("enriched", k, v) for k, v in out.enriched.items()
    ]


def _assert_same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert list(shapely.to_wkb(a.geometry.values)) == list(shapely.to_wkb(b.geometry.values))


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_output_whatever_the_row_order(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    shuffled = {k: v.sample(frac=1.0, random_state=7) for k, v in reversed(real.items())}
    again = syn.generate_all(shuffled, seed=2026, today=TODAY)
    assert again.new.keys() == generated.new.keys()
    assert again.enriched.keys() == generated.enriched.keys()
    for kind, key, frame in _all_frames(generated):
        _assert_same(frame, getattr(again, kind)[key])


def test_another_seed_gives_other_data(real: dict[str, gpd.GeoDataFrame]) -> None:
    city = syn.City.from_layers(real)
    a = syn.cameras(city, seed=1, n=200)
    b = syn.cameras(city, seed=2, n=200)
    assert not a.geometry.geom_equals(b.geometry).all()
    _assert_same(a, syn.cameras(city, seed=1, n=200))


# --------------------------------------------------------------------------- catalog shape


def test_every_frame_has_exactly_the_catalog_columns(generated: syn.Generated) -> None:
    assert sorted(generated.new) == sorted(
        ["cameras", "appeals", "schools", "works", "district_indicators"]
    )
    assert sorted(generated.enriched) == sorted(["pois", "health", "schools", "bus_stops", "parks"])
    for _, key, frame in _all_frames(generated):
        layer = layers.get(key)
        assert list(frame.columns) == ["source_id", "synthetic", *layer.prop_names, "geometry"]
        assert frame.crs.to_epsg() == 4326
        assert frame["source_id"].is_unique and frame["source_id"].notna().all()
        assert set(frame.geom_type) == {layer.geometry.value}, key
        assert not frame.geometry.is_empty.any(), key


def test_values_respect_types_choices_and_bounds(generated: syn.Generated) -> None:
    for _, key, frame in _all_frames(generated):
        assert str(frame["synthetic"].dtype) == "boolean"
        for prop in layers.get(key).properties:
            values = frame[prop.name]
            present = values.dropna()
            where = f"{key}.{prop.name}"
            if prop.type is PropType.INT:
                assert str(values.dtype) == "Int64", where
            if prop.type is PropType.BOOL:
                assert str(values.dtype) == "boolean", where
            if prop.type is PropType.DATE:
                assert present.map(lambda v: bool(re.fullmatch(r"\d{4}-\d\d-\d\d", v))).all()
                pd.to_datetime(present, format="%Y-%m-%d")  # real calendar days
            if prop.choices is not None:
                assert set(present) <= set(prop.choices), where
            if prop.minimum is not None:
                assert (present.astype(float) >= prop.minimum).all(), where
            if prop.maximum is not None:
                assert (present.astype(float) <= prop.maximum).all(), where
            if prop.name == "district":
                assert set(present) <= set(DISTRICT_NAMES), where


def test_generated_features_are_synthetic_and_real_ones_are_not(generated: syn.Generated) -> None:
    for frame in generated.new.values():
        assert frame["synthetic"].all()
    for frame in generated.enriched.values():
        assert not frame["synthetic"].any()
    # air readings are real now (etl.airdata): the generator leaves the stations alone
    assert "air_sensors" not in generated.enriched


def test_layers_merges_real_and_generated_schools(generated: syn.Generated) -> None:
    merged = generated.layers()
    assert len(merged["schools"]) == len(generated.enriched["schools"]) + len(
        generated.new["schools"]
    )
    assert merged["schools"]["source_id"].is_unique


# --------------------------------------------------------------------------- placement


@pytest.mark.parametrize("key", ["cameras", "appeals", "schools"])
def test_points_are_inside_the_city(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated, key: str
) -> None:
    boundary = shapely.union_all(_metric(real["city_boundary"]))
    inside = shapely.contains(boundary, _metric(generated.new[key]))
    assert inside.mean() >= 0.99, (key, inside.mean())


def test_cameras_stand_by_main_roads(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    roads = real["roads"]
    main = roads[roads["highway"].isin(MAIN_ROADS)]
    tree = shapely.STRtree(_metric(main))
    cams = _metric(generated.new["cameras"])
    _, dist = tree.query_nearest(cams, return_distance=True, all_matches=False)
    assert len(dist) == len(cams)
    assert (dist <= 30.0).mean() >= 0.95
    assert (dist >= 2.0).mean() >= 0.9  # offset to the roadside, not on the centreline


def test_camera_attributes(generated: syn.Generated) -> None:
    cams = generated.new["cameras"]
    assert 2900 <= len(cams) <= 3100
    fixed, ptz = cams[cams["kind"] == "fixed"], cams[cams["kind"] == "ptz"]
    assert 0.8 <= len(fixed) / len(cams) <= 0.9
    assert fixed["fov_deg"].between(50, 110).all() and fixed["range_m"].between(30, 120).all()
    assert (ptz["fov_deg"] == 360).all() and ptz["range_m"].between(60, 150).all()
    assert cams["mount_height_m"].between(3, 10).all()
    assert ((cams["heading_deg"] >= 0) & (cams["heading_deg"] < 360)).all()
    shares = cams["status"].value_counts(normalize=True)
    assert 0.87 <= shares["working"] <= 0.93 and 0.05 <= shares["broken"] <= 0.09
    planned = cams["status"] == "planned"
    assert cams.loc[planned, "installed_on"].isna().all()
    installed = cams.loc[~planned, "installed_on"]
    assert installed.notna().all()
    assert installed.min() >= "2015-01-01" and installed.max() <= TODAY.isoformat()


def test_camera_heading_follows_the_street() -> None:
    tiny = tiny_city()
    cams = syn.cameras(syn.City.from_layers(tiny), n=200, intersection_share=0.0)
    # The only main roads run east-west or north-south: headings are multiples of 90°.
    off = np.minimum(cams["heading_deg"] % 90.0, 90.0 - cams["heading_deg"] % 90.0)
    assert (off < 1.0).all()


# --------------------------------------------------------------------------- appeals


def _ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)


def test_appeals_follow_district_population(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    pop = real["districts"].set_index("name")["population"].astype(float)
    counts = generated.new["appeals"]["district"].value_counts().reindex(pop.index)
    rho = np.corrcoef(_ranks(pop.to_numpy()), _ranks(counts.to_numpy()))[0, 1]
    assert rho > 0.7
    per_capita = counts / pop
    assert per_capita.max() / per_capita.min() < 1.5


def test_appeal_dates_seasons_and_statuses(generated: syn.Generated) -> None:
    a = generated.new["appeals"]
    assert 29_000 <= len(a) <= 31_000
    created = pd.to_datetime(a["created_on"])
    assert created.min() > pd.Timestamp(TODAY) - pd.Timedelta(days=3 * 365 + 1)
    assert created.max() <= pd.Timestamp(TODAY)
    month = created.dt.month
    assert month[a["category"] == "snow_removal"].isin([11, 12, 1, 2, 3]).all()
    summer = a.loc[month.isin([5, 6, 7, 8]), "category"].value_counts(normalize=True)
    winter = a.loc[month.isin([12, 1, 2]), "category"].value_counts(normalize=True)
    assert summer["greening"] > 4 * winter.get("greening", 0.0)
    answered = a["status"].isin(["resolved", "rejected"])
    assert (a["resolved_on"].notna() == answered).all()
    resolved = pd.to_datetime(a.loc[answered, "resolved_on"])
    assert (resolved > created[answered]).all() and resolved.max() <= pd.Timestamp(TODAY)
    old = created < pd.Timestamp(TODAY) - pd.Timedelta(days=90)
    recent = created > pd.Timestamp(TODAY) - pd.Timedelta(days=3)
    assert answered[old].mean() > 0.95
    assert a.loc[recent, "status"].isin(["received", "assigned", "in_progress"]).all()


def test_appeal_lifecycles_are_consistent(generated: syn.Generated) -> None:
    """Services follow the catalog, lifecycle dates are in order, ratings only on answers,
    and the services differ in pace (the rating of services has something to rank)."""
    from layers.appeal_services import CATEGORIES

    a = generated.new["appeals"]
    by_code = {c.code: c for c in CATEGORIES}
    assert (a["service"] == a["category"].map(lambda c: by_code[c].service)).all()
    created = pd.to_datetime(a["created_on"])
    due = pd.to_datetime(a["deadline_on"]) - created
    assert (due.dt.days == a["category"].map(lambda c: by_code[c].deadline_days)).all()
    assigned = pd.to_datetime(a["assigned_on"])
    started = pd.to_datetime(a["started_on"])
    resolved = pd.to_datetime(a["resolved_on"])
    assert (assigned.notna() == (a["status"] != "received")).all()
    assert (assigned.dropna() >= created[assigned.notna()]).all()
    both = started.notna()
    assert (started[both] >= assigned[both]).all()
    ended = both & resolved.notna()
    assert (started[ended] <= resolved[ended]).all()
    rated = a["satisfaction"].notna()
    assert a.loc[rated, "status"].isin(["resolved", "rejected"]).all()
    assert a.loc[rated, "satisfaction"].between(1, 5).all()
    assert 0.5 < rated[a["status"] == "resolved"].mean() < 0.7
    days = (resolved - created).dt.days
    median = days.groupby(a["service"]).median()
    assert median["tazalyk"] < median["mobility"]


# --------------------------------------------------------------------------- budget


def _applications(generated: syn.Generated) -> pd.DataFrame:
    """Return every generated cycle's applications with the cycle's year and district."""
    return pd.DataFrame(
        [
            {**a, "year": c.cycle["year"], "district": c.cycle["district"]}
            for c in generated.budget_cycles
            for a in c.applications
        ]
    )


def test_budget_cycles_follow_the_year(generated: syn.Generated) -> None:
    """One flagged cycle per district and year 2021..last year (the only record of the demo's
    participatory projects: no budget_projects layer any more); last year's in its
    implementation phase, older ones done; finished works are dated after their year."""
    cycles = pd.DataFrame([c.cycle for c in generated.budget_cycles])
    assert set(cycles["year"]) == set(range(2021, TODAY.year))
    assert (cycles.groupby("year")["district"].nunique() == len(DISTRICT_NAMES)).all()
    assert not cycles.duplicated(["year", "district"]).any()
    assert cycles["synthetic"].all()
    assert set(cycles.loc[cycles["year"] == TODAY.year - 1, "phase"]) == {"implementation"}
    assert set(cycles.loc[cycles["year"] < TODAY.year - 1, "phase"]) == {"done"}
    assert "budget_projects" not in layers.ids()
    apps = _applications(generated)
    assert apps["synthetic"].all()
    assert apps["cost_kzt"].between(5e6, 150e6).all()
    assert apps.groupby(["district", "year"]).size().between(10, 25).all()
    finished = apps.dropna(subset=["work_finished"])
    assert (finished["work_finished"].map(lambda d: d.year) > finished["year"]).all()
    assert finished["work_finished"].max() <= TODAY
    assert (apps.loc[apps["year"] < TODAY.year - 1, "progress"] == 100).all()


def test_budget_projects_lie_in_the_city(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    boundary = shapely.union_all(_metric(real["city_boundary"]))
    apps = _applications(generated)
    points = gpd.GeoSeries(gpd.points_from_xy(apps["lon"], apps["lat"]), crs=4326)
    inside = shapely.contains(boundary, np.asarray(points.to_crs(32643).values, dtype=object))
    assert inside.mean() >= 0.99, inside.mean()


def test_budget_titles_name_real_streets(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    labels = {street_label(n) for n in real["roads"]["name"]} - {None}
    titles = _applications(generated)["title"]
    named = titles.map(lambda t: any(label in t for label in labels))
    assert named.all()
    assert titles.str.contains("Благоустройство двора по ").any()


# --------------------------------------------------------------------------- works


def test_works_status_matches_dates(generated: syn.Generated) -> None:
    w = generated.new["works"]
    today = TODAY.isoformat()
    live = w[w["status"] != "cancelled"]
    assert (w["status"] == "cancelled").mean() < 0.06
    assert ((live["status"] == "planned") == (live["start_date"] > today)).all()
    assert ((live["status"] == "done") == (live["end_date"] < today)).all()
    assert (w["end_date"] >= w["start_date"]).all()
    assert w["start_date"].min() >= "2023-01-01"
    assert w["start_date"].max() <= (TODAY + datetime.timedelta(days=366)).isoformat()
    assert set(w["kind"]) == {"repair", "landscaping", "construction"}
    assert w["contractor"].str.startswith("ТОО «").all()
    area = w.to_crs(32643).area
    repair = w["kind"] == "repair"
    # 100-600 m (or a shorter whole road) times 12-24 m of width.
    assert area[repair].between(1_000, 600 * 24 + 1).all()


def test_works_follow_population(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    pop = real["districts"].set_index("name")["population"].astype(float)
    counts = generated.new["works"]["district"].value_counts().reindex(pop.index)
    per_capita = counts / pop
    assert per_capita.max() / per_capita.min() < 1.4


# --------------------------------------------------------------------------- schools


def test_school_totals_meet_the_population_target(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    city = syn.City.from_layers(real)
    allschools = generated.layers()["schools"]
    where = city.district_of(shapely.point_on_surface(_metric(allschools)))
    totals = pd.crosstab(where, allschools["kind"])
    for name, pop in city.population.items():
        # A real school counts where it stands; a district that already has more than its
        # target gets none, so the total is the target or the real count, whichever is more.
        assert abs(totals.loc[name, "school"] - round(pop / 7500)) <= 1, name
        assert abs(totals.loc[name, "kindergarten"] - round(pop / 2500)) <= 2, name


def test_generated_school_attributes(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    new = generated.new["schools"]
    school, kg = new[new["kind"] == "school"], new[new["kind"] == "kindergarten"]
    assert school["capacity"].between(600, 2400).all()
    assert kg["capacity"].between(90, 320).all()
    load = new["enrolled"] / new["capacity"]
    assert load.between(0.59, 1.41).all() and (load > 1.0).mean() > 0.2
    assert new["name"].is_unique
    real_names = set(real["schools"]["name"].dropna())
    assert not set(new["name"]) & real_names
    assert set(new["language"]) == {"kazakh", "russian", "mixed"}
    assert new["accessibility_generated"].all()
    parks = shapely.union_all(_metric(real["parks"]))
    assert not shapely.contains(parks, _metric(new)).any()


def test_real_schools_keep_unknown_capacity(generated: syn.Generated) -> None:
    real_schools = generated.enriched["schools"]
    assert real_schools["capacity"].isna().all()
    assert real_schools["district"].notna().all()


# --------------------------------------------------------------------------- accessibility


def test_real_wheelchair_values_are_kept(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    pois = generated.enriched["pois"].set_index("source_id")
    source = real["pois"].set_index("source_id")["wheelchair"]
    mapped = source[source.notna()]
    assert len(mapped) >= 1
    assert (pois.loc[mapped.index, "wheelchair"] == mapped).all()
    assert not pois.loc[mapped.index, "accessibility_generated"].any()
    filled = pois.drop(index=mapped.index)
    assert filled["accessibility_generated"].all()
    assert filled[["wheelchair", "ramp", "accessible_entrance"]].notna().all().all()


def test_accessibility_shares_by_kind(generated: syn.Generated) -> None:
    def yes(frame: gpd.GeoDataFrame) -> float:
        return float((frame["wheelchair"] == "yes").mean())

    e = generated.enriched
    assert yes(e["health"]) > yes(e["bus_stops"]) > 0.15
    shops = e["pois"][e["pois"]["category"].isin(["cafe", "restaurant", "fast_food"])]
    assert yes(shops) < yes(e["health"])
    no_ramp = e["bus_stops"][e["bus_stops"]["wheelchair"] == "no"]
    assert no_ramp["ramp"].mean() < 0.2


def test_filling_accessibility_twice_changes_nothing(generated: syn.Generated) -> None:
    pois = generated.enriched["pois"]
    _assert_same(syn.fill_accessibility(pois, "pois", seed=2026), pois)


# --------------------------------------------------------------------------- indicators


def test_district_indicators(real: dict[str, gpd.GeoDataFrame], generated: syn.Generated) -> None:
    ind = generated.new["district_indicators"]
    assert len(ind) == 8 * (TODAY.year - 2019 + 1)
    latest = ind[ind["period"] == TODAY.year].set_index("district")
    pop = real["districts"].set_index("name")["population"]
    assert (latest["population"] == pop.reindex(latest.index)).all()
    assert abs(latest["population"].sum() - 2_165_759) < 1
    buildings = len(real["buildings"])
    assert 0.95 * buildings <= latest["buildings"].sum() <= buildings
    cams = generated.new["cameras"]
    almaly = (cams["district"] == "Almaly") & (cams["status"] != "planned")
    assert latest.loc["Almaly", "cameras_per_10k"] == pytest.approx(
        almaly.sum() / pop["Almaly"] * 1e4, abs=0.01
    )
    series = ind.sort_values("period").groupby("district")["population"]
    assert series.apply(lambda s: s.is_monotonic_increasing).all()
    growth = (
        latest["population"] / ind[ind["period"] == 2019].set_index("district")["population"]
    ) ** (1 / (TODAY.year - 2019)) - 1
    assert growth.between(0.01, 0.035).all()
    pb = ind[ind["period"] < 2021]["budget_projects"]
    assert (pb == 0).all()
    # the participatory projects of a year are the applications of its cycles, and the latest
    # year has no generated cycle (staff open it), so none
    counted = ind.set_index(["district", "period"])["budget_projects"]
    per = _applications(generated).groupby(["district", "year"]).size()
    assert (counted.loc[list(per.index)].to_numpy() == per.to_numpy()).all()
    assert (ind.loc[ind["period"] == TODAY.year, "budget_projects"] == 0).all()


def test_indicators_declared_generated_are_those_resting_on_generated_layers(
    real: dict[str, gpd.GeoDataFrame], generated: syn.Generated
) -> None:
    """The catalog's ``generated_from`` (what the dashboard marks as demo data in the latest
    year) is checked against the synthesiser: without the generated features, exactly the
    indicators that declare them change."""
    from etl.synthesise.pipeline import WORK_COLUMNS

    city = syn.City.from_layers(real)
    new = generated.new
    real_works = city.real["works"].reindex(columns=list(WORK_COLUMNS)).assign(synthetic=False)
    without = syn.district_indicators(
        city,
        cameras=new["cameras"].iloc[0:0],
        appeals=new["appeals"].iloc[0:0],
        budget_cycles=[],
        schools=generated.enriched["schools"],
        works=real_works,
        today=TODAY,
    )

    def latest(frame: gpd.GeoDataFrame) -> pd.DataFrame:
        return pd.DataFrame(frame[frame["period"] == TODAY.year]).set_index("district")

    was, now = latest(new["district_indicators"]), latest(without)
    changed = {
        p.name
        for p in layers.get("district_indicators").properties
        if p.type in (PropType.INT, PropType.FLOAT)
        and p.name != "period"
        and not np.allclose(was[p.name], now.loc[was.index, p.name], equal_nan=True)
    }
    props = layers.get("district_indicators").properties
    declared = {p.name for p in props if p.generated_from}
    assert changed == declared, (changed, declared)
    # The indicators declared real in every year are the same in every year.
    ind = new["district_indicators"]
    for name in REAL_HISTORY:
        assert (ind.groupby("district")[name].nunique() == 1).all(), name
        assert (ind.set_index("district")[name] == was[name].reindex(ind["district"])).all()
    # The layers named are generated ones: the synthesiser makes features in each.
    for source in {s for p in props for s in p.generated_from}:
        assert len(new[source]) and new[source]["synthetic"].all(), source


# --------------------------------------------------------------------------- tiny city

# etl.synthesise.toy_layers: two 2 x 2 km square districts side by side, "Almaly" (west,
# 75,000 residents, 2 real schools) and "Medeu" (east, 30,000); an east-west primary road at
# y = 1 km crossed by a secondary road at x = 1 km and a residential one at x = 3 km; bus
# stop bs1 mapped as wheelchair=no. Coordinates are metres from toy.ORIGIN in UTM 43N.
X0, Y0 = ORIGIN


def tiny_city() -> dict[str, gpd.GeoDataFrame]:
    return syn.toy_layers()


@pytest.fixture(scope="module")
def tiny() -> syn.Generated:
    return syn.generate_all(tiny_city(), seed=5, today=TODAY)


def test_school_target_by_hand() -> None:
    assert syn.school_targets(75_000, real_schools=2) == (8, 30)
    assert syn.school_targets(30_000) == (4, 12)
    assert syn.school_targets(7_000, real_schools=3, real_kindergartens=9) == (0, 0)


def test_tiny_city_exact_counts(tiny: syn.Generated) -> None:
    new = tiny.new["schools"]
    counts = new.groupby(["district", "kind"]).size().to_dict()
    assert counts == {
        ("Almaly", "kindergarten"): 30,
        ("Almaly", "school"): 8,
        ("Medeu", "kindergarten"): 12,
        ("Medeu", "school"): 4,
    }
    assert (new["name"].str.extract(r"№ (\d+)")[0].astype(int) != 1).all()
    # 10-25 projects per district-year; both districts are small enough for the floor of 10.
    pb = _applications(tiny)
    assert len(pb) == 2 * len(range(2021, TODAY.year)) * 10
    assert set(pb["title"].str.extract(r"по ((?:ул|пр)\. \w+)")[0]) <= {
        "пр. Абая",
        "ул. Сейфулина",
        "ул. Шевченко",
    }
    ind = tiny.new["district_indicators"].set_index(["district", "period"])
    assert ind.loc[("Almaly", TODAY.year), "schools_per_10k"] == pytest.approx(
        10 / 75_000 * 1e4, abs=0.005
    )
    assert ind.loc[("Almaly", TODAY.year), "area_km2"] == pytest.approx(4.0)
    assert ind.loc[("Medeu", TODAY.year), "density"] == pytest.approx(7500.0)
    assert len(ind) == 2 * (TODAY.year - 2019 + 1)


def test_tiny_city_intersections() -> None:
    city = syn.City.from_layers(tiny_city())
    nodes, weight, _ = intersections(city)
    xy = sorted(map(tuple, np.round(shapely.get_coordinates(nodes) - [X0, Y0], 1)))
    assert xy == [(1000.0, 1000.0), (3000.0, 1000.0)]
    # Two main roads cross at x = 1000 m, a main and a residential road at x = 3000 m.
    assert weight[np.argmin(shapely.get_x(nodes))] > weight[np.argmax(shapely.get_x(nodes))]


def test_tiny_city_accessibility(tiny: syn.Generated) -> None:
    stops = tiny.enriched["bus_stops"].set_index("source_id")
    assert stops.loc["node/bs1", "wheelchair"] == "no"
    assert not stops.loc["node/bs1", "accessibility_generated"]
    assert pd.isna(stops.loc["node/bs1", "ramp"])
    assert stops.loc[["node/bs2", "node/bs3"], "accessibility_generated"].all()
    assert stops.loc[["node/bs2", "node/bs3"], "wheelchair"].isin(["yes", "limited", "no"]).all()


def test_tiny_city_works_and_cameras(tiny: syn.Generated) -> None:
    w = tiny.new["works"]
    assert len(w) > 0 and set(w["district"]) == {"Almaly", "Medeu"}
    repairs = w[w["kind"] == "repair"]
    assert repairs["title"].str.contains("пр. Абая|ул. Сейфулина|ул. Шевченко").all()
    cams = tiny.new["cameras"]
    assert len(cams) == 3000


@pytest.mark.parametrize(
    "module",
    [
        "__init__",
        "accessibility",
        "appeals",
        "budget",
        "cameras",
        "city",
        "indicators",
        "pipeline",
        "schools",
        "streets",
        "toy",
        "works",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    name = "etl.synthesise" if module == "__init__" else f"etl.synthesise.{module}"
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_missing_required_layer_is_reported() -> None:
    layers_ = tiny_city()
    del layers_["population_grid"]
    with pytest.raises(syn.MissingLayer):
        syn.generate_all(layers_)


def test_street_labels() -> None:
    label = street_label
    assert label("Абая прс.") == "пр. Абая"
    assert label("ул.Биржана") == "ул. Биржана"
    assert label("Толе Би (Tole Bi)") == "ул. Толе Би"
    assert label("ул. Кулбекова Т.") == "ул. Кулбекова Т."
    assert label("Читинский пер.") == "пер. Читинский"
    for junk in ("не знаю названия", "Kurty-Kapchagay road", "Георгиевка - Алматы", None):
        assert label(junk) is None
