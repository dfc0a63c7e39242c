"""Open data: the Pabulib .pb export read back by pabutools' own parser and counted by
pabutools gives the twin's winners; GeoJSON and CSV carry the projects; nothing before the
vote is over."""

from __future__ import annotations

import csv
import io

import pytest
from pabutools.election import Cost_Sat
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares

from tests.budget.test_service import _voting_cycle
from twin.budget import export, service
from twin.core.errors import BadInput
from twin.store import Store


def test_exports_of_a_counted_cycle(store: Store) -> None:
    cid, (a, b, c, d) = _voting_cycle(store, rule="mes")
    with pytest.raises(BadInput, match="cannot see the counts in the 'voting' phase"):
        export.pabulib(store, cid)
    for voter in range(6):
        service.cast_ballot(store, cid, 1000 + voter, [a, b, c])
    for voter in range(4):
        service.cast_ballot(store, cid, 2000 + voter, [d])
    service.advance(store, cid)

    instance, profile = parse_pabulib_from_string(export.pabulib(store, cid))
    assert instance.budget_limit == 120 and profile.num_ballots() == 10
    assert instance.meta["rule"] == "equalshares" and instance.meta["currency"] == "KZT"
    mes = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
    assert sorted(int(p.name) for p in mes) == sorted([a, d])
    full = greedy_utilitarian_welfare(
        instance, profile, sat_class=Cost_Sat, initial_budget_allocation=mes
    )
    assert sorted(int(p.name) for p in full) == sorted(
        w["id"] for w in service.results(store, cid)["winners"]
    )
    selected = {p.name for p in instance if instance.project_meta[p]["selected"] == "1"}
    assert selected == {str(a), str(b), str(d)}

    fc = export.geojson(store, cid)
    assert {f["id"] for f in fc["features"]} == {a, b, c, d}
    assert fc["features"][0]["geometry"]["type"] == "Point"
    assert {f["properties"]["votes"] for f in fc["features"]} == {6, 4}
    rows = list(csv.DictReader(io.StringIO(export.csv_text(store, cid))))
    assert [int(r["id"]) for r in rows] == [a, b, c, d]
    assert rows[3]["votes"] == "4" and rows[3]["selected"] == "True"
