"""``/api/search`` on both stores with the bundled Almaty data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import layers
from layers import Access
from tests.support.app import app_client
from twin.search import fold, search, words_of
from twin.store import open_store

PLANNER = {"Authorization": "Bearer plan-s"}


@pytest.fixture(scope="module")
def client(almaty_url: str) -> Iterator[TestClient]:
    with app_client(almaty_url, "planner:plan-s") as c:
        yield c


def _search(client: TestClient, q: str, **params: object) -> list[dict]:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    results: list[dict] = r.json()["results"]
    return results


def test_finds_a_named_object_with_a_place_to_fly_to(client: TestClient) -> None:
    hits = _search(client, "Медицинская организация № 100")
    assert hits, "no hit"
    top = hits[0]
    assert top["layer"] == "health" and top["label"] == "Медицинская организация № 100"
    assert top["rank"] == 0 and top["id"] == f"health/{top['fid']}"
    x0, y0, x1, y1 = top["bbox"]
    lon, lat = top["point"]
    assert x0 <= lon <= x1 and y0 <= lat <= y1
    assert 76.5 < lon < 77.3 and 43.0 < lat < 43.6


def test_case_and_yo_insensitive_in_cyrillic(client: TestClient) -> None:
    lower = _search(client, "аптека", limit=5)
    upper = _search(client, "АПТЕКА", limit=5)
    assert lower and [h["id"] for h in lower] == [h["id"] for h in upper]
    assert all("аптека" in fold(h["label"]) for h in lower)
    assert fold("Ёлочка") == "елочка"


def test_prefix_matches_rank_before_matches_inside(client: TestClient) -> None:
    hits = _search(client, "сквер", limit=30)
    ranks = [h["rank"] for h in hits]
    assert ranks == sorted(ranks)
    assert fold(hits[0]["label"]).startswith("сквер")
    assert any(not fold(h["label"]).startswith("сквер") for h in hits)


def test_every_word_must_match(client: TestClient) -> None:
    hits = _search(client, "организация 100", limit=20)
    assert hits and all("100" in fold(h["label"] + " " + (h["detail"] or "")) for h in hits)


def test_street_segments_merge_into_one_hit(client: TestClient) -> None:
    hits = [h for h in _search(client, "Абая", limit=20) if h["layer"] == "roads"]
    labels = [h["label"] for h in hits]
    assert labels and len(labels) == len(set(labels))
    x0, _, x1, _ = hits[0]["bbox"]
    assert x1 - x0 > 0.01  # the avenue's whole length, not one segment


def test_districts_are_labelled_in_the_callers_language(client: TestClient) -> None:
    kk = _search(client, "Түрксіб", lang="kk")
    assert kk[0]["layer"] == "districts" and kk[0]["label"] == "Түрксіб ауданы"
    ru = _search(client, "Түрксіб", lang="ru")
    assert ru[0]["label"] == "Турксибский район"
    en = _search(client, "almaly", lang="en")
    assert en[0]["label"] == "Almaly" and en[0]["rank"] == 0


def test_planner_only_layers_never_leak(client: TestClient, almaty_url: str) -> None:
    public = {layer.id for layer in layers.LAYERS if layer.access is Access.PUBLIC}
    for q in ("a", "о", "1", "камера", "camera", "обращение"):
        for h in _search(client, q, limit=50):
            assert h["layer"] in public
    # The core looks only where it is told to.
    store = open_store(almaty_url)
    try:
        assert search(store, "a", [layers.get("cameras"), layers.get("appeals")]) == []
    finally:
        store.close()


@pytest.mark.parametrize("q", ["%", "_", "\\", "'; DROP TABLE buildings; --", '"', "%%%"])
def test_wildcards_and_quotes_are_plain_text(client: TestClient, q: str) -> None:
    for h in _search(client, q, limit=50):
        assert fold(q.strip()) in fold(h["label"] + " " + (h["detail"] or "")) or h["rank"] == 4
    assert client.get("/catalog").json()["layers"]  # nothing was dropped


def test_empty_query_finds_nothing(client: TestClient) -> None:
    assert _search(client, "   ") == []
    assert words_of("  a  b ") == ["a", "b"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"q": "x" * 101}, "q"),
        ({"q": "a", "limit": 0}, "limit"),
        ({"q": "a", "limit": 51}, "limit"),
        ({"q": "a", "lang": "de"}, "lang"),
        ({}, "q"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, params: dict, needle: str) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "bad_input" and needle in body["detail"]


def test_planner_gets_the_same_public_results(client: TestClient) -> None:
    anon = _search(client, "Школа", limit=5)
    planner = client.get("/api/search", params={"q": "Школа", "limit": 5}, headers=PLANNER)
    assert [h["id"] for h in planner.json()["results"]] == [h["id"] for h in anon]
    bad = client.get("/api/search", params={"q": "a"}, headers={"Authorization": "Bearer x"})
    assert bad.status_code == 401
