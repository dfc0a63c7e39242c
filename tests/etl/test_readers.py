"""Tests for etl.readers: every format reads back a known dataset; every broken file is
refused with a message that names the file and the problem."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import layers
from etl.readers import RawTable, read_file
from etl.transform import conform
from twin.core.errors import SourceError

WriteFile = Callable[[str, str | bytes], Path]


def _one(path: Path, **kw: str) -> RawTable:
    tables = read_file(path, **kw)
    assert len(tables) == 1
    return tables[0]


# --------------------------------------------------------------------------- round trips


def _write(known: gpd.GeoDataFrame, tmp_path: Path, fmt: str) -> Path:
    """Write the known places in ``fmt`` and return the file to read."""
    xy = known.geometry.get_coordinates()
    if fmt == "geojson":
        path = tmp_path / "places.geojson"
        known.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp_path / "places.gpkg"
        known.to_file(path, driver="GPKG", layer="places")
    elif fmt == "shp":
        path = tmp_path / "places.shp"
        known.to_file(path)
    elif fmt == "zip":
        (tmp_path / "shp").mkdir()
        known.to_file(tmp_path / "shp" / "places.shp")
        path = tmp_path / "places.zip"
        with zipfile.ZipFile(path, "w") as z:
            for part in (tmp_path / "shp").iterdir():
                z.write(part, f"inner/{part.name}")
    elif fmt == "fgb":
        path = tmp_path / "places.fgb"
        # Without a spatial index the writer keeps feature order (an index sorts them).
        known.to_file(path, driver="FlatGeobuf", SPATIAL_INDEX="NO")
    elif fmt == "csv":
        path = tmp_path / "places.csv"
        pd.DataFrame({"id": known["id"], "name": known["name"], "Lng": xy.x, "LAT": xy.y}).to_csv(
            path, index=False
        )
    else:
        path = tmp_path / "places_wkt.csv"
        wkt = shapely.to_wkt(known.geometry.to_numpy(), rounding_precision=-1)
        pd.DataFrame({"id": known["id"], "name": known["name"], "WKT": wkt}).to_csv(
            path, index=False
        )
    return path


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "shp", "zip", "fgb", "csv", "csv_wkt"])
def test_every_format_reads_back_the_known_places(
    known: gpd.GeoDataFrame, tmp_path: Path, fmt: str
) -> None:
    table = _one(_write(known, tmp_path, fmt))

    frame = table.frame
    assert table.name == ("places" if fmt == "gpkg" else "")  # a GeoPackage names its layers
    assert table.row_errors == {}
    assert frame["_row"].tolist() == [1, 2, 3]
    assert [str(v) for v in frame["id"]] == ["101", "102", "103"]
    assert frame["name"].tolist() == ["Абай", "Dostyk", "Сәтбаев"]
    assert shapely.equals_exact(
        frame.geometry.to_numpy(), known.geometry.to_numpy(), tolerance=1e-9
    ).all()
    if fmt == "csv_wkt":
        assert frame.crs is None
        assert "WKT" not in frame.columns  # it became the geometry
    else:
        assert frame.crs is not None and frame.crs.to_epsg() == 4326
    conformed = conform(frame, layers.get("pois"), origin=fmt, row_errors=table.row_errors)
    assert conformed.frame["source_id"].tolist() == ["101", "102", "103"]
    assert conformed.rejected == []


def test_geopackage_reads_every_layer_or_the_one_asked(
    known: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "two.gpkg"
    known.to_file(path, driver="GPKG", layer="places")
    known.iloc[:1].to_file(path, driver="GPKG", layer="first")

    assert sorted((t.name, len(t.frame)) for t in read_file(path)) == [
        ("first", 1),
        ("places", 3),
    ]
    assert _one(path, sublayer="first").frame["id"].tolist() == [101]
    with pytest.raises(SourceError, match=r"two\.gpkg: no layer 'nope' \(layers: .*places"):
        read_file(path, sublayer="nope")


def test_geojson_feature_ids_become_an_id_column(write_file: WriteFile) -> None:
    text = (
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "id": 17, "properties": {"name": "a"},'
        ' "geometry": {"type": "Point", "coordinates": [76.9, 43.2]}},'
        '{"type": "Feature", "id": 42, "properties": {"name": "b"},'
        ' "geometry": {"type": "Point", "coordinates": [76.8, 43.3]}}]}'
    )
    frame = _one(write_file("ids.geojson", text)).frame

    assert frame["id"].tolist() == [17, 42]


def test_osm_pbf_gives_points_lines_and_multipolygons(osm_pbf: Path) -> None:
    tables = {t.name: t for t in read_file(osm_pbf)}

    assert list(tables) == ["points", "lines", "multipolygons"]
    expected = {"points": "Point", "lines": "LineString", "multipolygons": "MultiPolygon"}
    for name, table in tables.items():
        frame = table.frame
        assert len(frame) > 0
        assert frame.crs.to_epsg() == 4326
        assert "osm_id" in frame.columns
        assert set(frame.geometry.dropna().geom_type) == {expected[name]}
    # One multipolygon of the 2012 extract has a 2-point ring: reported, not dropped.
    errors = tables["multipolygons"].row_errors
    assert errors and all("geometry could not be parsed" in m for m in errors.values())
    mp = tables["multipolygons"].frame
    assert mp.loc[mp["_row"].isin(list(errors)), "geometry"].isna().all()
    assert [t.name for t in read_file(osm_pbf, sublayer="points")] == ["points"]


def test_bundled_buildings_read_whole(buildings_geojson: Path) -> None:
    table = _one(buildings_geojson)

    assert len(table.frame) == 8201
    assert "building:levels" in table.frame.columns
    assert table.frame.geometry.notna().all()


def test_shapefile_without_prj_has_no_crs(known: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    known.to_file(path)
    path.with_suffix(".prj").unlink()

    assert _one(path).frame.crs is None


# --------------------------------------------------------------------------- whole-file errors


def test_missing_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nowhere\.geojson: no such file"):
        read_file(tmp_path / "nowhere.geojson")


def test_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.geojson").mkdir()
    with pytest.raises(SourceError, match=r"dir\.geojson: is a directory"):
        read_file(tmp_path / "dir.geojson")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("picture.geojson", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))),
        ("noise.geojson", bytes(np.random.default_rng(7).integers(0, 256, 512, dtype=np.uint8))),
        ("noise.gpkg", b"not a database at all\n" * 20),
        ("noise.fgb", bytes(range(256)) * 4),
        ("noise.shp", b"\x00\x01\x02 not a shapefile" * 10),
        ("picture.png", b"\x89PNG\r\n\x1a\n"),
        ("notes.txt", "just text"),
        ("table.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("plain.json", '{"not": "geojson"}'),
        ("archive.zip", b"PK\x03\x04 broken"),
    ],
)
def test_not_geodata_is_refused(write_file: WriteFile, name: str, content: str | bytes) -> None:
    path = write_file(name, content)
    with pytest.raises(SourceError) as e:
        read_file(path)
    assert str(path) in e.value.detail
    assert "not a geodata file (expected GeoJSON, GeoPackage, Shapefile" in e.value.detail


@pytest.mark.parametrize("name", ["empty.geojson", "empty.csv", "empty.gpkg", "empty.pbf"])
def test_empty_file_is_refused(write_file: WriteFile, name: str) -> None:
    with pytest.raises(SourceError, match=rf"{name}: empty file"):
        read_file(write_file(name, b""))


def test_truncated_geojson_says_where_it_stops(
    write_file: WriteFile, geojson_text: Callable[..., str]
) -> None:
    point = '{"type": "Point", "coordinates": [76.9, 43.2]}'
    text = geojson_text(*[(f'{{"id": {i}}}', point) for i in range(5)])
    cut = text[: len(text) // 2]
    lines = cut.split("\n")

    with pytest.raises(SourceError) as e:
        read_file(write_file("cut.geojson", cut))
    msg = e.value.detail
    assert "cut.geojson: truncated GeoJSON" in msg
    assert f"stops at line {len(lines)}, column {len(lines[-1])}" in msg


def test_invalid_geojson_gives_line_and_column(
    write_file: WriteFile, geojson_text: Callable[..., str]
) -> None:
    point = '{"type": "Point", "coordinates": [76.9, 43.2]}'
    text = geojson_text(("{}", point), ("{}", point)).replace("},\n{", "}\n{", 1)

    with pytest.raises(SourceError) as e:
        read_file(write_file("broken.geojson", text))
    assert "broken.geojson: invalid GeoJSON: Expecting ',' delimiter: line 4 column 1" in (
        e.value.detail
    )


def test_csv_in_cp1251_gives_offset_and_row(write_file: WriteFile) -> None:
    data = "id,lon,lat,name\n1,76.9,43.2,Abay\n2,76.95,43.24,Алматы\n".encode("cp1251")
    offset = data.index("Алматы".encode("cp1251"))

    with pytest.raises(SourceError) as e:
        read_file(write_file("cp1251.csv", data))
    msg = e.value.detail
    assert f"cp1251.csv: not UTF-8 text: byte 0xc0 at offset {offset} (line 3, row 2)" in msg
    assert "Windows-1251" in msg


def test_geojson_not_utf8_gives_offset(write_file: WriteFile) -> None:
    text = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    text += '{"name": "Алматы"}, "geometry": {"type": "Point", "coordinates": [76.9, 43.2]}}]}'
    data = text.encode("cp1251")

    with pytest.raises(
        SourceError, match=rf"not UTF-8 text: byte 0xc0 at offset {data.index(0xC0)}"
    ):
        read_file(write_file("latin.geojson", data))


def test_csv_without_coordinates_names_its_columns(write_file: WriteFile) -> None:
    with pytest.raises(SourceError) as e:
        read_file(write_file("people.csv", "name;district\nA;Almaly\n"))
    assert "people.csv: CSV has no coordinate columns" in e.value.detail
    assert "its columns are: name, district" in e.value.detail


# --------------------------------------------------------------------------- row errors


def test_csv_bad_coordinates_are_row_errors(write_file: WriteFile) -> None:
    text = (
        "id,longitude,latitude\n"
        "1,76.90,43.20\n"  # good
        "2,,43.2\n"  # missing
        "3,NaN,43.2\n"  # NaN
        "4,76.9,123.4\n"  # out of range
        "5,abc,43.2\n"  # not a number
        "6,76,9,43.2\n"  # decimal comma splits the field: too many fields
    )
    text = text.replace("6,76,9,43.2\n", "6,-181,43.2\n7,76.95,43.25\n")
    table = _one(write_file("cafes.csv", text))

    assert table.row_errors == {
        2: "row 2: longitude is missing",
        3: "row 3: longitude is NaN, not a number",
        4: "row 4: latitude 123.4 is outside [-90, 90]",
        5: "row 5: longitude 'abc' is not a number",
        6: "row 6: longitude -181 is outside [-180, 180]",
    }
    frame = table.frame
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.isna().tolist() == [False, True, True, True, True, True, False]
    assert frame.geometry.iloc[6].equals(shapely.Point(76.95, 43.25))


def test_csv_decimal_comma_gets_a_hint(write_file: WriteFile) -> None:
    table = _one(write_file("semi.csv", "id;lon;lat\n1;76,9;43.2\n2;76.9;43.2\n"))

    assert table.row_errors == {
        1: "row 1: longitude '76,9' is not a number (use '.' as the decimal separator)"
    }


def test_csv_wkt_bad_rows_are_row_errors(write_file: WriteFile) -> None:
    text = 'id,geom\n1,"POINT (76.9 43.2)"\n2,"POLYGON ((0 0, 1 1"\n3,\n'
    table = _one(write_file("shapes.csv", text))

    assert table.frame.crs is None
    assert table.row_errors[3] == "row 3: geometry (WKT) is missing"
    assert table.row_errors[2].startswith("row 2: WKT 'POLYGON ((0 0, 1 1' cannot be parsed")
    assert set(table.row_errors) == {2, 3}


def test_geojson_unreadable_geometries_are_row_errors(
    write_file: WriteFile, geojson_text: Callable[..., str]
) -> None:
    text = geojson_text(
        ('{"id": 1}', '{"type": "Point", "coordinates": [76.9, 43.2]}'),
        ('{"id": 2}', '{"type": "Polygn", "coordinates": [[0, 0]]}'),
        ('{"id": 3}', '{"type": "Polygon", "coordinates": [[[76.9, 43.2], [76.91, 43.21]]]}'),
        ('{"id": 4}', "null"),
    )
    table = _one(write_file("odd.geojson", text))

    assert (
        table.row_errors[2] == "row 2: geometry could not be parsed: unknown geometry type 'Polygn'"
    )
    assert table.row_errors[3].startswith("row 3: geometry could not be parsed")
    assert set(table.row_errors) == {2, 3}  # row 4 is plainly null, not unparseable
    assert table.frame.geometry.isna().tolist() == [False, True, True, True]


def test_csv_with_bom_semicolons_and_odd_case_headers(write_file: WriteFile) -> None:
    text = "\ufeffID;Longitude;Latitude;name\n1;76.9;43.2;Абай\n"
    table = _one(write_file("bom.csv", text.encode("utf-8")))

    assert list(table.frame.columns[:4]) == ["ID", "Longitude", "Latitude", "name"]
    assert table.frame.geometry.iloc[0].equals(shapely.Point(76.9, 43.2))
    assert table.row_errors == {}


def test_geojson_crs_member_is_read(write_file: WriteFile) -> None:
    text = (
        '{"type": "FeatureCollection", "crs": {"type": "name", "properties": '
        '{"name": "urn:ogc:def:crs:EPSG::32643"}}, "features": [{"type": "Feature", '
        '"properties": {"id": 1}, "geometry": {"type": "Point", "coordinates": [657985.0, '
        "4789182.9]}}]}"
    )
    frame = _one(write_file("utm.geojson", text)).frame

    assert frame.crs.to_epsg() == 32643


def test_single_layer_file_refuses_another_sublayer(
    known: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "places.fgb"
    known.to_file(path, driver="FlatGeobuf")

    with pytest.raises(SourceError, match=r"places\.fgb: no layer 'roads' \(layers: places\)"):
        read_file(path, sublayer="roads")
