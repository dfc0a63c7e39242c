"""Tests for etl.transform.conform (and the coercion and geometry steps behind it): every bad
row is rejected with a reason naming the file, the row and the problem; every repair is noted."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import layers
from etl.geometry import raw_wkt
from etl.readers import read_file
from etl.transform import Conformed, conform
from layers.model import GeomType, Layer, Prop, PropType, Style, t
from twin.core.errors import SourceError

WriteFile = Callable[[str, str | bytes], Path]
POIS = layers.get("pois")
BUILDINGS = layers.get("buildings")
ROADS = layers.get("roads")
_T = t("т", "т", "t")

# One property of every type, with the constraints the catalog uses.
THINGS = Layer(
    id="things",
    title=_T,
    module="test",
    geometry=GeomType.POINT,
    properties=(
        Prop("s", PropType.STR, _T),
        Prop("n", PropType.INT, _T, minimum=0, maximum=200),
        Prop("f", PropType.FLOAT, _T, minimum=0),
        Prop("b", PropType.BOOL, _T),
        Prop("d", PropType.DATE, _T),
        Prop("ts", PropType.DATETIME, _T),
        Prop("j", PropType.JSON, _T),
        Prop("c", PropType.STR, _T, choices=("a", "b")),
    ),
    style=Style(kind="circle", color="#000000"),
)


def frame(geoms: list[Any], crs: Any = "EPSG:4326", **columns: list[Any]) -> gpd.GeoDataFrame:
    """Return a raw frame of ``geoms`` with the given columns."""
    return gpd.GeoDataFrame(dict(columns), geometry=gpd.GeoSeries(geoms), crs=crs)


def square(x: float = 76.9, y: float = 43.2, size: float = 0.001) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


def reasons(result: Conformed) -> dict[int | None, str]:
    return {r.row: r.reason for r in result.rejected}


# --------------------------------------------------------------------------- output shape


def test_output_has_the_stored_columns_types_and_crs() -> None:
    raw = frame(
        [square(), shapely.MultiPolygon([square(76.91)])],
        id=[1, 2],
        name=[" Дом ", None],
        levels=["3", None],
        colour=["red", "blue"],
    )
    out = conform(raw, BUILDINGS, origin="b.geojson")

    f = out.frame
    assert list(f.columns) == ["source_id", "synthetic", *BUILDINGS.prop_names, "geometry"]
    assert f.index.tolist() == [0, 1]
    assert f.crs.to_epsg() == 4326
    assert f.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]
    assert f["source_id"].tolist() == ["1", "2"]
    assert f["synthetic"].dtype == bool and not f["synthetic"].any()
    assert f["name"].tolist() == ["Дом", None]
    assert str(f["levels"].dtype) == "Int64" and f["levels"].tolist()[0] == 3
    assert f["height"].dtype == "float64" and f["height"].isna().all()
    assert f["street"].isna().all()
    assert "b.geojson: columns ignored (not properties of layer 'buildings'): colour" in out.notes
    assert (
        "b.geojson: properties not in the file (left empty): building, height, street, "
        "housenumber, address, use" in out.notes
    )
    assert out.rejected == []


def test_empty_frame_conforms_to_an_empty_stored_frame() -> None:
    out = conform(frame([], id=[]), POIS, origin="none.csv")

    assert list(out.frame.columns) == ["source_id", "synthetic", *POIS.prop_names, "geometry"]
    assert len(out.frame) == 0 and out.rejected == []


def test_synthetic_flag_per_row_or_for_all() -> None:
    raw = frame([shapely.Point(76.9, 43.2), shapely.Point(76.8, 43.3)], id=["a", "b"])

    assert conform(raw, POIS, origin="g", synthetic=True).frame["synthetic"].tolist() == [
        True,
        True,
    ]
    flags = pd.Series([False, True])
    out = conform(raw, POIS, origin="generated:pois", synthetic=flags)
    assert out.frame["synthetic"].tolist() == [False, True]


# --------------------------------------------------------------------------- ids


def test_ids_are_text_without_float_noise_and_nulls_fall_back_to_row() -> None:
    pts = [shapely.Point(76.9, 43.2 + i / 100) for i in range(3)]

    out = conform(frame(pts, id=[12.0, 7.0, np.nan]), POIS, origin="a")
    assert out.frame["source_id"].tolist() == ["12", "7", "row-3"]
    out = conform(frame(pts, osm_id=[1, 2, 3], code=["x", "y", "z"]), POIS, origin="a")
    assert out.frame["source_id"].tolist() == ["1", "2", "3"]
    out = conform(frame(pts, osm_id=[1, 2, 3], code=["x", "y", "z"]), POIS, origin="a",
                  id_column="code")  # fmt: skip
    assert out.frame["source_id"].tolist() == ["x", "y", "z"]
    out = conform(frame(pts, _row=[5, 6, 7]), POIS, origin="a")
    assert out.frame["source_id"].tolist() == ["5", "6", "7"]  # no id column: the row
    with pytest.raises(SourceError, match=r"a: id column 'ref' not in the file"):
        conform(frame(pts, code=["x", "y", "z"]), POIS, origin="a", id_column="ref")


def test_duplicate_ids_keep_the_first_and_reject_the_rest() -> None:
    pts = [shapely.Point(76.9, 43.2 + i / 100) for i in range(4)]
    out = conform(frame(pts, id=[7, 8, 7, 7]), POIS, origin="dups.csv")

    assert out.frame["source_id"].tolist() == ["7", "8"]
    assert reasons(out) == {
        3: "dups.csv: row 3: duplicate id 7 (first seen on row 1)",
        4: "dups.csv: row 4: duplicate id 7 (first seen on row 1)",
    }
    assert out.rejected[0].source_id == "7"


def test_a_rejected_first_occurrence_does_not_shadow_a_good_repeat() -> None:
    out = conform(frame([None, shapely.Point(76.9, 43.2)], id=[5, 5]), POIS, origin="x.csv")

    assert out.frame["source_id"].tolist() == ["5"]
    assert reasons(out) == {1: "x.csv: row 1: empty geometry"}


# --------------------------------------------------------------------------- CRS


def test_utm_file_is_reprojected_to_the_right_lon_lat(
    known: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    utm = known.to_crs("EPSG:32643")
    assert 600_000 < utm.geometry.x.iloc[0] < 700_000  # really metric
    path = tmp_path / "utm.gpkg"
    utm.to_file(path, driver="GPKG")
    [table] = read_file(path)

    out = conform(table.frame, POIS, origin="utm.gpkg")

    got = out.frame.geometry.get_coordinates().to_numpy()
    assert np.allclose(got, known.geometry.get_coordinates().to_numpy(), atol=1e-7, rtol=0)
    assert got[0] == pytest.approx([76.9458, 43.2389], abs=1e-7)  # Almaty, not Null Island
    assert "utm.gpkg: reprojected from EPSG:32643 to EPSG:4326" in out.notes


def test_no_crs_with_lon_lat_is_taken_as_wgs84(known: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    known.to_file(path)
    path.with_suffix(".prj").unlink()
    [table] = read_file(path)
    assert table.frame.crs is None

    out = conform(table.frame, POIS, origin="noprj.shp")

    assert out.frame.crs.to_epsg() == 4326
    assert len(out.frame) == 3
    assert (
        "noprj.shp: no CRS declared; coordinates are plainly lon/lat, taken as EPSG:4326"
        in out.notes
    )


def test_no_crs_with_metric_coordinates_is_refused(known: gpd.GeoDataFrame, tmp_path: Path) -> None:
    path = tmp_path / "metric.shp"
    utm = known.to_crs("EPSG:32643")
    utm.to_file(path)
    path.with_suffix(".prj").unlink()
    [table] = read_file(path)
    x = utm.geometry.x.iloc[0]

    with pytest.raises(SourceError) as e:
        conform(table.frame, POIS, origin="metric.shp")
    assert e.value.detail == (
        f"metric.shp: no CRS declared and coordinates are not lon/lat (e.g. x={x:.10g}); "
        "declare the CRS (e.g. a .prj file or crs member)"
    )


def test_geojson_without_crs_member_but_metric_coordinates_is_refused(
    write_file: WriteFile, geojson_text: Callable[..., str]
) -> None:
    # RFC 7946 makes GeoJSON lon/lat; GDAL reports EPSG:4326 whatever the numbers say.
    text = geojson_text(("{}", '{"type": "Point", "coordinates": [657985.0, 4789182.9]}'))
    [table] = read_file(write_file("utm.geojson", text))

    with pytest.raises(SourceError, match=r"utm\.geojson: EPSG:4326 declared and coordinates "
                       r"are not lon/lat \(e\.g\. x=657985\)"):  # fmt: skip
        conform(table.frame, POIS, origin="utm.geojson")


def test_one_row_outside_lon_lat_is_rejected_alone() -> None:
    raw = frame([shapely.Point(76.9, 43.2), shapely.Point(76.9, 95.0)], id=[1, 2])
    out = conform(raw, POIS, origin="p.geojson")

    assert out.frame["source_id"].tolist() == ["1"]
    assert reasons(out)[2].startswith("p.geojson: row 2: coordinates outside lon/lat")


# --------------------------------------------------------------------------- geometry


def test_csv_bad_coordinates_are_rejected_and_good_rows_survive(write_file: WriteFile) -> None:
    text = (
        "id,lon,lat,name\n1,76.9,43.2,a\n2,,43.2,b\n3,nan,43.2,c\n4,76.9,123.4,d\n5,76.8,43.3,e\n"
    )
    [table] = read_file(write_file("cafes.csv", text))

    out = conform(table.frame, POIS, origin="cafes.csv", row_errors=table.row_errors)

    assert out.frame["source_id"].tolist() == ["1", "5"]
    assert out.frame["name"].tolist() == ["a", "e"]
    assert reasons(out) == {
        2: "cafes.csv: row 2: longitude is missing",
        3: "cafes.csv: row 3: longitude is NaN, not a number",
        4: "cafes.csv: row 4: latitude 123.4 is outside [-90, 90]",
    }
    bad = out.rejected[2]
    assert bad.properties == {"id": "4", "lon": "76.9", "lat": "123.4", "name": "d"}
    assert bad.wkt is None


def test_mixed_geometries_in_a_point_layer() -> None:
    p = shapely.Point(76.9, 43.2)
    geoms = [
        p,
        square(),
        shapely.LineString([(76.9, 43.2), (76.91, 43.21)]),
        shapely.MultiPoint([(76.95, 43.25)]),
        shapely.MultiPoint([(76.9, 43.2), (76.91, 43.21)]),
        shapely.GeometryCollection([p]),
    ]
    out = conform(frame(geoms, id=list(range(1, 7))), POIS, origin="mixed.geojson")

    assert out.frame["source_id"].tolist() == ["1", "4"]
    assert out.frame.geom_type.tolist() == ["Point", "Point"]
    assert out.frame.geometry.iloc[1].equals(shapely.Point(76.95, 43.25))
    assert reasons(out) == {
        2: "mixed.geojson: row 2: Polygon where layer 'pois' takes Point",
        3: "mixed.geojson: row 3: LineString where layer 'pois' takes Point",
        5: "mixed.geojson: row 5: MultiPoint of 2 points where layer 'pois' takes Point",
        6: "mixed.geojson: row 6: GeometryCollection where layer 'pois' takes Point",
    }
    assert out.rejected[0].wkt == shapely.to_wkt(square(), rounding_precision=-1)


def test_a_point_in_a_polygon_layer_is_rejected() -> None:
    out = conform(frame([shapely.Point(76.9, 43.2)], id=[1]), BUILDINGS, origin="b.gpkg")

    assert reasons(out) == {1: "b.gpkg: row 1: Point where layer 'buildings' takes MultiPolygon"}


def test_bow_tie_polygon_is_repaired_and_noted() -> None:
    d = 0.001
    bow_tie = shapely.Polygon(
        [(76.9, 43.2), (76.9 + d, 43.2 + d), (76.9 + d, 43.2), (76.9, 43.2 + d)]
    )
    assert not bow_tie.is_valid
    out = conform(frame([square(), bow_tie], id=[1, 2]), BUILDINGS, origin="bowtie.geojson")

    assert out.rejected == []
    fixed = out.frame.geometry.iloc[1]
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid
    assert len(fixed.geoms) == 2  # the two triangles of the bow tie
    assert fixed.area == pytest.approx(d * d / 2)
    [note] = [n for n in out.notes if "make_valid" in n]
    assert note.startswith(
        "bowtie.geojson: row 2: self-intersecting polygon repaired (make_valid; "
        "GEOS: Self-intersection["
    )


def test_polygon_collapsed_to_a_line_cannot_be_repaired() -> None:
    flat = shapely.Polygon([(76.9, 43.2), (76.91, 43.2), (76.92, 43.2), (76.9, 43.2)])
    out = conform(frame([flat], id=[1]), BUILDINGS, origin="flat.gpkg")

    assert len(out.frame) == 0
    assert reasons(out)[1].startswith("flat.gpkg: row 1: invalid Polygon (")
    assert reasons(out)[1].endswith("could not be repaired: make_valid left no polygon")
    assert not any("make_valid;" in n for n in out.notes)


@pytest.mark.timeout(30)
def test_polygon_with_a_million_vertices_is_rejected_with_its_count() -> None:
    angles = np.linspace(0, 2 * np.pi, 999_999, endpoint=False)
    ring = np.c_[76.9 + 0.01 * np.cos(angles), 43.2 + 0.01 * np.sin(angles)]
    huge = shapely.polygons(np.vstack([ring, ring[:1]]))
    assert shapely.get_num_coordinates(huge) == 1_000_000

    out = conform(frame([huge, square()], id=[1, 2]), BUILDINGS, origin="big.geojson")

    assert out.frame["source_id"].tolist() == ["2"]
    assert reasons(out) == {
        1: "big.geojson: row 1: 1,000,000 vertices, more than the limit of 200,000"
    }
    wkt = out.rejected[0].wkt
    assert wkt is not None and len(wkt) == 10_000 and wkt.startswith("POLYGON ((76.91")


def test_raw_wkt_of_a_huge_geometry_is_the_prefix_of_its_wkt() -> None:
    angles = np.linspace(0, 2 * np.pi, 20_000, endpoint=False)
    poly = shapely.MultiPolygon([shapely.Polygon(np.c_[np.cos(angles), np.sin(angles)])])

    assert raw_wkt(poly) == shapely.to_wkt(poly, rounding_precision=-1)[:10_000]
    assert raw_wkt(None) is None


def test_lines_are_promoted_and_collections_keep_their_lines() -> None:
    line = shapely.LineString([(76.9, 43.2), (76.91, 43.21)])
    mixed = shapely.GeometryCollection([line, shapely.Point(76.9, 43.2)])
    out = conform(frame([line, mixed, square()], id=[1, 2, 3]), ROADS, origin="roads.geojson")

    assert out.frame.geom_type.tolist() == ["MultiLineString", "MultiLineString"]
    assert out.frame.geometry.iloc[1].equals(shapely.MultiLineString([line]))
    assert "roads.geojson: row 2: dropped 1 part(s) that are not lines" in out.notes
    assert reasons(out) == {
        3: "roads.geojson: row 3: Polygon where layer 'roads' takes MultiLineString"
    }


def test_z_coordinates_are_dropped() -> None:
    poly_z = shapely.Polygon([(76.9, 43.2, 800), (76.91, 43.2, 810), (76.91, 43.21, 805)])
    out = conform(frame([poly_z], id=[1]), BUILDINGS, origin="z.gpkg")

    assert not out.frame.geometry.iloc[0].has_z
    assert "z.gpkg: Z/M coordinates dropped on 1 rows" in out.notes


def test_rejected_properties_are_plain_json() -> None:
    raw = frame(
        [None],
        id=[np.int64(3)],
        when=[pd.Timestamp("2024-05-01T10:00:00")],
        nothing=[np.nan],
        tags=[{"a": np.float64(1.5)}],
    )
    [r] = conform(raw, POIS, origin="odd.gpkg").rejected

    assert r.properties == {
        "id": 3,
        "when": "2024-05-01T10:00:00",
        "nothing": None,
        "tags": {"a": 1.5},
    }
    json.dumps(r.properties)


# --------------------------------------------------------------------------- properties

GOOD = [
    ("s", " Абай ", "Абай"),
    ("s", "", None),
    ("s", 12, "12"),
    ("s", 12.0, "12"),
    ("n", "12", 12),
    ("n", 12.0, 12),
    ("n", "12.0", 12),
    ("n", " 7 ", 7),
    ("n", "", None),
    ("f", "12.5", 12.5),
    ("f", 3, 3.0),
    ("b", "yes", True),
    ("b", "No", False),
    ("b", "TRUE", True),
    ("b", "false", False),
    ("b", "1", True),
    ("b", "0", False),
    ("b", "да", True),
    ("b", "НЕТ", False),
    ("b", True, True),
    ("b", 0, False),
    ("d", "2024-05-01", "2024-05-01"),
    ("d", "01.06.2022", "2022-06-01"),
    ("d", dt.date(2020, 1, 2), "2020-01-02"),
    ("d", dt.datetime(2020, 1, 3, 23, 0), "2020-01-03"),
    ("d", "2024-05-01T23:30:00+05:00", "2024-05-01"),
    ("ts", "2024-05-01T10:00:00+05:00", "2024-05-01T05:00:00Z"),
    ("ts", "2024-05-01T10:00:00", "2024-05-01T10:00:00Z"),
    ("ts", "2024-05-01 10:00Z", "2024-05-01T10:00:00Z"),
    ("ts", "01.06.2022 14:30", "2022-06-01T14:30:00Z"),
    (
        "ts",
        dt.datetime(2020, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=6))),
        "2020-01-01T06:00:00Z",
    ),
    ("j", {"a": [1, 2]}, '{"a": [1, 2]}'),
    ("j", [1, "б"], '[1, "б"]'),
    ("j", '{"x": 1}', '{"x": 1}'),
    ("c", "a", "a"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), GOOD)
def test_property_values_are_coerced(name: str, raw: Any, expected: Any) -> None:
    out = conform(frame([shapely.Point(76.9, 43.2)], **{name: [raw]}), THINGS, origin="t.csv")

    assert out.rejected == []
    value = out.frame[name].iloc[0]
    assert pd.isna(value) if expected is None else value == expected, value


NOT_BOOL = "is not a boolean (expected yes/no, true/false, 1/0, да/нет)"
NOT_DATE = "is not a date (expected YYYY-MM-DD or DD.MM.YYYY)"
NOT_DATETIME = "is not a date-time (expected ISO 8601, e.g. 2024-05-01T10:00:00+05:00)"
BAD = [
    ("n", "12.5", "property 'n' = '12.5' is not an integer"),
    ("n", "abc", "property 'n' = 'abc' is not an integer"),
    ("n", 250, "property 'n' = 250 is above the maximum 200"),
    ("n", -1, "property 'n' = -1 is below the minimum 0"),
    ("f", "12,5", "property 'f' = '12,5' is not a number"),
    ("f", "inf", "property 'f' = 'inf' is not a finite number"),
    ("f", -0.5, "property 'f' = -0.5 is below the minimum 0"),
    ("b", "maybe", f"property 'b' = 'maybe' {NOT_BOOL}"),
    ("b", 2, f"property 'b' = 2 {NOT_BOOL}"),
    ("d", "2024-02-30", f"property 'd' = '2024-02-30' {NOT_DATE}"),
    ("d", "tomorrow", f"property 'd' = 'tomorrow' {NOT_DATE}"),
    ("ts", "nope", f"property 'ts' = 'nope' {NOT_DATETIME}"),
    ("j", "{bad", "property 'j' = '{bad' is not valid JSON"),
    ("c", "z", "property 'c' = 'z' is not one of: a, b"),
]


@pytest.mark.parametrize(("name", "raw", "message"), BAD)
def test_bad_property_values_reject_the_row(name: str, raw: Any, message: str) -> None:
    raw_frame = frame([shapely.Point(76.9, 43.2)] * 2, **{name: [raw, None]})
    out = conform(raw_frame, THINGS, origin="t.csv")

    assert reasons(out) == {1: f"t.csv: row 1: {message}"}
    assert len(out.frame) == 1  # the null row is fine


def test_every_problem_of_a_row_is_in_its_reason() -> None:
    raw = frame([square()], levels=["abc"], use=["shed"])
    out = conform(raw, POIS, origin="x.csv")

    assert reasons(out) == {1: "x.csv: row 1: Polygon where layer 'pois' takes Point"}
    out = conform(frame([square()], levels=["abc"], use=["shed"]), BUILDINGS, origin="x.csv")
    assert reasons(out) == {
        1: "x.csv: row 1: property 'levels' = 'abc' is not an integer; "
        "property 'use' = 'shed' is not one of: residential, public, commercial, industrial, other"
    }


def test_output_property_dtypes() -> None:
    raw = frame(
        [shapely.Point(76.9, 43.2)],
        s=["x"], n=["1"], f=["1.5"], b=["yes"], d=["2024-05-01"], ts=["2024-05-01T00:00:00Z"],
        j=["[]"], c=["a"],
    )  # fmt: skip
    f = conform(raw, THINGS, origin="t").frame

    assert {c: str(f[c].dtype) for c in THINGS.prop_names} == {
        "s": "object",
        "n": "Int64",
        "f": "float64",
        "b": "boolean",
        "d": "object",
        "ts": "object",
        "j": "object",
        "c": "object",
    }


def test_columns_without_any_value_are_null_whatever_their_dtype() -> None:
    nan = float("nan")
    raw = frame(
        [shapely.Point(76.9, 43.2), shapely.Point(76.91, 43.21)],
        s=[nan, nan], n=[None, None], f=[pd.NaT, pd.NaT], b=[nan, nan], d=[None, None],
        ts=[nan, nan], j=[None, None], c=[nan, nan],
    )  # fmt: skip
    out = conform(raw, THINGS, origin="t")

    assert not out.rejected
    assert out.frame[list(THINGS.prop_names)].isna().all().all()
    assert {c: str(out.frame[c].dtype) for c in ("s", "n", "f", "b")} == {
        "s": "object",
        "n": "Int64",
        "f": "float64",
        "b": "boolean",
    }


# --------------------------------------------------------------------------- real data


def test_real_buildings_conform(buildings_geojson: Path) -> None:
    [table] = read_file(buildings_geojson)
    raw = table.frame.rename(columns={"building:levels": "levels"})

    out = conform(raw, BUILDINGS, origin="buildings.geojson", row_errors=table.row_errors)

    f = out.frame
    assert len(f) >= 8000
    assert set(f.geom_type) == {"MultiPolygon"}
    assert shapely.is_valid(f.geometry.to_numpy()).all()
    assert f["source_id"].is_unique
    assert f["levels"].notna().sum() > 0
    assert all(r.reason.startswith("buildings.geojson: row ") for r in out.rejected)


def test_same_input_conforms_the_same_way_twice(buildings_geojson: Path) -> None:
    [table] = read_file(buildings_geojson)
    a = conform(table.frame, BUILDINGS, origin="b")
    b = conform(table.frame, BUILDINGS, origin="b")

    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert pyproj.CRS(a.frame.crs) == pyproj.CRS("EPSG:4326")
