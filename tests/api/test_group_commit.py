"""Ratings and likes committed in groups (:mod:`twin.participation.writer`), on both stores:
concurrent writes of many residents all land exactly once, a write that fails inside a group
fails alone (its own error, nothing of it written) while the others of the group commit, a
second rating by one resident is refused even within one group, and the live announcements
of one feature's changes arrive in commit order."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa

import layers
from tests.api.test_participation import KEYS, add_work
from tests.support.accounts import sign_up_resident
from tests.support.app import app_client
from twin import live
from twin.core.errors import Conflict, NotFound
from twin.participation import GroupWriter, Ratings
from twin.store import open_store


def _count(store: Any, sql: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def test_concurrent_writes_of_many_residents_land_once(
    store_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a group waits up to 20 ms for more, so the test's writes are grouped for certain
    monkeypatch.setenv("TWIN_PARTICIPATION_GROUP_WAIT_MS", "20")
    with app_client(store_url, api_keys=KEYS) as client:
        works = [add_work(client, f"Двор {i}", 76.9 + i * 0.01) for i in range(4)]
        residents = [sign_up_resident(client, caplog) for _ in range(12)]
        tasks = [(r, w) for r in residents for w in works]

        def write(task: tuple[Any, int]) -> tuple[int, int]:
            who, work = task
            url = f"/api/participation/works/{work}"
            stars = 1 + (who.account_id + work) % 5
            rated = client.put(f"{url}/rating", json={"stars": stars}, headers=who.headers)
            liked = client.put(f"{url}/reaction", json={"reaction": "like"}, headers=who.headers)
            return rated.status_code, liked.status_code

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(write, tasks))
        assert answers == [(201, 200)] * len(tasks)
        state = client.app.state  # type: ignore[attr-defined]
        writers: set[GroupWriter] = {state.group_writer, state.reaction_writer}
        writes, groups = sum(w.writes for w in writers), sum(w.groups for w in writers)
        assert writes >= 2 * len(tasks)
        assert groups < writes  # some groups held more than one write
        store = client.app.state.store  # type: ignore[attr-defined]
        assert _count(store, "SELECT count(*) FROM ratings") == len(tasks)
        assert _count(store, "SELECT count(*) FROM reactions") == len(tasks)
        assert _count(
            store, "SELECT count(*) FROM (SELECT DISTINCT layer, fid, account_id FROM ratings) x"
        ) == len(tasks)
        for work in works:
            agg = client.get(f"/api/participation/works/{work}").json()["aggregate"]
            expected = [1 + (r.account_id + work) % 5 for r in residents]
            assert agg["count"] == 12 and agg["likes"] == 12 and agg["dislikes"] == 0
            assert agg["distribution"] == [expected.count(k) for k in range(1, 6)]


def test_a_failing_write_fails_alone_in_its_group(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Сквер")
        a, b, c = (sign_up_resident(client, caplog) for _ in range(3))
    store = open_store(store_url)
    works = layers.get("works")
    ratings = Ratings(store)
    writer = GroupWriter(store, max_batch=64, prepare=ratings.prepare_group)
    clean = (NotFound, Conflict)
    try:
        # hold the writer's thread in a first write, queue the rest: they form one group
        started, gate = threading.Event(), threading.Event()
        first = writer.submit(lambda conn: (started.set(), gate.wait(10)))
        assert started.wait(10)

        def duplicate_row(conn: sa.Connection) -> None:
            # a unique violation raised by the database (not a clean refusal)
            now = 1.0
            conn.execute(
                sa.text(
                    "INSERT INTO ratings (layer, fid, account_id, stars, created_at, "
                    "updated_at, hidden) VALUES ('works', :fid, :acc, 2, :t, :t, false)"
                ),
                {"fid": work, "acc": a.account_id, "t": now},
            )

        def half_then_fail(conn: sa.Connection) -> None:
            ratings.react_on(conn, c.account_id, works, work, "dislike")
            raise RuntimeError("failed after writing")

        futures = {
            "a rates": writer.submit(ratings.rate_on, a.account_id, works, work, 5, clean=clean),
            "b likes": writer.submit(ratings.react_on, b.account_id, works, work, "like",
                                     clean=clean),
            "a again (POST)": writer.submit(ratings.rate_on, a.account_id, works, work, 1,
                                            None, True, clean=clean),
            "no such work": writer.submit(ratings.rate_on, b.account_id, works, 999_999, 3,
                                          clean=clean),
            "duplicate row": writer.submit(duplicate_row, clean=clean),
            "half written": writer.submit(half_then_fail, clean=clean),
            "b rates": writer.submit(ratings.rate_on, b.account_id, works, work, 3, clean=clean),
            "b likes again": writer.submit(ratings.react_on, b.account_id, works, work, "like",
                                           clean=clean),
        }  # fmt: skip
        gate.set()
        first.result(10)
        results = {}
        for name, future in futures.items():
            try:
                results[name] = future.result(10)
            except Exception as exc:
                results[name] = exc
        # the gate's group, then the group, committed by its replay with savepoints
        assert (writer.groups, writer.replays) == (2, 1)
        assert results["a rates"][0] is True
        assert isinstance(results["a again (POST)"], Conflict)
        assert isinstance(results["no such work"], NotFound)
        assert isinstance(results["duplicate row"], sa.exc.IntegrityError)
        assert isinstance(results["half written"], RuntimeError)
        assert results["b rates"][1].count == 2
        assert results["b likes again"].likes == 1
        # what committed: a's 5 and b's 3, b's one like; nothing of c, no second row of a
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT account_id, stars FROM ratings ORDER BY account_id")
            ).all()
            reactions = conn.execute(sa.text("SELECT account_id, value FROM reactions")).all()
        assert [tuple(r) for r in rows] == [(a.account_id, 5), (b.account_id, 3)]
        assert [tuple(r) for r in reactions] == [(b.account_id, 1)]
        agg = ratings.aggregate("works", work)
        assert (agg.count, agg.distribution, agg.likes, agg.dislikes) == (
            2, [0, 0, 1, 0, 1], 1, 0,
        )  # fmt: skip
    finally:
        writer.close()
        store.close()


def test_a_cancelled_write_is_not_written_and_the_group_is_still_answered(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A request cancelled while its write waits (``asyncio.wrap_future`` cancels the future)
    writes nothing, and the writes grouped with it are answered: a cancelled future's answer
    raised, which stopped the writer's thread and left the rest of its group waiting forever.
    A group that fails outside any write (here: keys that cannot be sorted) answers every
    write with the error, and the thread goes on committing."""
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Аллея")
        a, b = (sign_up_resident(client, caplog) for _ in range(2))
    store = open_store(store_url)
    works = layers.get("works")
    ratings = Ratings(store)
    writer = GroupWriter(store, max_batch=64, prepare=ratings.prepare_group)
    try:
        started, gate = threading.Event(), threading.Event()
        first = writer.submit(lambda conn: (started.set(), gate.wait(10)))
        assert started.wait(10)
        gave_up = writer.submit(ratings.rate_on, a.account_id, works, work, 2)
        kept = writer.submit(ratings.rate_on, b.account_id, works, work, 4)
        assert gave_up.cancel()
        gate.set()
        first.result(10)
        assert kept.result(10)[1].count == 1
        assert gave_up.cancelled()
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT account_id, stars FROM ratings")).all()
        assert [tuple(r) for r in rows] == [(b.account_id, 4)]

        # keys of two types cannot be sorted: both writes get the TypeError, nothing is lost
        started.clear()
        gate.clear()
        first = writer.submit(lambda conn: (started.set(), gate.wait(10)))
        assert started.wait(10)
        odd = [writer.submit(lambda conn: None, key=k) for k in [(1,), ("x",)]]
        gate.set()
        first.result(10)
        for future in odd:
            with pytest.raises(TypeError):
                future.result(10)
        assert writer.submit(ratings.rate_on, a.account_id, works, work, 3).result(10)[0]
    finally:
        writer.close()
        store.close()


def test_a_second_rating_is_refused_within_one_group(
    store_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """16 POSTs of a first rating by one resident at once, grouped: one 201, the rest 409,
    one row; 16 likes by one resident: one row."""
    monkeypatch.setenv("TWIN_PARTICIPATION_GROUP_WAIT_MS", "20")
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Парк")
        alice = sign_up_resident(client, caplog)
        url = f"/api/participation/works/{work}"
        with ThreadPoolExecutor(16) as pool:
            posts = list(
                pool.map(
                    lambda i: (
                        client.post(
                            f"{url}/rating", json={"stars": 1 + i % 5}, headers=alice.headers
                        ).status_code
                    ),
                    range(16),
                )
            )
            likes = list(
                pool.map(
                    lambda i: (
                        client.put(
                            f"{url}/reaction", json={"reaction": "like"}, headers=alice.headers
                        ).status_code
                    ),
                    range(16),
                )
            )
        assert sorted(posts) == [201] + [409] * 15
        assert likes == [200] * 16
        agg = client.get(url).json()["aggregate"]
        assert agg["count"] == 1 and agg["likes"] == 1
        store = client.app.state.store  # type: ignore[attr-defined]
        assert _count(store, "SELECT count(*) FROM ratings") == 1
        assert _count(store, "SELECT count(*) FROM reactions") == 1


def test_announcements_arrive_in_commit_order(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """12 residents rate one work at once: the stream carries 12 events whose counts are
    1, 2 … 12 in that order (each announces the aggregate its own commit made)."""
    with app_client(store_url, api_keys=KEYS) as client:
        work = add_work(client, "Сквер")
        residents = [sign_up_resident(client, caplog) for _ in range(12)]
        broker = live.current()
        assert broker is not None
        sub = broker.subscribe(["participation.rating"])
        url = f"/api/participation/works/{work}/rating"
        with ThreadPoolExecutor(12) as pool:
            codes = list(
                pool.map(
                    lambda r: client.put(url, json={"stars": 4}, headers=r.headers).status_code,
                    residents,
                )
            )
        assert codes == [201] * 12

        async def twelve() -> list[Any]:
            return [await asyncio.wait_for(sub.next(), 5) for _ in range(12)]

        events = client.portal.call(twelve)  # type: ignore[union-attr]
        sub.close()
        assert [e.data["aggregate"]["count"] for e in events] == list(range(1, 13))
