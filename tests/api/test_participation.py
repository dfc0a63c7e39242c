"""Residents take part through the HTTP API, on both stores: ratings and reviews, likes,
initiatives with supports and statuses, reports, hide-after-3 and the moderator's decision,
limits, and the live announcements. Residents are real accounts (sign-up, code from the log)."""

from __future__ import annotations

import asyncio
import math
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import layers
from tests.support.accounts import PASSWORD, sign_up_resident
from tests.support.app import app_client
from twin import live
from twin.core.access import hash_key
from twin.participation import Ratings, WriteLimits
from twin.store import open_store, triggers

KEYS = "planner:plan-1,moderator:mod-1"
PLANNER = {"Authorization": "Bearer plan-1"}
MODERATOR = {"Authorization": "Bearer mod-1"}


def square(x: float, y: float, d: float = 0.001) -> dict[str, Any]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def add_work(
    client: TestClient, title: str, x: float = 76.95, y: float = 43.25, contractor: str = "ТОО А"
) -> int:
    body = {
        "type": "Feature",
        "geometry": square(x, y),
        "properties": {
            "title": title,
            "status": "done",
            "contractor": contractor,
            "district": "Almaly",
        },
    }
    r = client.post("/collections/works/items", json=body, headers=PLANNER)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_ratings_reviews_and_likes(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(store_url, api_keys=KEYS) as client:
        work, other = add_work(client, "Сквер"), add_work(client, "Двор", 76.96, contractor="ТОО Б")
        url = f"/api/participation/works/{work}"
        residents = [sign_up_resident(client, caplog, display_name=f"R{i}") for i in range(3)]
        a, b, c = residents

        # who may write, and what
        assert client.post(f"{url}/rating", json={"stars": 5}).status_code == 401
        assert client.post(f"{url}/rating", json={"stars": 5}, headers=PLANNER).status_code == 401
        for bad in [0, 6, "5", 4.5, None]:
            r = client.post(f"{url}/rating", json={"stars": bad}, headers=a.headers)
            assert r.status_code == 400, (bad, r.text)
        r = client.post(f"{url}/rating", json={"stars": 3, "review": "x" * 2001}, headers=a.headers)
        assert r.status_code == 400 and "review: at most 2000" in r.json()["detail"]
        for missing in [
            "/api/participation/works/999999",
            "/api/participation/roads/1",
            "/api/participation/cameras/1",
            "/api/participation/nope/1",
        ]:
            r = client.post(f"{missing}/rating", json={"stars": 3}, headers=a.headers)
            assert r.status_code == 404, (missing, r.text)

        script = "<script>alert('x')</script> плохо"
        r = client.post(f"{url}/rating", json={"stars": 5, "review": "Отлично"}, headers=a.headers)
        assert r.status_code == 201 and r.json()["created"] is True
        r = client.post(f"{url}/rating", json={"stars": 1}, headers=a.headers)
        assert r.status_code == 409 and "PUT" in r.json()["detail"]
        assert client.put(f"{url}/rating", json={"stars": 4}, headers=b.headers).status_code == 201
        r = client.put(f"{url}/rating", json={"stars": 2, "review": script}, headers=c.headers)
        assert r.status_code == 201
        agg = r.json()["aggregate"]
        assert agg["count"] == 3 and agg["mean"] == 3.67
        assert agg["distribution"] == [0, 1, 0, 1, 1]
        # a change is an update of the same row
        r = client.put(f"{url}/rating", json={"stars": 1, "review": script}, headers=c.headers)
        assert r.status_code == 200 and r.json()["aggregate"]["distribution"] == [1, 0, 0, 1, 1]

        for who, reaction in [
            (a, "like"),
            (b, "like"),
            (c, "dislike"),
            (c, "like"),
            (c, "dislike"),
        ]:
            r = client.put(f"{url}/reaction", json={"reaction": reaction}, headers=who.headers)
            assert r.status_code == 200
        assert r.json()["aggregate"]["likes"] == 2 and r.json()["aggregate"]["dislikes"] == 1
        r = client.put(f"{url}/reaction", json={"reaction": "love"}, headers=a.headers)
        assert r.status_code == 400
        r = client.delete(f"{url}/reaction", headers=b.headers)
        assert r.json()["aggregate"]["likes"] == 1
        assert client.delete(f"{url}/reaction", headers=b.headers).status_code == 404

        card = client.get(url, headers=c.headers).json()
        assert card["aggregate"] == {
            "count": 3,
            "mean": 3.33,
            "distribution": [1, 0, 0, 1, 1],
            "likes": 1,
            "dislikes": 1,
        }
        assert card["mine"]["rating"]["stars"] == 1 and card["mine"]["reaction"] == "dislike"
        # text is kept as text, markup and all (the map renders it escaped)
        reviews = {r["review"]: r["author"] for r in card["reviews"]}
        assert reviews == {script: "R2", "Отлично": "R0"}
        assert "mine" not in client.get(url).json()
        layer = client.get("/api/participation/works").json()["aggregates"]
        assert set(layer) == {str(work)} and layer[str(work)]["count"] == 3
        assert client.get(f"/api/participation/works/{other}").json()["aggregate"]["count"] == 0
        assert client.get("/catalog").json()["layers"][0].get("ratable") is not None

        # the aggregates are in the features' properties, and rank the district's works
        client.put(f"/api/participation/works/{other}/rating", json={"stars": 5}, headers=a.headers)
        items = client.get("/collections/works/items").json()["features"]
        props = {f["id"]: f["properties"] for f in items}
        assert props[work]["rating_mean"] == 3.33 and props[work]["rating_count"] == 3
        assert props[work]["likes"] == 1 and props[work]["dislikes"] == 1
        assert props[other]["rating_mean"] == 5.0 and props[other]["likes"] == 0
        one = client.get(f"/collections/works/items/{work}").json()["properties"]
        assert one["rating_count"] == 3
        csv = client.get("/collections/works/items", params={"f": "csv"}).text
        assert "rating_mean" in csv.splitlines()[0]
        ranking = client.app.state.ratings.district_ranking(  # type: ignore[attr-defined]
            layers.get("works"), "Almaly", n=1
        )
        assert [w["fid"] for w in ranking["best"]] == [other]
        assert [w["fid"] for w in ranking["worst"]] == [work]
        assert ranking["worst"][0]["title"] == "Сквер"
        assert ranking["by_contractor"] == [
            {"contractor": "ТОО Б", "mean": 5.0, "count": 1},
            {"contractor": "ТОО А", "mean": 3.33, "count": 3},
        ]
        client.delete(f"/api/participation/works/{other}/rating", headers=a.headers)

        # withdrawing, and deleting an account keeps its rating in the aggregate, anonymously
        r = client.delete(f"{url}/rating", headers=b.headers)
        assert r.status_code == 200 and r.json()["aggregate"]["count"] == 2
        assert client.delete(f"{url}/rating", headers=b.headers).status_code == 404
        r = client.request(
            "DELETE", "/api/accounts/me", headers=a.headers, json={"password": PASSWORD}
        )
        assert r.status_code == 204
        card = client.get(url).json()
        assert card["aggregate"]["count"] == 2
        assert {r["review"]: r["author"] for r in card["reviews"]} == {
            script: "R2",
            "Отлично": None,
        }


def test_fifty_parallel_likes_leave_one(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Парк")
        alice = sign_up_resident(client, caplog)
        url = f"/api/participation/works/{work}"

        def like(i: int) -> int:
            reaction = "like" if i % 5 else "dislike"
            return client.put(
                f"{url}/reaction", json={"reaction": reaction}, headers=alice.headers
            ).status_code

        def rate(i: int) -> int:
            return client.put(
                f"{url}/rating", json={"stars": 1 + i % 5}, headers=alice.headers
            ).status_code

        with ThreadPoolExecutor(16) as pool:
            likes = list(pool.map(like, range(50)))
            rates = list(pool.map(rate, range(50)))
        assert set(likes) == {200}
        assert sorted(set(rates)) in ([200, 201], [201]) and rates.count(201) == 1
        agg = client.get(url).json()["aggregate"]
        assert agg["likes"] + agg["dislikes"] == 1 and agg["count"] == 1
    store = open_store(store_url)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM reactions")).scalar_one() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM ratings")).scalar_one() == 1
    finally:
        store.close()


def test_initiatives_reports_and_moderation(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with app_client(store_url, api_keys=KEYS) as client:
        a, b, c, d = (sign_up_resident(client, caplog) for _ in range(4))
        point = {"type": "Point", "coordinates": [76.9456, 43.2389]}
        body = {
            "category": "lighting",
            "title": "<b>Фонари</b>",
            "text": "Темно во дворе",
            "geometry": point,
        }
        assert client.post("/api/initiatives", json=body).status_code == 401
        for bad, problem in [
            ({**body, "category": "ufo"}, "category"),
            ({**body, "title": "  "}, "title: empty"),
            ({**body, "geometry": {"type": "Point", "coordinates": [10, 10]}}, "outside Almaty"),
            (
                {
                    **body,
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[76.9, 43.2], [76.91, 43.21]],
                    },
                },
                "Point or Polygon",
            ),
            (
                {
                    **body,
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [76.9, 43.2],
                                [76.91, 43.21],
                                [76.91, 43.2],
                                [76.9, 43.21],
                                [76.9, 43.2],
                            ]
                        ],
                    },
                },
                "invalid",
            ),
        ]:
            r = client.post("/api/initiatives", json=bad, headers=a.headers)
            assert r.status_code == 400 and problem in r.json()["detail"], r.text
        r = client.post("/api/initiatives", json=body, headers=a.headers)
        assert r.status_code == 201 and r.json()["similar"] == []
        first = r.json()["initiative"]["id"]
        assert r.json()["initiative"]["properties"]["title"] == "<b>Фонари</b>"
        # 30 m away, same category: a likely duplicate; another category is not
        near = {**body, "geometry": {"type": "Point", "coordinates": [76.9456, 43.2392]}}
        r = client.post("/api/initiatives", json=near, headers=b.headers)
        assert r.json()["similar"] == [first]
        r = client.post(
            "/api/initiatives",
            json={**near, "category": "greenery", "geometry": square(76.9456, 43.2389)},
            headers=b.headers,
        )
        assert r.status_code == 201 and r.json()["similar"] == []
        area = r.json()["initiative"]["id"]

        # supports: once each, never one's own
        assert (
            client.post(f"/api/initiatives/{first}/support", headers=a.headers).status_code == 409
        )
        assert (
            client.post(f"/api/initiatives/{first}/support", headers=b.headers).json()["supports"]
            == 1
        )
        assert (
            client.post(f"/api/initiatives/{first}/support", headers=b.headers).status_code == 409
        )
        assert (
            client.post(f"/api/initiatives/{first}/support", headers=c.headers).json()["supports"]
            == 2
        )
        assert (
            client.delete(f"/api/initiatives/{first}/support", headers=c.headers).json()["supports"]
            == 1
        )
        assert client.post("/api/initiatives/99999/support", headers=c.headers).status_code == 404

        # statuses: staff only, a rejection needs a reason, history kept
        st = f"/api/initiatives/{first}/status"
        assert client.post(st, json={"status": "accepted"}, headers=a.headers).status_code == 403
        assert client.post(st, json={"status": "under_review"}, headers=PLANNER).status_code == 200
        r = client.post(st, json={"status": "rejected"}, headers=PLANNER)
        assert r.status_code == 400 and "reason" in r.json()["detail"]
        assert client.post(st, json={"status": "done"}, headers=PLANNER).status_code == 409
        r = client.post(st, json={"status": "rejected", "reason": "Уже в плане"}, headers=PLANNER)
        props = r.json()["properties"]
        assert props["status"] == "rejected" and props["status_reason"] == "Уже в плане"
        assert [h["status"] for h in props["history"]] == ["proposed", "under_review", "rejected"]

        listed = client.get("/api/initiatives", params={"bbox": "76.94,43.23,76.95,43.24"}).json()
        assert {f["id"] for f in listed["features"]} == {first, area, first + 1}
        assert [
            f["id"]
            for f in client.get("/api/initiatives", params={"category": "greenery"}).json()[
                "features"
            ]
        ] == [area]
        assert client.get("/api/initiatives", params={"bbox": "1,2,3"}).status_code == 400

        # reports: hidden at the third until a moderator decides
        rep = {"kind": "initiative", "id": area, "reason": "spam"}
        assert client.post("/api/reports", json=rep, headers=b.headers).status_code == 409  # own
        assert (
            client.post(
                "/api/reports", json={**rep, "reason": "boring"}, headers=a.headers
            ).status_code
            == 400
        )
        assert client.post("/api/reports", json=rep, headers=a.headers).json()["hidden"] is False
        assert client.post("/api/reports", json=rep, headers=a.headers).status_code == 409
        assert client.post("/api/reports", json=rep, headers=c.headers).json()["hidden"] is False
        assert client.get(f"/api/initiatives/{area}").status_code == 200
        assert client.post("/api/reports", json=rep, headers=d.headers).json()["hidden"] is True
        assert client.get(f"/api/initiatives/{area}").status_code == 404
        assert area not in {f["id"] for f in client.get("/api/initiatives").json()["features"]}
        assert client.get(f"/api/initiatives/{area}", headers=MODERATOR).status_code == 200

        assert client.get("/api/moderation/queue").status_code == 401
        assert client.get("/api/moderation/queue", headers=a.headers).status_code == 403
        queue = client.get("/api/moderation/queue", headers=MODERATOR).json()["items"]
        assert [(q["kind"], q["id"], q["reports"], q["hidden"]) for q in queue] == [
            ("initiative", area, 3, True)
        ]
        dec = f"/api/moderation/initiative/{area}"
        assert (
            client.post(
                dec, json={"decision": "restore", "reason": "ok"}, headers=PLANNER
            ).status_code
            == 403
        )
        assert (
            client.post(
                dec, json={"decision": "restore", "reason": " "}, headers=MODERATOR
            ).status_code
            == 400
        )
        r = client.post(dec, json={"decision": "restore", "reason": "не спам"}, headers=MODERATOR)
        assert r.status_code == 200
        assert client.get(f"/api/initiatives/{area}").status_code == 200
        assert client.get("/api/moderation/queue", headers=MODERATOR).json()["items"] == []
        log = client.get("/api/moderation/log", headers=MODERATOR).json()["entries"]
        assert [(e["action"], e["by"], e["reason"]) for e in log] == [
            ("restore", f"moderator:env-{hash_key('mod-1')[:8]}", "не спам"),
            ("auto_hide", "system", "3 reports"),
        ]
        # the audit log has no route that changes it
        assert client.delete("/api/moderation/log", headers=MODERATOR).status_code == 405

        # a review can be reported and hidden too; its stars still count
        work = add_work(client, "Сквер")
        r = client.put(
            f"/api/participation/works/{work}/rating",
            json={"stars": 2, "review": "spam spam"},
            headers=a.headers,
        )
        rating_id = client.get(f"/api/participation/works/{work}", headers=a.headers).json()[
            "mine"
        ]["rating"]["id"]
        for who in (b, c, d):
            client.post(
                "/api/reports",
                json={"kind": "rating", "id": rating_id, "reason": "spam"},
                headers=who.headers,
            )
        card = client.get(f"/api/participation/works/{work}").json()
        assert card["reviews"] == [] and card["aggregate"]["count"] == 1


def test_limits_shared_across_processes(
    store_url: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert WriteLimits(scale=100).items["rate"][0].amount == 6000  # TWIN_PARTICIPATION_LIMIT_SCALE
    tight = {"rate": ("3/minute", "100/minute"), "react": ("100/minute", "4/minute")}
    prefix = f"twin:test:{store_url[-12:]}"
    with app_client(store_url, api_keys=KEYS) as one, app_client(store_url, api_keys=KEYS) as two:
        for client in (one, two):
            client.app.state.write_limits = WriteLimits(redis_url, tight, key_prefix=prefix)  # type: ignore[attr-defined]
        one.app.state.write_limits.reset()  # type: ignore[attr-defined]
        work = add_work(one, "Сквер")
        alice = sign_up_resident(one, caplog)
        url = f"/api/participation/works/{work}"
        codes = [
            (one if i % 2 else two).put(f"{url}/rating", json={"stars": 3}, headers=alice.headers)
            for i in range(4)
        ]
        assert [r.status_code for r in codes[:3]] == [201, 200, 200]
        assert codes[3].status_code == 429
        assert 1 <= int(codes[3].headers["Retry-After"]) <= 60
        assert "rate requests from this account" in codes[3].json()["detail"]
        # per address: a second resident on the same address shares the address's allowance
        bob = sign_up_resident(two, caplog)
        got = [
            c.put(f"{url}/reaction", json={"reaction": "like"}, headers=h).status_code
            for c, h in [(one, alice.headers), (two, bob.headers)] * 3
        ]
        assert got == [200, 200, 200, 200, 429, 429]
        one.app.state.write_limits.reset()  # type: ignore[attr-defined]


def test_new_ratings_are_announced_live(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with app_client(store_url, api_keys=KEYS) as client:
        broker = live.current()
        assert broker is not None
        work = add_work(client, "Сквер")
        alice = sign_up_resident(client, caplog)
        sub = broker.subscribe(["participation"])
        client.put(
            f"/api/participation/works/{work}/rating", json={"stars": 4}, headers=alice.headers
        )
        client.post(
            "/api/initiatives",
            headers=alice.headers,
            json={
                "category": "sport",
                "title": "Турник",
                "text": "Нужен турник",
                "geometry": {"type": "Point", "coordinates": [76.9, 43.25]},
            },
        )

        async def two() -> list[Any]:
            return [await asyncio.wait_for(sub.next(), 5) for _ in range(2)]

        events = client.portal.call(two)  # type: ignore[union-attr]
        sub.close()
        assert [e.topic for e in events] == ["participation.rating", "participation.initiative"]
        assert events[0].data["aggregate"]["mean"] == 4.0 and events[0].data["fid"] == work
        assert events[1].data["initiative"]["properties"]["title"] == "Турник"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _work_in_tile(client: TestClient, path: str, fid: int) -> dict[str, Any]:
    r = client.get(path)
    assert r.status_code == 200, r.text
    decoded = mapbox_vector_tile.decode(r.content)
    return next(f["properties"] for f in decoded["works"]["features"] if f["id"] == fid)


def test_a_rating_changes_the_works_tile(store_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """The works' tiles carry residents' mean rating and count (the style colours works by
    them), and a rating, a change of it and a withdrawal each reach the tile at once: the
    change drops the cached tile."""
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Сквер")
        x, y = _tile_of(76.9505, 43.2505, 15)
        path = f"/tiles/works/15/{x}/{y}.mvt"
        props = _work_in_tile(client, path, work)
        assert props["title"] == "Сквер"
        assert "rating_mean" not in props and "rating_count" not in props
        a, b = (sign_up_resident(client, caplog) for _ in range(2))
        url = f"/api/participation/works/{work}/rating"
        assert client.put(url, json={"stars": 5}, headers=a.headers).status_code == 201
        props = _work_in_tile(client, path, work)
        assert (props["rating_mean"], props["rating_count"]) == (5.0, 1)
        assert client.put(url, json={"stars": 2}, headers=b.headers).status_code == 201
        props = _work_in_tile(client, path, work)
        assert (props["rating_mean"], props["rating_count"]) == (3.5, 2)
        assert client.put(url, json={"stars": 4}, headers=a.headers).status_code == 200
        assert _work_in_tile(client, path, work)["rating_mean"] == 3.0
        # a like is not in the tile: once cached (a tile drawn before the tile service saw
        # the last change is not kept, so it takes a second look), the tile stays cached
        seen = [client.get(path).headers["x-tile-cache"] for _ in range(2)]
        assert seen[-1] in ("hit", "stored"), seen
        like = client.put(
            f"/api/participation/works/{work}/reaction",
            json={"reaction": "like"},
            headers=a.headers,
        )
        assert like.status_code == 200
        assert client.get(path).headers["x-tile-cache"] in ("hit", "stored")
        for who in (a, b):
            assert client.delete(url, headers=who.headers).status_code == 200
        props = _work_in_tile(client, path, work)
        assert "rating_mean" not in props and "rating_count" not in props


def test_the_style_colours_works_by_rating() -> None:
    """The generated style colours rated works and budget projects by their mean rating's
    band (declared in layers/), unrated ones by status as before, and the catalog carries the
    bands for the legend in three languages."""
    with app_client("gpkg:///" + str(Path(tempfile.mkdtemp()) / "s.gpkg")) as client:
        style = client.get("/style.json").json()
        catalog = {c["id"]: c for c in client.get("/catalog").json()["layers"]}
    paint = {sl["id"]: sl["paint"] for sl in style["layers"]}
    for layer_id, key in (("works", "fill-color"), ("budget_cycle_projects", "circle-color")):
        color = paint[layer_id][key]
        assert color[0] == "case"
        assert color[1] == [">", ["coalesce", ["get", "rating_count"], 0], 0]
        assert color[2] == [
            "step", ["get", "rating_mean"], "#c62828", 2.0, "#ef6c00", 3.0, "#fdd835",
            4.0, "#2e7d32",
        ]  # fmt: skip
        assert color[3][0] == "match"  # unrated: by status or stage
        bands = catalog[layer_id]["style"]["rating_colors"]
        assert [b["color"] for b in bands] == ["#c62828", "#ef6c00", "#fdd835", "#2e7d32"]
        assert set(bands[0]["label"]) == {"ru", "kk", "en"}
    assert catalog["roads"]["style"]["rating_colors"] == []


def test_aggregates_are_rebuilt_for_a_store_written_before_their_triggers(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A store whose ratings were written before ``rating_aggregates`` was kept by triggers
    (here: triggers dropped, aggregates emptied, more rows written) gets its aggregates
    recounted from the rows when this program opens it, and the triggers back."""
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Сквер")
        residents = [sign_up_resident(client, caplog) for _ in range(3)]
        url = f"/api/participation/works/{work}"
        for who, stars in zip(residents, (5, 4, 1), strict=True):
            r = client.put(f"{url}/rating", json={"stars": stars}, headers=who.headers)
            assert r.status_code == 201
        r = client.put(f"{url}/reaction", json={"reaction": "like"}, headers=residents[0].headers)
        assert r.status_code == 200
    store = open_store(store_url)
    try:
        with store.engine.begin() as conn:
            for name in triggers.installed(conn):
                on = "reactions" if "reactions" in name else "ratings"
                on = f" ON {on}" if store.kind == "postgis" else ""
                conn.execute(sa.text(f"DROP TRIGGER {name}{on}"))
            conn.execute(sa.text("DELETE FROM rating_aggregates"))
            conn.execute(sa.text("UPDATE ratings SET stars = 2 WHERE stars = 1"))
    finally:
        store.close()
    store = open_store(store_url)
    try:
        agg = Ratings(store).aggregate("works", work)
        assert (agg.count, agg.mean, agg.distribution, agg.likes) == (3, 11 / 3, [0, 1, 0, 1, 1], 1)
        with store.engine.connect() as conn:
            assert len(triggers.installed(conn)) > 0
    finally:
        store.close()


def test_statements_built_once_keep_each_write_apart(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The writes' statements are built once per shape and layer and reused with new values
    (:meth:`Ratings._write_sql`, :meth:`Accounts.owner_of`): a reused statement must still
    check its own layer's feature, tell a second POST from a change, and refuse a token the
    moment it is revoked."""
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Сквер")
        a = sign_up_resident(client, caplog)
        url = f"/api/participation/works/{work}"
        assert client.put(f"{url}/rating", json={"stars": 4}, headers=a.headers).status_code == 201
        assert client.put(
            f"{url}/reaction", json={"reaction": "like"}, headers=a.headers
        ).is_success
        # the same fid in another ratable layer, where no feature has it: 404, not a write
        for layer in ("parks", "schools"):
            other = f"/api/participation/{layer}/{work}"
            r = client.put(f"{other}/rating", json={"stars": 2}, headers=a.headers)
            assert r.status_code == 404, r.text
            r = client.put(f"{other}/reaction", json={"reaction": "dislike"}, headers=a.headers)
            assert r.status_code == 404, r.text
        # the works statements again, now an update: the aggregate holds one rating of 5
        r = client.put(f"{url}/rating", json={"stars": 5}, headers=a.headers)
        assert r.status_code == 200 and r.json()["aggregate"]["distribution"] == [0, 0, 0, 0, 1]
        assert r.json()["aggregate"]["likes"] == 1
        # the create-only insert after the update's statement is cached: still 409
        assert client.post(f"{url}/rating", json={"stars": 1}, headers=a.headers).status_code == 409
        # signed out: the token's very next write is refused
        assert client.post("/api/accounts/signout", headers=a.headers).status_code == 204
        r = client.put(f"{url}/rating", json={"stars": 3}, headers=a.headers)
        assert r.status_code == 401, r.text
