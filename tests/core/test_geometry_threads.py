"""Shared geometries are safe in many threads: eight request threads sizing the city scope
at once (the cost estimate of eight city-wide placements) must not crash the process.

Before ``twin.core.geometry`` they prepared the cached city boundary in place and used it at
once: a segmentation fault in 3 runs of 3 (and the server under ``bench.abuse``). The race
runs in a child process, so that a crash fails this test instead of killing the suite."""

from __future__ import annotations

import subprocess
import sys
import textwrap

RACE = textwrap.dedent(
    """
    import dataclasses, sys, threading
    import pyogrio  # noqa: F401  (before SpatiaLite)
    import shapely
    from twin.analyses.coverage.estimate import StreetCells
    from twin.analyses.coverage.scope import Scope
    from twin.store import open_store

    store = open_store(sys.argv[1], create=False)
    cells = StreetCells(store)
    base = cells.city.boundary
    sizes = set()
    for _ in range(int(sys.argv[2])):
        # as the first requests meet it: a boundary nobody has prepared, no cached size
        cells._sizes.clear()
        fresh = shapely.from_wkb(shapely.to_wkb(base))
        cells.city = dataclasses.replace(cells.city, boundary=fresh)
        start = threading.Barrier(8)

        def size():
            start.wait()
            sizes.add(cells.size(Scope()))

        threads = [threading.Thread(target=size) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not shapely.is_prepared(cells.city.boundary)  # the shared one untouched
    print(len(sizes))
    """
)


def test_eight_threads_size_the_city_scope_at_once(almaty_urls: dict[str, str]) -> None:
    # the estimate reads the store once; the race is in memory, the same on either store
    run = subprocess.run(
        [sys.executable, "-c", RACE, almaty_urls["geopackage"], "60"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, (run.returncode, run.stderr[-2000:])
    assert run.stdout.strip() == "1"  # every thread, every round: the same size
