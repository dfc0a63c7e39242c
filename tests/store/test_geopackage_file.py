"""The embedded store is a real GeoPackage: GDAL (as QGIS would) reads it as it is."""

from __future__ import annotations

from pathlib import Path

import pyogrio

import layers
from tests.support.frames import buildings_frame
from twin.store import Batch, open_store


def test_gdal_reads_the_store_file(tmp_path: Path) -> None:
    path = tmp_path / "twin.gpkg"
    store = open_store(f"gpkg:///{path}")
    store.load([Batch(layers.get("buildings"), "t", buildings_frame(3), "t", "0" * 64, "x")])
    store.close()
    listed = dict(pyogrio.list_layers(path))
    assert listed["buildings"] == "MultiPolygon" and listed["cameras"] == "Point"
    frame = pyogrio.read_dataframe(path, layer="buildings")
    assert frame["name"].tolist() == ["Дом 1", "Дом 2", "Дом 3"]
    assert frame["levels"].tolist() == [1, 2, 3]  # INTEGER, not a BIGINT GDAL would skip
    assert frame.crs.to_epsg() == 4326
    # the spatial index is usable by GDAL: a bbox read returns only the first square
    near = pyogrio.read_dataframe(
        path, layer="buildings", bbox=(76.8995, 43.2495, 76.9005, 43.2505)
    )
    assert near["name"].tolist() == ["Дом 1"]
