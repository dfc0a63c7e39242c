"""``/api/seismic`` over the bundled data (both stores). Known answers: the GEM district totals
published beside the exposure (district_information/district_totals.csv: Almaly 2,813 buildings
and 121,705 occupants; Medeu north + south 11,461 and 290,875), the scenario totals, and the
study's per-district results (results/districts_with_openquake_results: city splay, Almaly
SUM_SPCOMP 671.695 collapsed buildings and SUM_SPOCCU 291.569 fatalities; Medeu north + south
1,121.04 + 1,828.28), which sum to the published city totals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from etl import seismic
from layers.common import DISTRICT_NAMES
from tests.support.app import app_client
from twin.core.errors import SourceError

PLANNER = {"Authorization": "Bearer seis-planner"}


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url, "planner:seis-planner,resident:seis-resident") as c:
        yield c


def test_the_scenarios_and_their_city_totals_are_public_and_cited(client: TestClient) -> None:
    body = client.get("/api/seismic/scenarios").json()
    by_id = {s["id"]: s for s in body["scenarios"]}
    assert len(by_id) == 7
    assert by_id["city_splay"]["city_totals"]["fatalities"] == {"mean": 3147.0, "sd": 3100.0}
    assert "Amey" in body["citation"]


def test_the_planner_view_per_district(client: TestClient) -> None:
    assert client.get("/api/seismic/scenarios/city_splay").status_code == 401
    resident = {"Authorization": "Bearer seis-resident"}
    assert client.get("/api/seismic/scenarios/city_splay", headers=resident).status_code == 403
    r = client.get("/api/seismic/scenarios/city_splay", headers=PLANNER)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {d["district"]: d for d in body["districts"]}
    assert set(rows) == set(DISTRICT_NAMES)
    assert (rows["Almaly"]["buildings"], rows["Almaly"]["occupants_night"]) == (2813, 121705)
    assert (rows["Medeu"]["buildings"], rows["Medeu"]["occupants_night"]) == (11461, 290875)
    assert sum(d["buildings"] for d in rows.values()) == 50544
    for d in rows.values():
        assert 0 <= d["buildings_on_soft_ground"] <= d["buildings"]
        assert len(d["schools_on_soft_ground_names"]) <= d["schools_on_soft_ground"]
    assert sum(d["buildings_on_soft_ground"] for d in rows.values()) > 0
    assert "Amey" in body["citation"] and "licence" in body["sources"]["seismic_sites"]
    missing = client.get("/api/seismic/scenarios/atlantis", headers=PLANNER)
    assert missing.status_code == 404 and "atlantis" in missing.json()["detail"]


@pytest.mark.parametrize("scenario", sorted(seismic.SCENARIO_PREFIXES))
def test_the_losses_per_district_add_up_to_the_city_totals(
    client: TestClient, scenario: str
) -> None:
    body = client.get(f"/api/seismic/scenarios/{scenario}", headers=PLANNER).json()
    rows = {d["district"]: d for d in body["districts"]}
    assert all(d["losses"] is not None for d in rows.values())
    for measure in seismic.MEASURES:
        total = sum(d["losses"][measure] for d in rows.values())
        city = body["city_totals"][measure]["mean"]
        # the file's totals are rounded (to the unit, and the loss to 1/3 USD)
        assert total == pytest.approx(city, rel=1e-4, abs=1.0), measure


def test_known_district_losses_of_the_city_splay(client: TestClient) -> None:
    body = client.get("/api/seismic/scenarios/city_splay", headers=PLANNER).json()
    rows = {d["district"]: d["losses"] for d in body["districts"]}
    assert rows["Almaly"]["collapsed_buildings"] == pytest.approx(671.7, abs=0.05)
    assert rows["Almaly"]["fatalities"] == pytest.approx(291.6, abs=0.05)
    # Medeu comes in two files (north and south), summed
    assert rows["Medeu"]["collapsed_buildings"] == pytest.approx(1121.04 + 1828.28, abs=0.1)
    # in this scenario Medeu (2,949) and Bostandyk (1,997) lose the most buildings
    worst = sorted(rows, key=lambda d: rows[d]["collapsed_buildings"], reverse=True)[:2]
    assert set(worst) == {"Medeu", "Bostandyk"}
    assert "Amey" in body["sources"]["scenario_results"]["source"]


def test_a_results_file_without_a_measure_is_refused(tmp_path: Path) -> None:
    from twin.core.settings import DATA_DIR

    src = DATA_DIR / "almaty/seismic/districts/almaly_district_openquakeresults.csv"
    header, row = src.read_text(encoding="utf-8").splitlines()[:2]
    (tmp_path / "x_district_openquakeresults.csv").write_text(
        header.replace("SUM_SPOCCU", "SUM_SPXXXX") + "\n" + row + "\n", encoding="utf-8"
    )
    with pytest.raises(SourceError, match="fatalities of city_splay"):
        seismic.read_district_results(tmp_path)
    (tmp_path / "x_district_openquakeresults.csv").write_text(
        header + "\n" + row.replace(",114.32", ",-114.32") + "\n", encoding="utf-8"
    )
    with pytest.raises(SourceError, match="is not a count"):
        seismic.read_district_results(tmp_path)
