"""What the tile benchmark's servers do per tile, so that its ratios say what they compare.

Below a layer's ``maxzoom`` our tiles leave out features smaller than a few pixels and simplify
the rest (:mod:`tiles.zoom`); tipg draws every feature that meets the tile. A ratio of tiles/s
over all zooms therefore compares different work. This module measures the difference (the
share of the features meeting each tile that each server leaves out, per layer and zoom) and
gives the ratio against tipg per zoom; the benchmark also measures a pass of *equal work*:
tiles at a layer's ``maxzoom``, where ours drops and simplifies nothing, with tipg given our
buffer (see :func:`bench.tiles.city_tiles`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.http_load import Pass
from bench.tile_list import Tile, feature_counts

if TYPE_CHECKING:
    from bench.tiles_report import Run


def _fmt(v: float, spec: str) -> str:
    return "—" if math.isnan(v) else format(v, spec)


def tile_counts(p: Pass) -> dict[int, int]:
    """Return the feature count of each tile index a pass answered well (200 or 204)."""
    return {
        s.index: sum(feature_counts(s.body).values())
        for s in p.samples
        if s.error is None and s.status in (200, 204)
    }


def left_out(
    counts: Mapping[int, int], meeting: Sequence[int], tiles: Sequence[Tile]
) -> dict[tuple[str, int], float]:
    """Return, per (layer, zoom), the share of the features meeting the tiles that a server
    left out: 1 - (features in its tiles) / (features meeting them), over the tiles it
    answered. NaN where no feature meets any of them.

    >>> tiles = [Tile("roads", 10, 0, 0), Tile("roads", 10, 1, 0), Tile("roads", 16, 0, 0)]
    >>> left_out({0: 3, 1: 1, 2: 5}, [4, 4, 5], tiles)
    {('roads', 10): 0.5, ('roads', 16): 0.0}
    """
    got: dict[tuple[str, int], list[int]] = {}
    for i, n in counts.items():
        key = (tiles[i].layer, tiles[i].z)
        acc = got.setdefault(key, [0, 0])
        acc[0] += n
        acc[1] += meeting[i]
    return {k: (1.0 - a / b if b else float("nan")) for k, (a, b) in sorted(got.items())}


def left_out_table(
    passes: Mapping[str, Pass], meeting: Sequence[int], tiles: Sequence[Tile]
) -> tuple[str, dict[str, dict[str, float]]]:
    """Return the table of shares left out (one row per layer and server, one column per
    zoom) and the same as a record ``{server: {"layer zN": share}}``."""
    zooms = sorted({t.z for t in tiles})
    layer_ids = list(dict.fromkeys(t.layer for t in tiles))
    shares = {name: left_out(tile_counts(p), meeting, tiles) for name, p in passes.items()}
    total: dict[tuple[str, int], int] = {}
    for t, n in zip(tiles, meeting, strict=True):
        total[(t.layer, t.z)] = total.get((t.layer, t.z), 0) + n
    head = f"{'features left out, of those meeting the tile':<46}" + "".join(
        f"{f'z{z}':>9}" for z in zooms
    )
    lines = [head, "-" * len(head)]
    for lid in layer_ids:
        cells = "".join(
            f"{total[(lid, z)]:>9,}" if (lid, z) in total else f"{'—':>9}" for z in zooms
        )
        lines.append(f"{f'{lid}: features meeting the tiles':<46}{cells}")
        for name, by_key in shares.items():
            cells = "".join(f"{_fmt(by_key.get((lid, z), math.nan), '.1%'):>9}" for z in zooms)
            lines.append(f"{f'  left out by {name}':<46}{cells}")
    record = {
        name: {f"{lid} z{z}": v for (lid, z), v in by_key.items()}
        for name, by_key in shares.items()
    }
    return "\n".join(lines), record


def mean_ms(p: Pass, tiles: Sequence[Tile], z: int) -> float:
    """Return the mean latency (ms) of a pass over its tiles of zoom ``z`` (NaN if none)."""
    lat = [s.seconds * 1000 for s in p.samples if s.error is None and tiles[s.index].z == z]
    return float(np.mean(lat)) if lat else float("nan")


def zoom_ratios(ours: Pass, peer: Pass, tiles: Sequence[Tile]) -> dict[int, float]:
    """Return, per zoom, the peer's mean latency ÷ ours over the same tiles in the same pass.

    At a fixed concurrency c, tiles/s = c / mean latency (Little's law), so this is the
    ratio of tiles/s each server would reach on that zoom's tiles in this mix, without a pass
    per zoom; > 1: ours is faster.
    """
    zooms = sorted({t.z for t in tiles})
    out = {}
    for z in zooms:
        a, b = mean_ms(ours, tiles, z), mean_ms(peer, tiles, z)
        out[z] = b / a if a and not math.isnan(a) and not math.isnan(b) else float("nan")
    return out


def zoom_ratio_table(
    ours: Mapping[int, Pass],
    peer: Mapping[int, Pass],
    tiles: Sequence[Tile],
    maxzoom: Mapping[str, int],
    labels: tuple[str, str],
) -> tuple[str, dict[int, dict[int, float]]]:
    """Return the per-zoom ratio table (one row per concurrency) and its record
    ``{c: {z: ratio}}``. A zoom is marked ``=`` where every layer sampled there is at or above
    its ``maxzoom`` (ours drops nothing: equal work), else ``<``."""
    zooms = sorted({t.z for t in tiles})
    mark = {z: "=" if all(z >= maxzoom[t.layer] for t in tiles if t.z == z) else "<" for z in zooms}
    ours_name, peer_name = labels
    head = f"{f'{peer_name} ÷ {ours_name}, mean ms by zoom':<46}" + "".join(
        f"{f'z{z}{mark[z]}':>9}" for z in zooms
    )
    lines = [head, "-" * len(head)]
    record: dict[int, dict[int, float]] = {}
    for c in sorted(set(ours) & set(peer)):
        ratios = zoom_ratios(ours[c], peer[c], tiles)
        record[c] = ratios
        for name, p in ((ours_name, ours[c]), (peer_name, peer[c])):
            cells = "".join(f"{_fmt(mean_ms(p, tiles, z), ',.2f'):>9}" for z in zooms)
            lines.append(f"{f'  {name} mean ms, c={c}':<46}{cells}")
        cells = "".join(f"{_fmt(ratios[z], '.2f') + '×':>9}" for z in zooms)
        lines.append(f"{f'  ratio (= tiles/s ratio), c={c}':<46}{cells}")
    lines.append(
        "z…= every layer at or above its maxzoom: ours leaves out and simplifies nothing (equal "
        "work);\nz…< ours leaves out small features (see above). The ratio of the means is the "
        "ratio of tiles/s\nat that concurrency (Little's law); > 1: ours is faster."
    )
    return "\n".join(lines), record


def work_report(
    runs: Mapping[str, Run],
    names: Mapping[str, str],
    tiles: Sequence[Tile],
    equal: Sequence[Tile],
    meeting: Sequence[int],
    meeting_equal: Sequence[int],
    maxzoom: Mapping[str, int],
) -> tuple[str, dict[str, Any]]:
    """Return the report of what each server does per tile (the shares left out per layer and
    zoom, on the main tiles and on the equal-work ones; the ratio against tipg per zoom) and
    the same as a record for the JSON file. ``names`` maps the roles cold/embedded/tipg/
    cold_equal/tipg_equal to run names; a run that is missing is left out."""

    def first(name: str) -> Pass:
        return runs[name].passes[min(runs[name].passes)]  # the counts do not vary by pass

    main = [names[r] for r in ("cold", "embedded", "tipg") if names[r] in runs]
    text, shares = left_out_table({n: first(n) for n in main}, meeting, tiles)
    parts = [text]
    equal_left: dict[str, dict[str, float]] = {}
    for role in ("cold_equal", "tipg_equal"):
        name = names[role]
        if name in runs:
            got = left_out(tile_counts(first(name)), meeting_equal, equal)
            equal_left[name] = {f"{lid} z{z}": v for (lid, z), v in got.items()}
            by_key = ", ".join(f"{k} {v:.1%}" for k, v in equal_left[name].items())
            parts.append(f"  the equal-work tiles: left out by {name}: {by_key}")
    ratios: dict[int, dict[int, float]] = {}
    if names["cold"] in runs and names["tipg"] in runs:
        ratio_text, ratios = zoom_ratio_table(
            runs[names["cold"]].passes,
            runs[names["tipg"]].passes,
            tiles,
            maxzoom,
            ("ours cold", "tipg"),
        )
        parts += ["", ratio_text]
    record = {
        "left_out_share": shares,
        "equal_work_left_out_share": equal_left,
        "tipg_over_ours_mean_by_zoom": ratios,
    }
    return "\n".join(parts), record
