"""Bundled OSM 2012 layers (data/almaty/osm/derived_2012, from the PBF beside it)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from etl.bundled.common import Prepared, first_of, hstore, join_address

DERIVED = Path("almaty/osm/derived_2012")
PBF = Path("almaty/osm/almaty_osm_2012-03.osm.pbf")

_EDUCATION = {"school": "school", "kindergarten": "kindergarten"}
_HEALTH = {"hospital": "hospital", "clinic": "clinic", "doctors": "clinic"}
_PUBLIC = {
    "school",
    "kindergarten",
    "university",
    "college",
    "hospital",
    "clinic",
    "library",
    "theatre",
    "townhall",
    "police",
    "post_office",
    "public",
}
_COMMERCIAL = {"commercial", "retail", "shop", "supermarket", "office", "hotel"}
_INDUSTRIAL = {"industrial", "warehouse", "garages", "garage"}
_RESIDENTIAL = {"residential", "apartments", "house", "detached", "dormitory", "terrace"}


def _read(data: Path, name: str) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(data / DERIVED / name)
    frame["_row"] = np.arange(1, len(frame) + 1)
    frame["osm_key"] = first_of(frame, "osm_id", "osm_way_id").astype(str)
    return frame


def _frame(src: gpd.GeoDataFrame, columns: dict[str, object]) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {"_row": src["_row"], "source_id": src["osm_key"], **columns},
        geometry=src.geometry.values,
        crs=src.crs,
    )
    return out


def buildings(data: Path) -> list[Prepared]:
    """Return the OSM building footprints with their use derived from tags."""
    src = _read(data, "buildings.geojson")
    tag = first_of(src, "amenity", "shop", "building").fillna("yes").str.lower()
    use = np.select(
        [
            tag.isin(_PUBLIC),
            tag.isin(_COMMERCIAL) | src["shop"].notna(),
            tag.isin(_INDUSTRIAL),
            tag.isin(_RESIDENTIAL),
        ],
        ["public", "commercial", "industrial", "residential"],
        default="other",
    )
    frame = _frame(
        src,
        {
            "name": src["name"],
            "building": src["building"],
            "levels": src["building:levels"],
            "height": pd.to_numeric(
                src["height"].astype(str).str.extract(r"([\d.]+)")[0], errors="coerce"
            ),
            "street": src["addr:street"],
            "housenumber": src["addr:housenumber"],
            "address": join_address(src["addr:street"], src["addr:housenumber"]),
            "use": use,
        },
    )
    return [
        Prepared(
            "buildings",
            str(DERIVED / "buildings.geojson"),
            data / DERIVED / "buildings.geojson",
            frame,
        )
    ]


def roads(data: Path) -> list[Prepared]:
    """Return the OSM streets with one-way, lanes, speed and surface parsed from other_tags."""
    src = _read(data, "roads.geojson")
    tags = hstore(src["other_tags"])
    highway = src["highway"].replace({"unsurfaced": "road", "bridleway": "path"})
    from layers.city import ROAD_CLASSES

    highway = highway.where(highway.isin(ROAD_CLASSES), "other")

    def tag(key: str) -> pd.Series:
        return tags[key] if key in tags else pd.Series([None] * len(src), index=src.index)

    def yes(key: str) -> pd.Series:
        return tag(key).map(
            {"yes": True, "no": False, "1": True, "-1": True, "true": True}, na_action="ignore"
        )

    frame = _frame(
        src,
        {
            "name": src["name"],
            "highway": highway,
            "oneway": yes("oneway"),
            "lanes": pd.to_numeric(tag("lanes"), errors="coerce"),
            "maxspeed": pd.to_numeric(tag("maxspeed"), errors="coerce"),
            "surface": tag("surface"),
            "bridge": yes("bridge"),
            "tunnel": yes("tunnel"),
        },
    )
    return [
        Prepared("roads", str(DERIVED / "roads.geojson"), data / DERIVED / "roads.geojson", frame)
    ]


def pois(data: Path) -> list[Prepared]:
    """Return OSM amenity/shop/tourism points; schools, kindergartens, hospitals and clinics go
    to their own layers instead.

    Deduplicated here, at load, and not in the layers' declarations (a style filter): a node
    tagged ``amenity=school`` was stored twice, as a school and as a place (38 schools and
    36 hospitals and clinics of the 893 points), and showed twice on the map, in search, in
    counts and in the analyses that read the places. Their own layers keep them with the card
    that fits (capacity, beds); the places layer keeps the rest (819 points).
    """
    src = _read(data, "pois_points.geojson")
    kind = np.select(
        [
            src["amenity"].notna(),
            src["shop"].notna(),
            src["tourism"].notna(),
            src["leisure"].notna(),
        ],
        ["amenity", "shop", "tourism", "leisure"],
        default="other",
    )
    category = first_of(src, "amenity", "shop", "tourism", "leisure")
    address = join_address(src["addr:street"], src["addr:housenumber"])
    wheelchair = src["wheelchair"].where(src["wheelchair"].isin(["yes", "limited", "no"]))
    place = ~src["amenity"].isin([*_EDUCATION, *_HEALTH])
    out = [
        Prepared(
            "pois",
            str(DERIVED / "pois_points.geojson"),
            data / DERIVED / "pois_points.geojson",
            _frame(
                src[place],
                {
                    "name": src["name"][place],
                    "category": category[place],
                    "kind": kind[place],
                    "address": address[place],
                    "opening_hours": src["opening_hours"][place],
                    "operator": src["operator"][place],
                    "wheelchair": wheelchair[place],
                },
            ),
        )
    ]
    edu = src["amenity"].isin(list(_EDUCATION))
    out.append(
        Prepared(
            "schools",
            str(DERIVED / "pois_points.geojson") + "#schools",
            data / DERIVED / "pois_points.geojson",
            _frame(
                src[edu],
                {
                    "name": src["name"][edu],
                    "kind": src["amenity"][edu],
                    "address": address[edu],
                    "wheelchair": wheelchair[edu],
                },
            ),
        )
    )
    med = src["amenity"].isin(list(_HEALTH))
    out.append(
        Prepared(
            "health",
            str(DERIVED / "pois_points.geojson") + "#health",
            data / DERIVED / "pois_points.geojson",
            _frame(
                src[med],
                {
                    "name": src["name"][med],
                    "kind": src["amenity"][med].map(_HEALTH),
                    "address": address[med],
                    "wheelchair": wheelchair[med],
                },
            ),
        )
    )
    return out


def amenity_areas(data: Path) -> list[Prepared]:
    """Return schools and hospitals mapped as areas, as points (their representative points)."""
    src = _read(data, "amenity_polygons.geojson")
    src = src.set_geometry(src.geometry.representative_point())
    out = []
    edu = src["amenity"].isin(list(_EDUCATION))
    out.append(
        Prepared(
            "schools",
            str(DERIVED / "amenity_polygons.geojson") + "#schools",
            data / DERIVED / "amenity_polygons.geojson",
            _frame(src[edu], {"name": src["name"][edu], "kind": src["amenity"][edu]}),
        )
    )
    med = src["amenity"].isin(list(_HEALTH))
    out.append(
        Prepared(
            "health",
            str(DERIVED / "amenity_polygons.geojson") + "#health",
            data / DERIVED / "amenity_polygons.geojson",
            _frame(src[med], {"name": src["name"][med], "kind": src["amenity"][med].map(_HEALTH)}),
        )
    )
    return out


def bus_stops(data: Path) -> list[Prepared]:
    """Return the OSM bus stops (shelter from other_tags, wheelchair where mapped)."""
    src = _read(data, "bus_stops.geojson")
    tags = hstore(src["other_tags"])
    shelter = (
        tags["shelter"].map({"yes": True, "no": False}, na_action="ignore")
        if "shelter" in tags
        else None
    )
    frame = _frame(
        src,
        {
            "name": src["name"],
            "shelter": shelter,
            "wheelchair": src["wheelchair"].where(src["wheelchair"].isin(["yes", "limited", "no"])),
        },
    )
    return [
        Prepared(
            "bus_stops",
            str(DERIVED / "bus_stops.geojson"),
            data / DERIVED / "bus_stops.geojson",
            frame,
        )
    ]


def parks(data: Path) -> list[Prepared]:
    """Return parks, gardens, pitches and green land use, with their area in hectares."""
    src = _read(data, "parks_leisure_green.geojson")
    area = src.geometry.to_crs(32643).area / 10_000
    frame = _frame(
        src,
        {
            "name": src["name"],
            "kind": first_of(src, "leisure", "landuse", "natural"),
            "area_ha": area.round(3),
        },
    )
    return [
        Prepared(
            "parks",
            str(DERIVED / "parks_leisure_green.geojson"),
            data / DERIVED / "parks_leisure_green.geojson",
            frame,
        )
    ]


def landuse(data: Path) -> list[Prepared]:
    """Return OSM land use polygons for the basemap."""
    src = _read(data, "landuse.geojson")
    frame = _frame(src, {"name": src["name"], "kind": src["landuse"]})
    return [
        Prepared(
            "landuse", str(DERIVED / "landuse.geojson"), data / DERIVED / "landuse.geojson", frame
        )
    ]


def pbf_lines(data: Path) -> list[Prepared]:
    """Return rivers, canals, railways and tram lines read straight from the OSM PBF."""
    src = pyogrio.read_dataframe(data / PBF, layer="lines")
    src["_row"] = np.arange(1, len(src) + 1)
    src["osm_key"] = src["osm_id"].astype(str)
    tags = hstore(src["other_tags"])
    water = src["waterway"].notna()
    kinds = src["waterway"].where(
        src["waterway"].isin(["river", "canal", "stream", "drain"]), "other"
    )
    rail = src["railway"].isin(["rail", "tram"])
    electrified = (
        tags["electrified"].notna() & (tags["electrified"] != "no")
        if "electrified" in tags
        else pd.Series(False, index=src.index)
    )
    return [
        Prepared(
            "waterways",
            str(PBF) + "#waterways",
            data / PBF,
            _frame(src[water], {"name": src["name"][water], "kind": kinds[water]}),
        ),
        Prepared(
            "railways",
            str(PBF) + "#railways",
            data / PBF,
            _frame(
                src[rail],
                {
                    "name": src["name"][rail],
                    "kind": src["railway"][rail],
                    "electrified": electrified[rail],
                },
            ),
        ),
    ]


PREPARERS = (buildings, roads, pois, amenity_areas, bus_stops, parks, landuse, pbf_lines)
