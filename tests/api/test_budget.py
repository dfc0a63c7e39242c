"""The participatory budget over HTTP with real residents (signed up and verified through
/api/accounts, bearer tokens and a browser session with its CSRF token) and a staff key: a
cycle from applications to results, the 4xx of bad input, secrecy of ballots and the .pb
export read back by pabutools."""

from __future__ import annotations

import pytest
from pabutools.election.pabulib import parse_pabulib_from_string

from tests.support.accounts import sign_up_resident
from tests.support.app import app_client

STAFF = {"Authorization": "Bearer pk-budget"}
POINT = {"type": "Point", "coordinates": [76.95, 43.24]}


def _project(title: str, cost: int) -> dict[str, object]:
    return {
        "title": title,
        "description": "for the yard",
        "category": "playgrounds",
        "cost_kzt": cost,
        "location": POINT,
    }


def test_a_cycle_from_applications_to_results(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with app_client(store_url, api_keys="planner:pk-budget") as client:
        alice = sign_up_resident(client, caplog)
        bob = sign_up_resident(client, caplog)
        cycle = {"year": 2026, "district": "Алмалинский", "budget_kzt": 120, "rule": "mes"}
        assert client.post("/api/budget/cycles", json=cycle).status_code == 401
        r = client.post("/api/budget/cycles", json=cycle, headers=alice.headers)
        assert r.status_code == 403
        r = client.post("/api/budget/cycles", json=cycle, headers=STAFF)
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert client.post("/api/budget/cycles", json=cycle, headers=STAFF).status_code == 409
        url = f"/api/budget/cycles/{cid}"

        # applications: signed-in residents only, bad costs and places refused
        assert client.post(f"{url}/projects", json=_project("x", 10)).status_code == 401
        for bad in (0, -1, 121, "40", 4.5):
            r = client.post(f"{url}/projects", json=_project("x", bad), headers=alice.headers)  # type: ignore[arg-type]
            assert r.status_code == 400 and "cost_kzt" in r.json()["detail"], r.text
        far = _project("x", 10) | {"location": {"type": "Point", "coordinates": [0, 0]}}
        r = client.post(f"{url}/projects", json=far, headers=alice.headers)
        assert r.status_code == 400 and "Almaty" in r.json()["detail"]
        # an area: over 1 km² (0.02° x 0.01° here: ~1.8 km²) is refused, naming the limit
        big = [[76.94, 43.23], [76.96, 43.23], [76.96, 43.24], [76.94, 43.24], [76.94, 43.23]]
        r = client.post(
            f"{url}/projects",
            json=_project("x", 10) | {"location": {"type": "Polygon", "coordinates": [big]}},
            headers=alice.headers,
        )
        assert r.status_code == 400, r.text
        assert "location area of" in r.json()["detail"] and "1,000,000 m²" in r.json()["detail"]
        ids = []
        for i in range(4):
            r = client.post(f"{url}/projects", json=_project(f"p{i}", 40), headers=alice.headers)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        a, b, c, d = ids

        # review and phases: staff only
        ok = {"feasible": True, "reason": "feasible"}
        assert (
            client.post(
                f"/api/budget/projects/{a}/review", json=ok, headers=bob.headers
            ).status_code
            == 403
        )
        for pid in ids:
            assert (
                client.post(
                    f"/api/budget/projects/{pid}/review", json=ok, headers=STAFF
                ).status_code
                == 200
            )
        assert client.post(f"{url}/advance", headers=bob.headers).status_code == 403
        assert (
            client.post(f"{url}/ballot", json={"projects": [a]}, headers=bob.headers).status_code
            == 400
        )
        assert client.post(f"{url}/advance", headers=STAFF).json()["phase"] == "review"
        assert client.post(f"{url}/advance", headers=STAFF).json()["phase"] == "voting"

        # ballots: knapsack, one per resident, changeable, secret
        r = client.post(f"{url}/ballot", json={"projects": ids}, headers=alice.headers)
        assert r.status_code == 400 and "more than the district's budget" in r.json()["detail"]
        r = client.post(f"{url}/ballot", json={"projects": [a, b, c]}, headers=alice.headers)
        assert r.status_code == 201 and r.json()["left_kzt"] == 0, r.text
        r = client.post(f"{url}/ballot", json={"projects": [a]}, headers=alice.headers)
        assert r.status_code == 409
        r = client.put(f"{url}/ballot", json={"projects": [a, b]}, headers=alice.headers)
        assert r.status_code == 200 and r.json()["left_kzt"] == 40
        r = client.put(f"{url}/ballot", json={"projects": [a, b, c]}, headers=alice.headers)
        assert r.json()["projects"] == [a, b, c]
        r = client.get(f"{url}/ballot", headers=bob.headers)
        assert r.status_code == 200 and r.json() is None
        assert client.get(f"{url}/ballot").status_code == 401
        assert client.patch(url, json={"rule": "greedy"}, headers=STAFF).status_code == 409
        assert client.get(f"{url}/results").status_code == 400
        assert "votes" not in client.get(f"{url}/projects").json()[0]
        # five more residents for {a, b, c}, four for {d}; one through a browser session
        for _ in range(5):
            voter = sign_up_resident(client, caplog)
            assert (
                client.post(
                    f"{url}/ballot", json={"projects": [a, b, c]}, headers=voter.headers
                ).status_code
                == 201
            )
        for _ in range(3):
            voter = sign_up_resident(client, caplog)
            assert (
                client.post(
                    f"{url}/ballot", json={"projects": [d]}, headers=voter.headers
                ).status_code
                == 201
            )
        browser = sign_up_resident(client, caplog, kind="session")
        assert client.post(f"{url}/ballot", json={"projects": [d]}).status_code == 403  # no CSRF
        r = client.post(f"{url}/ballot", json={"projects": [d]}, headers=browser.headers)
        assert r.status_code == 201, r.text
        client.cookies.clear()
        assert [t["ballots"] for t in client.get("/api/budget/turnout", headers=STAFF).json()] == [
            10
        ]

        # results after the vote: Equal Shares gives the minority #d (hand-worked in
        # tests/budget/test_counting.py)
        assert client.post(f"{url}/advance", headers=STAFF).json()["phase"] == "results"
        assert (
            client.put(f"{url}/ballot", json={"projects": [d]}, headers=alice.headers).status_code
            == 400
        )
        res = client.get(f"{url}/results").json()
        assert [w["id"] for w in res["winners"]] == [a, d, b]
        assert (res["ballots"], res["left_kzt"]) == (10, 0)
        assert res["losers"][0]["id"] == c and "equal shares" in res["losers"][0]["why"]
        # the reason as data too (the map words it in ru/kk/en): 32 ₸ left of 12 ₸ shares
        assert res["losers"][0]["why_facts"] == {
            "kind": "shares",
            "had_kzt": 32,
            "share_kzt": 12,
            "paid_for": [a],
        }
        instance, profile = parse_pabulib_from_string(client.get(f"{url}/export.pb").text)
        assert profile.num_ballots() == 10 and instance.budget_limit == 120
        assert client.get(f"{url}/export.csv").text.startswith("id,title")
        assert len(client.get(f"{url}/export.geojson").json()["features"]) == 4


def test_hostile_requests_are_4xx(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(store_url, api_keys="planner:pk-budget") as client:
        alice = sign_up_resident(client, caplog)
        assert client.get("/api/budget/cycles/99999999999999").status_code == 400
        assert client.get("/api/budget/cycles/5").status_code == 404
        r = client.post(
            "/api/budget/cycles/1/ballot", json={"projects": [2**40]}, headers=alice.headers
        )
        assert r.status_code == 400
        r = client.post(
            "/api/budget/cycles",
            json={"year": 2026, "district": "X", "budget_kzt": 10**13},
            headers=STAFF,
        )
        assert r.status_code == 400 and "budget_kzt" in r.json()["detail"]
        r = client.post(
            "/api/budget/cycles",
            json={"year": 2026, "district": "X", "budget_kzt": 10, "rule": "borda"},
            headers=STAFF,
        )
        assert r.status_code == 400 and "rule" in r.json()["detail"]
        r = client.post(
            "/api/budget/cycles",
            json={
                "year": 2026,
                "district": "X",
                "budget_kzt": 10,
                "schedule": {"vote": "2026-05-01"},
            },
            headers=STAFF,
        )
        assert r.status_code == 400 and "vote" in r.json()["detail"]
        assert client.get("/api/budget/cycles").json() == []
