"""Items query parameters: checked against the layer and the limits, each refusal named."""

from __future__ import annotations

import datetime as dt

import pytest

import layers
from twin.core.errors import BadInput
from twin.features import cql2
from twin.features.params import (
    Interval,
    ItemsQuery,
    SortKey,
    parse_items_query,
)

CITY = (76.74, 43.03, 77.17, 43.40)  # about 0.159 square degrees


def items(layer_id: str, **params: str) -> ItemsQuery:
    return parse_items_query(layers.get(layer_id), list(params.items()), city=lambda: CITY)


def test_defaults() -> None:
    q = items("buildings")
    assert (q.limit, q.offset, q.format, q.bbox, q.filter) == (100, 0, "json", None, None)
    assert q.properties == layers.get("buildings").prop_names


def test_downloads_return_everything_unless_limited() -> None:
    assert items("buildings", f="gpkg").limit is None
    assert items("buildings", f="csv", limit="5").limit == 5


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"limit": "10001"}, "limit 10,001 is above the maximum of 10,000"),
        ({"limit": "0"}, "limit must be at least 1"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"offset": "-1"}, "offset must be at least 0"),
        ({"bbox": "1,2,3"}, "bbox must be 4 numbers"),
        ({"bbox": "a,b,c,d"}, "bbox must be 4 numbers"),
        ({"bbox": "nan,1,2,3"}, "bbox must be 4 numbers"),
        ({"bbox": "76.9,43.2,200,43.3"}, "outside CRS84"),
        ({"bbox": "77,43.2,76.9,43.3"}, "minx is greater than maxx"),
        ({"bbox": "76.9,43.3,77,43.2"}, "miny is greater than maxy"),
        ({"bbox": "70,40,80,50"}, "more than the limit of 4 times the city's extent"),
        ({"datetime": "2024-01-01"}, "has no time properties"),
        ({"properties": "name,secret"}, "unknown property 'secret'"),
        ({"sortby": "-secret"}, "unknown property 'secret'"),
        ({"sortby": "name; DROP TABLE buildings"}, "unknown property 'name; DROP TABLE buildings'"),
        ({"f": "html"}, "f='html' is not supported"),
        ({"filter-lang": "sql"}, "filter-lang 'sql' is not supported"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "crs "),
        ({"bbox-crs": "EPSG:3857"}, "bbox-crs 'EPSG:3857' is not supported"),
        ({"levels": "many"}, "'levels' is an integer property"),
        ({"select": "*"}, "unknown query parameter 'select'"),
        ({"filter": "levels = 1; DELETE FROM buildings"}, "unexpected character ';'"),
    ],
)
def test_refusals(params: dict[str, str], problem: str) -> None:
    with pytest.raises(BadInput) as err:
        items("buildings", **params)
    assert problem in err.value.detail


def test_repeated_parameter_is_refused() -> None:
    with pytest.raises(BadInput, match="'limit' is given more than once"):
        parse_items_query(
            layers.get("buildings"), [("limit", "1"), ("limit", "2")], city=lambda: CITY
        )


def test_bbox_within_the_limit() -> None:
    assert items("buildings", bbox="76.9,43.2,77.0,43.3").bbox == (76.9, 43.2, 77.0, 43.3)
    # Six numbers: the heights are dropped.
    assert items("buildings", bbox="76.9,43.2,0,77.0,43.3,10").bbox == (76.9, 43.2, 77.0, 43.3)


def test_datetime_instants_and_intervals() -> None:
    day = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    assert items("works", datetime="2024-05-01").interval == Interval(day, day)
    assert items("works", datetime="2024-05-01/..").interval == Interval(day, None)
    assert items("works", datetime="../2024-05-01T00:00:00Z").interval == Interval(None, day)
    noon = dt.datetime(2024, 5, 1, 6, tzinfo=dt.UTC)
    assert items("works", datetime="2024-05-01T12:00:00+06:00").interval == Interval(noon, noon)
    for bad, problem in [
        ("2024-05-01/2024-04-01", "starts after it ends"),
        ("../..", "open at both ends"),
        ("yesterday", "is not a timestamp"),
        ("2024-02-30", "is not a date"),
    ]:
        with pytest.raises(BadInput, match=problem):
            items("works", datetime=bad)


def test_properties_keep_catalog_order_and_sortby_terms() -> None:
    q = items("buildings", properties="levels, name,synthetic", sortby="-levels, name,+height")
    assert q.properties == ("name", "levels")
    assert q.sortby == (SortKey("levels", True), SortKey("name"), SortKey("height"))
    # An unencoded '+' arrives as a space.
    assert items("buildings", sortby=" levels").sortby == (SortKey("levels"),)


def test_property_parameters_become_typed_equality_filters() -> None:
    q = items("schools", kind="school", capacity="500", filter="ramp = TRUE")
    assert q.filter == cql2.And(
        (
            cql2.Comparison("=", cql2.Property("ramp"), cql2.Literal(True)),
            cql2.Comparison("=", cql2.Property("kind"), cql2.Literal("school")),
            cql2.Comparison("=", cql2.Property("capacity"), cql2.Literal(500)),
        )
    )
