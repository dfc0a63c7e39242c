"""A recorded set of HTTP answers, to show that a change of the code's shape changed no answer.

``python -m tests.support.answers record`` loads the bundled Almaty set into a new store of each
kind, sends the requests of :func:`corpus` (as an anonymous caller, a resident and a planner)
and writes, per request, the status, the headers a client acts on and a SHA-256 of the body to
``tests/api/recorded_answers.json``. ``tests/api/test_recorded_answers.py`` sends the same
requests to the code as it is now and compares. A change that alters an answer on purpose
re-records (and the diff of that file shows which answers moved).

Bodies are hashed after :func:`normalise`: result ids are random and load times are the clock's,
so both are replaced by placeholders; nothing else is touched. A GeoPackage download embeds its
creation time, so only its status and headers are compared.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

RECORDING = Path(__file__).parents[1] / "api" / "recorded_answers.json"
MVT = "application/vnd.mapbox-vector-tile"
KEYS = "planner:rec-planner,resident:rec-resident,admin:rec-admin"
ROLES = {
    "anonymous": {},
    "resident": {"Authorization": "Bearer rec-resident"},
    "planner": {"Authorization": "Bearer rec-planner"},
    "admin": {"Authorization": "Bearer rec-admin"},
}
#: The headers a client or a cache acts on (``X-Tile-Cache`` says where a tile came from, which
#: depends on what was asked before, so it is left out).
HEADERS = (
    "content-type",
    "content-encoding",
    "cache-control",
    "vary",
    "etag",
    "location",
    "content-crs",
    "content-language",
    "content-disposition",
    "www-authenticate",
)
_TEXT_TYPES = ("application/json", "application/geo+json", "application/schema+json", "text/")
_RID = re.compile(r"[0-9a-f]{32}")
_SHORT_RID = re.compile(r"(result )[0-9a-f]{8}\b")
_TIMINGS = re.compile(r'"timings": ?\{[^{}]*\}')
_SECONDS = re.compile(r'"(candidates|greedy|after)_s": ?[0-9.e-]+')
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


@dataclass(frozen=True)
class Ask:
    """One request of the corpus."""

    method: str
    path: str
    role: str = "anonymous"
    params: tuple[tuple[str, str], ...] = ()
    json: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    #: compare status and headers only (the body embeds a time or a random id)
    body: bool = True

    @property
    def key(self) -> str:
        q = "&".join(f"{k}={v}" for k, v in self.params)
        h = ";".join(f"{k}:{v}" for k, v in self.headers)
        j = "" if self.json is None else json.dumps(self.json, sort_keys=True)
        return f"{self.role} {self.method} {self.path}?{q} [{h}] {j}".strip()


@dataclass
class Answer:
    """What came back, as compared."""

    status: int
    headers: dict[str, str]
    sha256: str | None
    size: int
    extra: dict[str, Any] = field(default_factory=dict)


def normalise(body: bytes) -> bytes:
    """Return ``body`` with random result ids, clock times and measured timings replaced by
    placeholders.

    >>> normalise(b'{"id": "0123456789abcdef0123456789abcdef", "at": "2026-12-03T15:41:49Z"}')
    b'{"id": "<rid>", "at": "<time>"}'
    >>> normalise(b'{"name": "coverage result 0123abcd", "timings": {"a_s": 0.2}}')
    b'{"name": "coverage result <rid>", "timings": "<timings>"}'
    """
    text = body.decode("utf-8", errors="surrogateescape")
    text = _RID.sub("<rid>", text)
    text = _SHORT_RID.sub(r"\1<rid>", text)
    text = _STAMP.sub("<time>", text)
    text = _TIMINGS.sub('"timings": "<timings>"', text)
    text = _SECONDS.sub(r'"\1_s": "<s>"', text)
    return text.encode("utf-8", errors="surrogateescape")


def canonical_mvt(body: bytes) -> str:
    """Return a SHA-256 of a vector tile's layers and features in a fixed order.

    ``ST_AsMVT`` writes features in the order PostgreSQL reads the rows, which differs between
    two loads of the same data (and so do the tile's value tables and its bytes); the features
    themselves do not.
    """
    import mapbox_vector_tile

    decoded = mapbox_vector_tile.decode(body) if body else {}
    canon = {
        name: {
            "extent": layer.get("extent"),
            "features": sorted(
                json.dumps(f, sort_keys=True, ensure_ascii=False) for f in layer["features"]
            ),
        }
        for name, layer in decoded.items()
    }
    return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()


def _tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    from tiles.grid import lonlat_to_tile_xy

    return lonlat_to_tile_xy(lon, lat, z)


def corpus() -> Iterator[Ask]:
    """Yield the requests, read-only ones first, then edits (which change the store)."""
    import layers

    centre = (76.93, 43.24)
    public = [lay.id for lay in layers.LAYERS if lay.access.value == "public"]
    everyone = [lay.id for lay in layers.LAYERS]
    for role in ("anonymous", "planner"):
        yield Ask("GET", "/healthz", role)
        yield Ask("GET", "/catalog", role)
        yield Ask("GET", "/style.json", role)
        yield Ask("GET", "/collections", role)
        yield Ask("GET", "/collections", role, (("lang", "kk"),))
        yield Ask("GET", "/api/districts", role)
        yield Ask("GET", "/api/districts/almaly", role)
        yield Ask("GET", "/api/districts/Бостандыкский", role)
        for q in ("Школа", "Абай", "Медицинская организация № 100", "Достык", "камера", "zz"):
            yield Ask("GET", "/api/search", role, (("q", q),))
        yield Ask("GET", "/api/search", role, (("q", "школа"), ("lang", "en"), ("limit", "5")))
    yield Ask("GET", "/catalog", "resident")
    yield Ask("GET", "/catalog", headers=(("Authorization", "Bearer nope"),))
    yield Ask("GET", "/", headers=(("Accept", "application/json"),))
    yield Ask("GET", "/conformance")
    yield Ask("GET", "/no/such/thing")
    for lid in everyone:
        for role in ("anonymous", "planner"):
            yield Ask("GET", f"/tiles/{lid}.json", role)
            yield Ask("GET", f"/collections/{lid}", role)
            yield Ask("GET", f"/collections/{lid}/queryables", role)
            yield Ask("GET", f"/collections/{lid}/schema", role)
            yield Ask("GET", f"/collections/{lid}/items", role, (("limit", "3"),))
            yield Ask("GET", f"/collections/{lid}/items/1", role)
    yield Ask("GET", "/tiles/roads,cameras,schools.json")
    yield Ask("GET", "/tiles/roads,cameras,schools.json", "planner")
    for z in (8, 10, 12, 14, 16):
        x, y = _tile_xy(*centre, z)
        for lid in public:
            yield Ask("GET", f"/tiles/{lid}/{z}/{x}/{y}.mvt")
        yield Ask("GET", f"/tiles/appeals/{z}/{x}/{y}.mvt", "planner")
        yield Ask("GET", f"/tiles/cameras/{z}/{x}/{y}.mvt", "planner")
        yield Ask("GET", f"/tiles/cameras/{z}/{x}/{y}.mvt")
        yield Ask("GET", f"/tiles/landuse,waterways,city_boundary/{z}/{x}/{y}.mvt")
        yield Ask("GET", f"/tiles/buildings,cameras,roads/{z}/{x}/{y}.mvt", "planner")
        yield Ask(
            "GET",
            f"/tiles/roads/{z}/{x}/{y}.mvt",
            headers=(("Accept-Encoding", "identity"),),
        )
    yield Ask("GET", "/tiles/roads/3/99/99.mvt")
    yield Ask("GET", "/tiles/nope/14/11693/6004.mvt")
    yield Ask("GET", "/tiles/buildings/20/1/1.mvt")
    items = "/collections/{}/items"
    for path, params in [
        (items.format("buildings"), (("bbox", "76.93,43.24,76.94,43.25"), ("limit", "20"))),
        (items.format("buildings"), (("datetime", "2024-01-01"),)),
        (items.format("buildings"), (("properties", "name,password"),)),
        (items.format("buildings"), (("sortby", "-levels,name"), ("limit", "7"))),
        (items.format("schools"), (("filter", "capacity > 1000"), ("limit", "5"))),
        (items.format("schools"), (("f", "csv"), ("filter", "capacity > 1000"))),
        (items.format("schools"), (("filter", "name LIKE '%Школа%'"), ("offset", "3"))),
        (items.format("works"), (("datetime", "2023-01-01/2023-06-30"), ("limit", "10"))),
        (items.format("works"), (("status", "completed"), ("limit", "4"))),
        (items.format("health"), (("filter", "S_INTERSECTS(geometry, POINT(76.9 43.25))"),)),
        (items.format("districts"), (("f", "csv"),)),
        (items.format("roads"), (("limit", "0"),)),
        (items.format("roads"), (("limit", "abc"),)),
        (items.format("roads"), (("frobnicate", "1"),)),
        (items.format("budget_cycle_projects"), (("limit", "5"), ("offset", "5"))),
    ]:
        yield Ask("GET", path, params=params)
    yield Ask("GET", items.format("schools"), params=(("f", "gpkg"),), body=False)
    yield Ask("GET", items.format("districts"), headers=(("Accept", "text/csv"),))
    yield Ask("GET", "/collections/health/items/999999")
    yield Ask("GET", "/collections/health/items/abc")
    # analyses
    yield Ask("GET", "/api/analysis/access", params=(("category", "school,clinic"),))
    yield Ask("GET", "/api/analysis/access", params=(("category", "school"), ("district", "Medeu")))
    yield Ask("GET", "/api/analysis/isochrone", params=(("layer", "schools"), ("fid", "1")))
    yield Ask(
        "GET",
        "/api/analysis/isochrone",
        params=(("layer", "schools"), ("fid", "1"), ("minutes", "10")),
    )
    yield Ask("GET", "/api/analysis/isochrone", params=(("layer", "cameras"), ("fid", "1")))
    yield Ask("GET", "/api/analysis/schools", params=(("age_share", "0.16"),))
    yield Ask("GET", "/api/analysis/site/categories")
    yield Ask("GET", "/api/analysis/site", params=(("category", "pharmacy"), ("top", "20")))
    yield Ask(
        "GET", "/api/analysis/site", params=(("category", "bank"), ("res", "8"), ("top", "3"))
    )
    yield Ask("GET", "/api/analysis/niches", params=(("category", "pharmacy"),))
    yield Ask("GET", "/api/analysis/catchments", params=(("category", "pharmacy"),))
    yield Ask("GET", "/api/analysis/coverage/districts")
    scope = {"kind": "district", "district": "Almaly"}
    for role in ("anonymous", "resident"):
        yield Ask("POST", "/api/analysis/coverage", role, json={"scope": scope})
    yield Ask("POST", "/api/analysis/coverage", "planner", json={"scope": scope, "limit": 5})
    yield Ask("POST", "/api/analysis/coverage", "planner", json={"scope": scope, "limit": -1})
    yield Ask(
        "POST",
        "/api/analysis/placement",
        "planner",
        json={"scope": scope, "k": 3, "candidates": {"spacing_m": 200}},
    )
    yield Ask("GET", "/api/analysis/results/nope", "planner")
    # edits last: they change the store
    point = {"type": "Point", "coordinates": [76.95, 43.24]}
    new_stop = {"type": "Feature", "geometry": point, "properties": {"name": "Новая остановка"}}
    yield Ask("POST", items.format("bus_stops"), json=new_stop)
    yield Ask("POST", items.format("bus_stops"), "resident", json=new_stop)
    yield Ask("POST", items.format("bus_stops"), "planner", json={"type": "Feature"})
    yield Ask("POST", items.format("bus_stops"), "planner", json=new_stop)
    yield Ask(
        "PATCH",
        items.format("bus_stops") + "/1",
        "planner",
        json={"properties": {"name": "Переименована"}},
    )
    yield Ask("GET", items.format("bus_stops") + "/1")
    yield Ask("DELETE", items.format("bus_stops") + "/2", "planner")
    yield Ask("GET", items.format("bus_stops") + "/2")
    x, y = _tile_xy(76.95, 43.24, 15)
    yield Ask("GET", f"/tiles/bus_stops/15/{x}/{y}.mvt")


def _followups(client: TestClient, ask: Ask, response: Any) -> Iterator[tuple[str, Ask]]:
    """Yield requests that follow links in an answer (kept results), keyed by a stable name."""
    if ask.path in ("/api/analysis/coverage", "/api/analysis/placement") and (
        response.status_code == 200
    ):
        links = response.json().get("links", {})
        for name in ("results", "tilejson"):
            if name in links:
                yield name, Ask("GET", links[name].split("testserver", 1)[-1], ask.role)
        if "tiles" in links:
            tpl = links["tiles"].split("testserver", 1)[-1]
            for z, (lon, lat) in [(12, (76.93, 43.26)), (15, (76.93, 43.26)), (16, (76.92, 43.25))]:
                x, y = _tile_xy(lon, lat, z)
                yield f"tile{z}", Ask("GET", tpl.format(z=z, x=x, y=y), ask.role)


def answer(client: TestClient, ask: Ask) -> tuple[Answer, Any]:
    """Send ``ask`` and return what is compared of the answer (and the raw response)."""
    headers = {**ROLES[ask.role], **dict(ask.headers)}
    r = client.request(
        ask.method, ask.path, params=list(ask.params), json=ask.json, headers=headers
    )
    kept = {h: r.headers[h] for h in HEADERS if h in r.headers}
    text = r.headers.get("content-type", "").startswith(_TEXT_TYPES)
    body = (normalise(r.content) if text else r.content) if ask.body else b""
    digest = hashlib.sha256(body).hexdigest() if ask.body else None
    dump = os.environ.get("TWIN_ANSWERS_DUMP")
    if dump and digest:  # keep the bodies, to see what differs
        Path(dump).mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(ask.key.encode()).hexdigest()[:16]
        (Path(dump) / name).write_bytes(body)
    got = Answer(r.status_code, kept, digest, len(body))
    if ask.body and r.headers.get("content-type", "").startswith(MVT):
        got.extra["canonical"] = canonical_mvt(r.content)
    return got, r


def replay(client: TestClient, *, load: bool = False) -> dict[str, dict[str, Any]]:
    """Return every answer of the corpus (and of the links its analyses answer) by key; with
    ``load``, load the bundled Almaty set into the client's (empty) store first."""
    if load:
        from etl.load import load_bundled
        from twin.core.settings import DATA_DIR

        load_bundled(client.app.state.store, DATA_DIR)  # type: ignore[attr-defined]
    out: dict[str, dict[str, Any]] = {}
    for ask in corpus():
        got, response = answer(client, ask)
        out[ask.key] = got.__dict__
        for name, follow in _followups(client, ask, response):
            got, _ = answer(client, follow)
            out[f"{ask.key} -> {name}"] = got.__dict__
    return out


def record_store(database_url: str) -> dict[str, dict[str, Any]]:
    """Load the bundled set into ``database_url`` and return the corpus' answers there."""
    from tests.support.app import app_client

    with app_client(database_url, KEYS) as client:
        return replay(client, load=True)


def main(argv: list[str]) -> None:  # pragma: no cover - a developer's command
    """``record [FILE]``: write the recording (default :data:`RECORDING`)."""
    import tempfile

    import pyogrio  # noqa: F401  (before the first SpatiaLite connection)

    from tests.support.postgres import create_database, postgis_cluster

    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    if not argv or argv[0] != "record":
        sys.exit("usage: python -m tests.support.answers record [FILE]")
    target = Path(argv[1]) if len(argv) > 1 else RECORDING
    recording: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        recording["geopackage"] = record_store(f"gpkg:///{tmp}/answers.gpkg")
    with postgis_cluster() as url:
        recording["postgis"] = record_store(create_database(url, "answers"))
    target.write_text(json.dumps(recording, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}: {sum(len(v) for v in recording.values())} answers")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
