"""Fixtures for the extract and transform tests: small, exact datasets written at run time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyogrio  # noqa: F401  (imported before anything may open SpatiaLite)
import pytest
import shapely

REPO = Path(__file__).resolve().parents[2]
OSM_PBF = REPO / "data/almaty/osm/almaty_osm_2012-03.osm.pbf"
BUILDINGS = REPO / "data/almaty/osm/derived_2012/buildings.geojson"

# Three places in Almaty with known lon/lat (to 1e-7 degrees).
KNOWN_IDS = [101, 102, 103]
KNOWN_NAMES = ["Абай", "Dostyk", "Сәтбаев"]
KNOWN_XY = [(76.9458, 43.2389), (76.9576, 43.2337), (76.9100, 43.2300)]

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture
def known() -> gpd.GeoDataFrame:
    """Return three named points in Almaty, ids 101-103, in EPSG:4326."""
    return gpd.GeoDataFrame(
        {"id": KNOWN_IDS, "name": KNOWN_NAMES},
        geometry=[shapely.Point(x, y) for x, y in KNOWN_XY],
        crs="EPSG:4326",
    )


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Return a function that writes text (UTF-8) or bytes to ``tmp_path/name``."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return write


@pytest.fixture
def osm_pbf() -> Path:
    """Return the bundled 2012 OSM extract of Almaty."""
    return OSM_PBF


@pytest.fixture
def buildings_geojson() -> Path:
    """Return the bundled OSM-derived buildings (8,201 polygons)."""
    return BUILDINGS


def _feature(geometry: str, props: str = "{}") -> str:
    return f'{{"type": "Feature", "properties": {props}, "geometry": {geometry}}}'


@pytest.fixture
def geojson_text() -> Callable[..., str]:
    """Return a function building FeatureCollection text from (properties, geometry) JSON
    pairs, one feature per line: feature k is on line k + 2."""

    def build(*features: tuple[str, str]) -> str:
        body = ",\n".join(_feature(geometry, props) for props, geometry in features)
        return '{"type": "FeatureCollection",\n"features": [\n' + body + "\n]}\n"

    return build
