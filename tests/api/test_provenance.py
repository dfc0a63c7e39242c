"""Every layer says how old and how complete its data are (issue 15, items 11 and 12: sparse
2012 counts were shown as facts). The facts are declared once in layers/provenance.py and
served in ``/catalog`` with the generated share measured in the store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import layers
from layers.model import Completeness
from tests.support.app import app_client

PLANNER = "planner:prov-planner"


@pytest.fixture(scope="module")
def catalog(almaty_url: str) -> Iterator[dict[str, dict]]:
    with app_client(almaty_url, PLANNER) as c:
        body = c.get("/catalog", headers={"Authorization": "Bearer prov-planner"}).json()
    yield {entry["id"]: entry for entry in body["layers"]}


def test_every_layer_declares_its_provenance() -> None:
    missing = [layer.id for layer in layers.LAYERS if layer.provenance is None]
    assert missing == []
    for layer in layers.LAYERS:
        p = layer.provenance
        assert p is not None
        assert p.as_of == "" or p.as_of[:4].isdigit(), layer.id
        # a layer whose features the store marks as generated says so
        assert p.generated == (p.completeness in {"generated", "partly_generated"})


def test_catalog_serves_age_completeness_and_the_measured_generated_share(
    catalog: dict[str, dict],
) -> None:
    buildings = catalog["buildings"]["provenance"]
    assert buildings["short"] == "OSM"
    assert buildings["as_of"] == "2012-03"
    assert buildings["completeness"] == Completeness.SPARSE
    assert buildings["estimate"] == 50_544
    assert buildings["generated_count"] == 0
    # the 2012 extract has about one building in six of the GEM model's residential ones
    assert 0.1 < catalog["buildings"]["count"] / buildings["estimate"] < 0.2

    schools = catalog["schools"]["provenance"]
    assert schools["completeness"] == Completeness.PARTLY_GENERATED
    assert schools["generated"] is True
    real = catalog["schools"]["count"] - schools["generated_count"]
    assert 0 < real < schools["generated_count"]  # 75 real of 1,155 in the bundled set

    assert catalog["cameras"]["provenance"]["generated_count"] == catalog["cameras"]["count"]
    assert catalog["districts"]["provenance"]["as_of"] == "2024-11"
    assert catalog["districts"]["provenance"]["completeness"] == Completeness.COMPLETE


def test_indicators_name_the_layers_they_are_counted_from(catalog: dict[str, dict]) -> None:
    props = {p["name"]: p for p in catalog["district_indicators"]["properties"]}
    assert props["buildings"]["based_on"] == ["buildings"]
    assert props["green_m2_per_capita"]["based_on"] == ["parks"]
    assert props["population"]["provenance"]["short"] == "gov.kz"
    for name, p in props.items():
        if name not in {"district", "period"}:
            assert p["based_on"], name
            assert all(layer in catalog for layer in p["based_on"]), name
