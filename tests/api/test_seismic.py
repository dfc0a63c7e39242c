"""``/api/seismic`` over the bundled data (both stores). Known answers: the GEM district totals
published beside the exposure (district_information/district_totals.csv: Almaly 2,813 buildings
and 121,705 occupants; Medeu north + south 11,461 and 290,875) and the scenario totals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from layers.common import DISTRICT_NAMES
from tests.support.app import app_client

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
