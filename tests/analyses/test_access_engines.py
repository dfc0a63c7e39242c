"""Two engines, one answer: the Python engine on either store and pgRouting on PostGIS."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

import layers
from tests.analyses import access_city as city
from tests.support.postgres import create_database
from twin.analyses.access.graph import build_graph, metric_xy
from twin.analyses.access.isochrone import isochrones
from twin.analyses.access.profiles import DRIVE, WALK, WHEELCHAIR, categories, category
from twin.analyses.access.search import ScipyEngine
from twin.analyses.access.service import AccessService, make_engine
from twin.core.errors import StoreError
from twin.store import Store, open_store


@pytest.fixture(scope="module")
def toy_stores(
    tmp_path_factory: pytest.TempPathFactory, postgis_url: str
) -> Iterator[tuple[Store, Store]]:
    """Yield (GeoPackage, PostGIS) stores holding the hand-built city."""
    gpkg = open_store(f"gpkg:///{tmp_path_factory.mktemp('access')}/toy.gpkg")
    pg = open_store(create_database(postgis_url, f"twin_access_toy_{os.getpid()}"))
    for s in (gpkg, pg):
        city.load_city(s)
    yield gpkg, pg
    gpkg.close()
    pg.close()


def test_both_stores_and_both_engines_give_the_same_access(
    toy_stores: tuple[Store, Store],
) -> None:
    gpkg, pg = toy_stores
    python_gpkg = AccessService(gpkg, engine="python")
    python_pg = AccessService(pg, engine="python")
    pgrouting = AccessService(pg, engine="pgrouting")
    assert pgrouting.engine.name == "pgrouting"
    for prof in (WALK, WHEELCHAIR):
        a = python_gpkg.cells(prof, categories(None))
        b = python_pg.cells(prof, categories(None))
        c = pgrouting.cells(prof, categories(None))
        for cat in categories(None):
            col = f"{cat.name}_min"
            np.testing.assert_allclose(a[col], b[col], rtol=1e-9)
            np.testing.assert_allclose(a[col], c[col], rtol=0.01)
            assert (a[f"{cat.name}_fid"] == c[f"{cat.name}_fid"]).all()
    da = python_gpkg.districts(WALK, categories(None))
    dc = pgrouting.districts(WALK, categories(None))
    np.testing.assert_allclose(da.drop(columns="district"), dc.drop(columns="district"))


def test_pgrouting_respects_one_way_and_steps_like_python(toy_stores: tuple[Store, Store]) -> None:
    _, pg = toy_stores
    graph = build_graph(pg.read_frame(layers.get("roads")))
    engine = make_engine(pg, "pgrouting")
    start = tuple(city.metric(city.A)[0])
    for prof in (WALK, WHEELCHAIR, DRIVE):
        ours = isochrones(ScipyEngine(), graph, prof, start, [3.0, 6.0])
        theirs = isochrones(engine, graph, prof, start, [3.0, 6.0])
        np.testing.assert_allclose(ours["area_km2"], theirs["area_km2"], rtol=0.01)
        np.testing.assert_allclose(ours["streets_km"], theirs["streets_km"], rtol=0.01)


def test_a_kept_pgrouting_engine_makes_its_lost_edge_table_again(
    toy_stores: tuple[Store, Store],
) -> None:
    """The engine is kept per roads version, but the database can lose what it stands for:
    a primary that crashes loses its last asynchronous commits (the test clusters run with
    ``synchronous_commit = off``), and the first isochrone's CREATE EXTENSION pgrouting and
    edge table were among them in the restart test (``pgr_drivingDistance`` did not exist
    after it). Dropped here as that crash does: the same kept engine makes them again and
    answers as before."""
    _, pg = toy_stores
    graph = build_graph(pg.read_frame(layers.get("roads")))
    start = tuple(city.metric(city.A)[0])
    engine = make_engine(pg, "pgrouting")
    before = isochrones(engine, graph, WALK, start, [3.0, 6.0])
    with pg.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE twin_access_edges, twin_access_state")
        conn.exec_driver_sql("DROP EXTENSION pgrouting")
    kept = make_engine(pg, "pgrouting")
    assert kept is engine
    after = isochrones(kept, graph, WALK, start, [3.0, 6.0])
    assert getattr(kept, "rebuilt", None) == 1
    np.testing.assert_allclose(before["area_km2"], after["area_km2"])
    # pgRouting alone gone (an operator's DROP EXTENSION): made again as well
    with pg.engine.begin() as conn:
        conn.exec_driver_sql("DROP EXTENSION pgrouting")
    again = isochrones(make_engine(pg, "pgrouting"), graph, WALK, start, [3.0, 6.0])
    assert getattr(kept, "rebuilt", None) == 2
    np.testing.assert_allclose(before["area_km2"], again["area_km2"])


def test_pgrouting_needs_postgis(toy_stores: tuple[Store, Store]) -> None:
    gpkg, _ = toy_stores
    with pytest.raises(StoreError, match="PostGIS"):
        make_engine(gpkg, "pgrouting")


def test_almaty_schools_same_times_on_both_engines(almaty_url: str) -> None:
    """On the real network: walking times from every building to its nearest school."""
    store = open_store(almaty_url)
    try:
        svc = AccessService(store, engine="python")
        b = store.read_frame(layers.get("buildings"))
        pts = b.geometry.representative_point()
        xy = metric_xy(pts.x.to_numpy(), pts.y.to_numpy())
        from twin.analyses.access.nearest import access_table

        cats = [category("school"), category("clinic")]
        ours = access_table(svc.engine, svc.city.graph, WALK, svc.city.frames, xy, cats)
        assert ours["school_min"].notna().mean() > 0.99
        if store.kind != "postgis":
            return
        pgr = make_engine(store, "pgrouting")
        theirs = access_table(pgr, svc.city.graph, WALK, svc.city.frames, xy, cats)
        for col in ("school_min", "clinic_min"):
            np.testing.assert_allclose(ours[col], theirs[col], rtol=0.01)
    finally:
        store.close()
