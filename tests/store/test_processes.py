"""The embedded store under several processes (``twin serve --workers N``): SQLite in WAL mode
takes one writer at a time (``BEGIN IMMEDIATE``, a busy timeout) while readers go on, so two
processes writing at once lose nothing. Run on both stores; PostGIS is the control."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import layers
from twin.store import Store

BUILDINGS = layers.get("buildings")
EDITS = 20

# One writer process: waits for the go file, then creates EDITS buildings one transaction
# each (as the feature API does), reading the layer's count between writes.
WRITER = """
import os, sys, time
from pathlib import Path
import pyogrio
import layers
from twin.features import edits
from twin.store import open_store

url, name, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
store = open_store(url, create=False)
buildings = layers.get("buildings")
Path(f"{go}.{name}").touch()  # ready
while not go.exists():
    time.sleep(0.01)
t0 = time.monotonic()
for i in range(int(sys.argv[4])):
    x = 76.8 + 0.002 * i + (0.1 if name == "b" else 0)
    ring = [[x, 43.2], [x + 0.001, 43.2], [x + 0.001, 43.201], [x, 43.201], [x, 43.2]]
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"name": f"{name}{i}"}}
    edits.create(store, buildings, feature)
    store.count(buildings)
store.close()
print(time.monotonic() - t0)
"""


def test_two_processes_writing_at_once_lose_nothing(store: Store, tmp_path: Path) -> None:
    go = tmp_path / "go"
    env = {**os.environ, "SPATIALITE_LIBRARY_PATH": "mod_spatialite"}
    head = store.last_change_id()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, store.url, name, str(go), str(EDITS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.{n}").exists() for n in "ab"):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.05)
    go.touch()  # both start writing together
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]

    frame = store.read_frame(BUILDINGS)
    assert sorted(frame["name"]) == sorted(f"{n}{i}" for n in "ab" for i in range(EDITS))
    # the two wrote at the same time: their rows interleave in commit (fid) order
    writers = "".join(n[0] for n in frame.sort_values("fid")["name"])
    assert "ab" in writers and "ba" in writers.replace("ab", "", 1), writers
    # every write logged its own change, in one unbroken run of ids
    last, changes = store.changes_since(head)
    assert len(changes) == 2 * EDITS and last > head
    assert {layer for layer, _ in changes} == {"buildings"}
