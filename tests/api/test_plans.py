"""Business accounts, organisation keys, plans, quotas and metering (issue 21), over HTTP on
the bundled Almaty set (both stores); the quota shared by two apps through a real Redis."""

from __future__ import annotations

import codecs
import csv
import io
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import h3
import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.accounts import Business, org_key, sign_up_business, sign_up_resident
from twin.app import create_app
from twin.business.metering import Meter, QuotaCounter, windows
from twin.business.plans import load_plans
from twin.core.errors import RateLimited
from twin.core.settings import AuthSettings, BusinessSettings, Settings, StoreSettings

ADMIN = {"Authorization": "Bearer admin-key-for-plans"}
SITE = "/api/analysis/site"
BATCH = "/api/analysis/site/batch"
# small quotas, so that the boundary is reached in a few calls
PLANS = """
[weights]
site = 2
niches = 10
catchments = 10
report = 4
batch = 3
custom = 20
dynamics = 5
footfall = 5

[plans.free]
title = { en = "Free", ru = "Бесплатный", kk = "Тегін" }
day = 6
month = 10
batch_rows = 1
analyses = ["site", "batch"]

[plans.standard]
title = { en = "Standard", ru = "Стандарт", kk = "Стандарт" }
day = 1000
month = 10000
batch_rows = 3
analyses = ["site", "niches", "report", "batch"]

[plans.premium]
title = { en = "Premium", ru = "Премиум", kk = "Премиум" }
day = 10000
month = 100000
batch_rows = 1000
analyses = ["site", "niches", "catchments", "report", "batch", "custom", "dynamics", "footfall"]
"""


@pytest.fixture(scope="module")
def plans_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("plans") / "plans.toml"
    path.write_text(PLANS, encoding="utf-8")
    return str(path)


@contextmanager
def business_app(url: str, plans: str, redis_url: str | None = None) -> Iterator[TestClient]:
    settings = Settings(
        store=StoreSettings(database_url=url),
        auth=AuthSettings(api_keys="admin:admin-key-for-plans"),
        business=BusinessSettings(plans=plans),
        redis_url=redis_url,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def client(almaty_url: str, plans_file: str) -> Iterator[TestClient]:
    with business_app(almaty_url, plans_file) as c:
        yield c


def _site(
    client: TestClient, headers: dict[str, str], cat: str = "pharmacy", top: int = 1
) -> httpx.Response:
    return client.get(SITE, params={"category": cat, "top": top}, headers=headers)


#: four categories: four different rankings (the same one asked again the same day is free)
CATS = ("pharmacy", "cafe", "grocery", "restaurant")


def _csv(rows: Sequence[Sequence[object]], header: str = "name,lon,lat") -> bytes:
    return (header + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n").encode()


def _cell_points(client: TestClient, n: int) -> list[tuple[str, float, float]]:
    cells = client.get(SITE, params={"category": "pharmacy", "top": n}).json()["features"]
    return [
        (f"s{i}", lon, lat)
        for i, (lat, lon) in enumerate(h3.cell_to_latlng(f["properties"]["h3"]) for f in cells)
    ]


def _units(client: TestClient, who: dict[str, str]) -> tuple[int, int]:
    body = client.get("/api/business/usage", headers=who).json()
    return body["calls"], body["units"]


def test_sign_up_keys_and_who_may_do_what(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    shop = sign_up_business(client, caplog, "ТОО Дәріхана")
    org = client.get("/api/business/org", headers=shop.headers).json()
    assert org["organisation"]["name"] == "ТОО Дәріхана" and org["plan"]["name"] == "free"
    assert org["day"] == {"limit": 6, "used": 0, "remaining": 6, "reset": org["day"]["reset"]}
    made = client.post("/api/business/keys", json={"label": "ERP"}, headers=shop.headers)
    assert made.status_code == 201 and made.json()["key"].startswith("twb_")
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    listed = client.get("/api/business/keys", headers=key).json()["keys"]
    assert [(k["key_id"], k["label"], k["live"]) for k in listed] == [
        (made.json()["key_id"], "ERP", True)
    ]
    assert "key" not in listed[0] and made.json()["key"] not in str(listed)
    assert client.get("/api/business/org", headers=key).json()["organisation"]["id"] == shop.org
    # a key runs analyses and reads usage but does not make keys
    r = client.post("/api/business/keys", json={}, headers=key)
    assert r.status_code == 403 and "member" in r.json()["detail"]
    # another organisation can neither revoke this key nor read this organisation's usage
    rival = sign_up_business(client, caplog, "ИП Конкурент")
    r = client.delete(f"/api/business/keys/{made.json()['key_id']}", headers=rival.headers)
    assert r.status_code == 403 and "another organisation" in r.json()["detail"]
    r = client.get(f"/api/business/orgs/{shop.org}/usage", headers=org_key(client, rival))
    assert r.status_code == 403 and "not yours" in r.json()["detail"]
    assert client.get(f"/api/business/orgs/{shop.org}/usage", headers=key).status_code == 200
    # revoked: 401 at once
    assert (
        client.delete(f"/api/business/keys/{made.json()['key_id']}", headers=shop.headers)
    ).status_code == 204
    r = _site(client, key)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    bogus = {"Authorization": "Bearer twb_deadbeef_" + "x" * 43}
    assert client.get("/api/business/org", headers=bogus).status_code == 401
    # who may use the business routes at all
    resident = sign_up_resident(client, caplog)
    assert client.get("/api/business/org").status_code == 401
    assert client.get("/api/business/org", headers=resident.headers).status_code == 403
    body = _csv([("a", 76.9, 43.25)])
    assert client.post(BATCH, params={"category": "pharmacy"}, content=body).status_code == 401
    r = client.post(BATCH, params={"category": "pharmacy"}, content=body, headers=resident.headers)
    assert r.status_code == 403 and "business" in r.json()["detail"]
    # plans are public; staff change them, nobody else
    assert [p["name"] for p in client.get("/api/business/plans").json()["plans"]] == [
        "free", "standard", "premium"
    ]  # fmt: skip
    url = f"/api/business/orgs/{shop.org}/plan"
    assert client.put(url, json={"plan": "premium"}, headers=shop.headers).status_code == 403
    assert client.put(url, json={"plan": "premium"}).status_code == 401
    r = client.put(url, json={"plan": "gold"}, headers=ADMIN)
    assert r.status_code == 400 and "free, standard, premium" in r.json()["detail"]
    assert client.put(url, json={"plan": "standard"}, headers=ADMIN).json()["plan"] == "standard"
    org = client.get("/api/business/org", headers=shop.headers).json()
    assert org["plan"]["name"] == "standard" and org["day"]["limit"] == 1000
    names = [o["name"] for o in client.get("/api/business/orgs", headers=ADMIN).json()[
        "organisations"]]  # fmt: skip
    assert "ТОО Дәріхана" in names and "ИП Конкурент" in names


def test_quota_boundary_headers_and_usage(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """free: 6 units a day, a city-wide site ranking costs 2 — three answers, then 429."""
    shop = sign_up_business(client, caplog)
    key = org_key(client, shop, "site")
    before = windows(time.time())[2]
    answers = [_site(client, key, cat) for cat in CATS]
    after = windows(time.time())[2]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["4", "2", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"6"}
    for r in answers:  # the seconds until 00:00 UTC
        assert after <= int(r.headers["X-RateLimit-Reset"]) <= before + 1
    over = answers[3]
    assert over.headers["Retry-After"] == over.headers["X-RateLimit-Reset"]
    assert "free plan" in over.json()["detail"] and "a day" in over.json()["detail"]
    # an analysis the plan lacks: 403 naming the plan and the plans that have it
    r = client.get("/api/analysis/niches", params={"category": "pharmacy"}, headers=key)
    assert r.status_code == 403
    assert "free plan" in r.json()["detail"] and "standard, premium" in r.json()["detail"]
    # a ranking charged today, asked again (more cells listed): answered, free, even over
    # quota — a re-rendered panel or a reload does not spend the quota again
    again = _site(client, key, CATS[0], top=5)
    assert again.status_code == 200 and len(again.json()["features"]) == 5
    assert again.headers["X-RateLimit-Remaining"] == "0"
    # the refused calls cost nothing: 4 calls (one a repeat), 6 units, on this key, today
    usage = client.get("/api/business/usage", headers=shop.headers).json()
    assert [(u["key_id"], u["analysis"], u["calls"], u["units"]) for u in usage["usage"]] == [
        (key["Authorization"].split("_")[1], "site", 4, 6)
    ]
    assert usage["day"]["used"] == 6 and usage["day"]["remaining"] == 0
    # the signed-in member's own calls count under "session" (a repeat of the organisation's
    # is free whoever asks); the CSV says the same
    assert _site(client, shop.headers, CATS[1]).status_code == 200
    assert _site(client, shop.headers, "bank").status_code == 429
    body = client.get("/api/business/usage.csv", headers=key).content
    assert body.startswith(codecs.BOM_UTF8)  # for a spreadsheet (twin.core.spreadsheet)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert sorted((r["analysis"], r["label"], r["calls"], r["units"]) for r in rows) == [
        ("site", "", "1", "0"),  # the member's session: one call, a repeat
        ("site", "site", "4", "6"),
    ]
    # staff and anonymous callers of the public map are not metered
    assert "X-RateLimit-Limit" not in _site(client, ADMIN).headers
    assert _site(client, {}).status_code == 200


def test_batch_weighs_by_rows_and_a_failed_batch_bills_nothing(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    shop = sign_up_business(client, caplog)
    key = org_key(client, shop)
    points = _cell_points(client, 4)
    params = {"category": "pharmacy"}
    r = client.post(BATCH, params=params, content=_csv(points[:2]), headers=key)
    assert r.status_code == 413 and "free plan allows in one batch (1)" in r.json()["detail"]
    client.put(f"/api/business/orgs/{shop.org}/plan", json={"plan": "standard"}, headers=ADMIN)
    r = client.post(BATCH, params=params, content=_csv(points[:4]), headers=key)
    assert r.status_code == 413 and "(3)" in r.json()["detail"]
    assert _units(client, key) == (0, 0)
    r = client.post(BATCH, params=params, content=_csv(points[:3]), headers=key)
    assert r.status_code == 200 and r.json()["scored"] == 3
    assert r.headers["X-RateLimit-Remaining"] == str(1000 - 3 * 3)
    assert _units(client, key) == (1, 9)
    # the same file uploaded again (the page reloaded): the same answer, nothing charged;
    # another file of the same size is charged
    again = client.post(BATCH, params=params, content=_csv(points[:3]), headers=key)
    assert again.json() == r.json() and again.headers["X-RateLimit-Remaining"] == str(1000 - 9)
    assert _units(client, key) == (2, 9)
    # fails: no row can be placed in the city (each row is read, then the batch refused)
    bad = _csv([("far", 10.0, 50.0), ("farther", 11.0, 51.0)])
    r = client.post(BATCH, params=params, content=bad, headers=key)
    assert r.status_code == 400 and "outside the city: row 1, 2" in r.json()["detail"]
    assert _units(client, key) == (2, 9)
    assert client.get("/api/business/org", headers=key).json()["day"]["used"] == 9
    # weights per analysis: a report costs 4, a city-wide ranking 2
    lon, lat = points[0][1], points[0][2]
    r = client.get("/api/analysis/site/report", headers=key,
                   params={"category": "pharmacy", "lon": lon, "lat": lat})  # fmt: skip
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == str(1000 - 13)
    # the same site's report again in Kazakh with a name: the same report, free
    r = client.get("/api/analysis/site/report", headers=key,
                   params={"category": "pharmacy", "lon": lon, "lat": lat, "lang": "kk",
                           "label": "Дәріхана"})  # fmt: skip
    assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == str(1000 - 13)
    assert _site(client, key).status_code == 200
    by = {u["analysis"]: (u["calls"], u["units"])
          for u in client.get("/api/business/usage", headers=key).json()["usage"]}  # fmt: skip
    assert by == {"batch": (2, 9), "report": (2, 4), "site": (1, 2)}


def test_day_and_month_windows(plans_file: str) -> None:
    """The day resets at 00:00 UTC; the month's quota holds across days (free: 6 a day, 10 a
    month)."""
    clock = [1_780_000_000.0]  # 2026-05-28
    counter = QuotaCounter(now=lambda: clock[0])

    class Orgs:
        def plan_of(self, org_id: int) -> str:
            return "free"

    meter = Meter(Orgs(), load_plans(plans_file), counter)  # type: ignore[arg-type]
    for _ in range(3):
        meter.start(1, "k", "site")
    with pytest.raises(RateLimited) as day:
        meter.start(1, "k", "site")
    assert "a day" in day.value.detail
    assert day.value.retry_after == int(windows(clock[0])[2] + 0.999)
    clock[0] += 86400  # the next day: 6 used of the month's 10
    charge = meter.start(1, "k", "site")
    meter.start(1, "k", "site")
    with pytest.raises(RateLimited) as month:
        meter.start(1, "k", "site")
    assert "a month" in month.value.detail
    assert month.value.retry_after == int(windows(clock[0])[3] + 0.999) > 86400
    assert month.value.headers["X-RateLimit-Limit"] == "10"
    meter.refund(charge)  # a failed call gives its units back
    meter.start(1, "k", "site")


def test_a_readers_flush_waits_for_the_flush_in_flight(plans_file: str) -> None:
    """The usage page flushes before it reads; a background flush that has taken the calls
    and is still writing them must be waited for (else the page reads 0 calls: a CI run)."""
    entered, release = threading.Event(), threading.Event()
    written: list[tuple[object, ...]] = []

    class Orgs:
        def plan_of(self, org_id: int) -> str:
            return "free"

        def record_many(self, rows: list[tuple[object, ...]]) -> None:
            if rows and not entered.is_set():
                entered.set()
                release.wait(10)  # a slow write in flight
            written.extend(rows)

    meter = Meter(Orgs(), load_plans(plans_file), QuotaCounter())  # type: ignore[arg-type]
    meter.settle(meter.start(1, "k", "site"))
    background = threading.Thread(target=meter.flush)
    background.start()
    assert entered.wait(10)  # the background flush took the call and is writing it
    reader = threading.Thread(target=meter.flush)
    reader.start()
    reader.join(0.5)
    assert reader.is_alive()  # the reader's flush waits for it
    release.set()
    reader.join(10)
    background.join(10)
    assert [(r[0], r[3], r[4], r[5]) for r in written] == [(1, "site", 1, 2)]


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
def test_a_repeat_is_free_and_a_refunded_call_is_charged_again(
    plans_file: str, redis_url: str, shared: bool
) -> None:
    clock = [1_780_000_000.0]
    prefix = f"twin:test:repeat:{uuid.uuid4().hex[:8]}"
    counter = QuotaCounter(redis_url if shared else None, key_prefix=prefix, now=lambda: clock[0])

    class Orgs:
        def plan_of(self, org_id: int) -> str:
            return "free"

    meter = Meter(Orgs(), load_plans(plans_file), counter)  # type: ignore[arg-type]
    first = meter.start(1, "k", "site", fingerprint="ranking-a")
    assert first is not None and (first.units, first.repeat) == (2, False)
    again = meter.start(1, "k", "site", fingerprint="ranking-a")
    assert again is not None and (again.units, again.repeat) == (0, True)
    meter.refund(again)  # a failed repeat gives nothing back and forgets nothing
    assert counter.used(1)[0] == 2
    assert meter.start(1, "k", "site", fingerprint="ranking-a").repeat  # type: ignore[union-attr]
    assert meter.start(2, "k", "site", fingerprint="ranking-a").units == 2  # type: ignore[union-attr]
    meter.refund(first)  # the first failed: refunded and forgotten, charged when asked again
    assert counter.used(1)[0] == 0
    assert meter.start(1, "k", "site", fingerprint="ranking-a").units == 2  # type: ignore[union-attr]
    meter.start(1, "k", "site", fingerprint="ranking-b")
    meter.start(1, "k", "site", fingerprint="ranking-c")
    with pytest.raises(RateLimited):  # 6 of 6 used: a new ranking is refused, a repeat is not
        meter.start(1, "k", "site", fingerprint="ranking-d")
    assert meter.start(1, "k", "site", fingerprint="ranking-b").repeat  # type: ignore[union-attr]
    clock[0] += 86400  # the next day charges it again (the month has 10: 6 used)
    assert meter.start(1, "k", "site", fingerprint="ranking-b").units == 2  # type: ignore[union-attr]
    counter.reset()


def test_quota_is_shared_by_two_server_processes(
    almaty_url: str, plans_file: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = f"twin:test:quota:{uuid.uuid4().hex[:8]}"
    with (
        business_app(almaty_url, plans_file, redis_url) as one,
        business_app(almaty_url, plans_file, redis_url) as two,
    ):
        for c in (one, two):
            c.app.state.meter.counter = QuotaCounter(redis_url, key_prefix=prefix)  # type: ignore[attr-defined]
        shop: Business = sign_up_business(one, caplog)
        key = org_key(one, shop)
        got = [_site(c, key, cat) for c, cat in zip((one, two, one, two), CATS, strict=True)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in got] == ["4", "2", "0", "0"]
        # a ranking charged in one process is a free repeat in the other
        assert _site(two, key, CATS[0]).status_code == 200
        assert _site(one, key, CATS[1]).status_code == 200
        assert two.get("/api/business/org", headers=key).json()["day"]["used"] == 6
        one.app.state.meter.counter.reset()  # type: ignore[attr-defined]


def test_quota_is_shared_by_two_twin_serve_processes(
    almaty_url: str, plans_file: str, redis_url: str
) -> None:
    """The same boundary across two operating-system processes (``twin serve`` each, as
    deployed), which share nothing but the store and Redis (``TWIN_REDIS_URL``): the test
    above runs two apps in one Python process."""
    import redis

    from tests.support.servers import twin_servers
    from twin.accounts import Accounts, LogSender
    from twin.business.orgs import Organisations
    from twin.core.settings import AccountSettings
    from twin.store import open_store

    # a Redis database of this store's own: both stores number their organisations from 1
    shared = redis_url.rsplit("/", 1)[0] + ("/3" if almaty_url.startswith("gpkg") else "/4")
    redis.Redis.from_url(shared).flushdb()
    store = open_store(almaty_url)
    try:
        orgs = Organisations(store, load_plans(plans_file))
        accounts = Accounts(store, AccountSettings(), LogSender())
        login = f"two-{uuid.uuid4().hex[:8]}@example.kz"
        _, org = orgs.signup(accounts, login, "a long business password", "ТОО Екі")
        key = {"Authorization": f"Bearer {orgs.create_key(org.id, 'two processes')}"}
    finally:
        store.close()
    env = {"TWIN_DATABASE_URL": almaty_url, "TWIN_REDIS_URL": shared,
           "TWIN_BUSINESS_PLANS": plans_file}  # fmt: skip
    with twin_servers(env, 2) as [(one, _), (two, _)], httpx.Client(timeout=300) as http:

        def site(base: str, cat: str) -> httpx.Response:
            return http.get(f"{base}{SITE}", params={"category": cat, "top": 1}, headers=key)

        got = [site(b, cat) for b, cat in zip((one, two, one, two), CATS, strict=True)]
        assert [r.status_code for r in got] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in got] == ["4", "2", "0", "0"]
        assert got[3].headers["Retry-After"] == got[3].headers["X-RateLimit-Reset"]
        assert "free plan" in got[3].json()["detail"]
        # a ranking charged in one process is a free repeat in the other
        assert site(two, CATS[0]).status_code == 200
        assert site(one, CATS[2]).status_code == 200
        status = http.get(f"{two}/api/business/org", headers=key).json()
        assert status["day"]["used"] == 6 and status["day"]["remaining"] == 0


def test_the_plans_file_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "plans.toml"
    bad.write_text(PLANS.replace('analyses = ["site", "batch"]', 'analyses = ["sight"]'))
    with pytest.raises(Exception, match="unknown: \\['sight'\\]"):
        load_plans(bad)
    assert load_plans().plans["premium"].batch_rows == 1000  # the bundled file


def test_premium_analytics(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    shop = sign_up_business(client, caplog)
    key = org_key(client, shop)
    mine = {"pois": ["pharmacy"], "minutes": 10, "top": 5}
    r = client.post("/api/analysis/site/custom", json=mine, headers=key)
    assert r.status_code == 403 and "free plan" in r.json()["detail"]
    assert "premium" in r.json()["detail"]
    client.put(f"/api/business/orgs/{shop.org}/plan", json={"plan": "premium"}, headers=ADMIN)
    # the table's pharmacy category, declared by hand, ranks exactly as /site does
    got = client.post("/api/analysis/site/custom", json=mine, headers=key)
    assert got.status_code == 200, got.text
    assert got.headers["X-RateLimit-Remaining"] == str(10000 - 20)
    want = client.get(SITE, params={"category": "pharmacy", "top": 5}).json()["features"]
    assert [(f["properties"]["h3"], f["properties"]["score"]) for f in got.json()["features"]] == [
        (f["properties"]["h3"], f["properties"]["score"]) for f in want
    ]
    assert got.json()["category"]["custom"] is True
    # a stronger outlet wins more of the same residents: competition never falls
    strong = client.post("/api/analysis/site/custom", headers=key,
                         json={**mine, "attraction": 3, "top": 200}).json()["features"]  # fmt: skip
    weak = {f["properties"]["h3"]: f["properties"]["competition"] for f in
            client.post("/api/analysis/site/custom", headers=key,
                        json={**mine, "top": 200}).json()["features"]}  # fmt: skip
    pairs = [(f["properties"]["competition"], weak[f["properties"]["h3"]])
             for f in strong if f["properties"]["h3"] in weak]  # fmt: skip
    assert pairs and all(s >= w - 1e-12 for s, w in pairs) and any(s > w for s, w in pairs)
    r = client.post("/api/analysis/site/custom", json={"pois": ["unicorn_shop"]}, headers=key)
    assert r.status_code == 400 and "unicorn_shop" in r.json()["detail"]
    # the footfall proxy's parts at a site are the cell's own figures
    cell = want[0]["properties"]
    lat, lon = h3.cell_to_latlng(cell["h3"])
    parts = client.get("/api/analysis/site/footfall", headers=key,
                       params={"category": "pharmacy", "lon": lon, "lat": lat}).json()  # fmt: skip
    assert parts["h3"] == cell["h3"]
    assert parts["transit"]["bus_stops_within"] == cell["bus_stops_within"]
    assert parts["pois"]["pois_within"] == cell["pois_within"]
    assert parts["road"]["road_class"] == cell["road_class"]
    dyn = client.get("/api/analysis/site/dynamics", params={"category": "pharmacy"}, headers=key)
    assert dyn.status_code == 200, dyn.text
    body = dyn.json()
    assert body["outlets"] == body["by_load_month"][-1]["cumulative"] > 0
    assert body["loads"] and body["loads"][0]["inserted"] >= body["outlets"]
