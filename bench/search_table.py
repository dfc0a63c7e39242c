"""The search table's hit rate: how many of tests/api/search_table.csv's queries (Russian word
forms, Kazakh, Latin, typos, kinds of places, addresses, names) find the expected place
first, in all and by kind, on a store with the bundled Almaty data.

    uv run python bench/search_table.py gpkg:///path/almaty.gpkg [other_search.py]

With a second argument, that file's ``search`` (an older twin/search.py) is measured too,
side by side: the figures before and after a change.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parents[1] / "tests" / "api" / "search_table.csv"


def rows() -> list[dict[str, str]]:
    """Return the table's rows (comment lines left out)."""
    with TABLE.open(encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def hit(row: dict[str, str], first: Any) -> bool:
    """Return whether ``first`` (a SearchHit or None) is what ``row`` expects."""
    if first is None or first.layer != row["layer"]:
        return False
    want = row["label"]
    if not want:
        return True
    return want[1:] in first.label if want.startswith("~") else first.label == want


def measure(search: Any, store: Any, layers: Any) -> tuple[dict[str, list[int]], float]:
    """Return {kind: [hits, queries]} and the mean milliseconds per query."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    search(store, "warm", layers, limit=1)
    t = time.perf_counter()
    table = rows()
    for row in table:
        hits = search(store, row["query"], layers, limit=5)
        ok = hit(row, hits[0] if hits else None)
        out[row["kind"]][0] += ok
        out[row["kind"]][1] += 1
    return dict(out), (time.perf_counter() - t) * 1000 / len(table)


def main() -> None:
    from twin.core.access import Role, visible_layers
    from twin.search import search
    from twin.store import open_store

    store = open_store(sys.argv[1])
    layers = visible_layers(Role.ANONYMOUS)
    runs = {"now": search}
    if len(sys.argv) > 2:
        spec = importlib.util.spec_from_file_location("other_search", sys.argv[2])
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["other_search"] = module
        spec.loader.exec_module(module)
        runs = {"other": module.search, **runs}
    for name, fn in runs.items():
        by_kind, ms = measure(fn, store, layers)
        total = [sum(v[0] for v in by_kind.values()), sum(v[1] for v in by_kind.values())]
        kinds = ", ".join(f"{k} {h}/{n}" for k, (h, n) in by_kind.items())
        print(f"{name}: {total[0]}/{total[1]} first results right ({kinds}); {ms:.1f} ms/query")


if __name__ == "__main__":
    main()
