"""A store keeps its own random secrets (the appeals' cell keys use one): made once, the same
for every process that opens the store, different between stores and between names."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from twin.store import Store, open_store


def test_a_secret_is_made_once_and_shared_by_every_opener(store: Store) -> None:
    others = [open_store(store.url, create=False) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:  # openers racing to make it: one wins, all agree
            got = list(pool.map(lambda s: s.secret("cells"), others))
        assert len(set(got)) == 1 and len(got[0]) == 32
        assert store.secret("cells") == got[0]
        assert store.secret("other") != got[0]
    finally:
        for s in others:
            s.close()


def test_two_stores_have_different_secrets(store: Store, tmp_path: object) -> None:
    other = open_store(f"gpkg:///{tmp_path}/other.gpkg")
    try:
        assert other.secret("cells") != store.secret("cells")
    finally:
        other.close()
