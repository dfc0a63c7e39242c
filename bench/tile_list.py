"""The benchmark's tiles: a fixed, seeded sample of web-mercator tiles where a layer has features,
and a skim of an MVT that counts features per layer without decoding geometry."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np

# The city's box (lon/lat); tiles are sampled only from features inside it.
CITY_BBOX = (76.74, 43.03, 77.17, 43.40)


class Tile(NamedTuple):
    """One tile of one layer."""

    layer: str
    z: int
    x: int
    y: int

    def path(self) -> str:
        """Return the tile's path on our server."""
        return f"/tiles/{self.layer}/{self.z}/{self.x}/{self.y}.mvt"


def tile_xy(lon: np.ndarray, lat: np.ndarray, z: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the column and row of the zoom-``z`` web-mercator tiles holding each point."""
    n = 2**z
    lat_r = np.radians(np.clip(lat, -85.0511, 85.0511))
    x = np.floor((lon + 180.0) / 360.0 * n).astype(np.int64)
    y = np.floor((1.0 - np.arcsinh(np.tan(lat_r)) / math.pi) / 2.0 * n).astype(np.int64)
    return np.clip(x, 0, n - 1), np.clip(y, 0, n - 1)


def sample_tiles(
    layer: str,
    lon: np.ndarray,
    lat: np.ndarray,
    zooms: Sequence[int],
    per_zoom: int,
    rng: np.random.Generator,
    *,
    exclude: Collection[Tile] = (),
) -> tuple[list[Tile], list[Tile]]:
    """Return (sample, rest): up to ``per_zoom`` distinct tiles per zoom, drawn without
    replacement with probability proportional to the features each holds (so dense
    tiles, where people look, are likelier), and the tiles with features that were not drawn.
    Tiles in ``exclude`` are neither drawn nor in the rest.

    >>> rng = np.random.default_rng(0)
    >>> lon, lat = np.array([76.9, 76.9, 77.0]), np.array([43.25, 43.25, 43.3])
    >>> sample, rest = sample_tiles("buildings", lon, lat, [10], 5, rng)
    >>> sorted(t.x for t in sample), rest
    ([730, 731], [])
    """
    sample: list[Tile] = []
    rest: list[Tile] = []
    for z in zooms:
        x, y = tile_xy(lon, lat, z)
        keys, counts = np.unique(np.stack([x, y], axis=1), axis=0, return_counts=True)
        if exclude:
            keep = [Tile(layer, z, int(tx), int(ty)) not in exclude for tx, ty in keys.tolist()]
            keys, counts = keys[keep], counts[keep]
        if len(keys) == 0:
            continue
        k = min(per_zoom, len(keys))
        chosen = rng.choice(len(keys), size=k, replace=False, p=counts / counts.sum())
        picked = set(chosen.tolist())
        for i, (tx, ty) in enumerate(keys.tolist()):
            (sample if i in picked else rest).append(Tile(layer, z, int(tx), int(ty)))
    return sample, rest


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """Return (field number, start, end) of the length-delimited fields in buf[start:end]."""
    out = []
    i = start
    while i < end:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            size, i = _varint(buf, i)
            out.append((number, i, i + size))
            i += size
        else:
            raise ValueError(f"not a vector tile: wire type {wire} at byte {i}")
    return out


def feature_counts(mvt: bytes) -> dict[str, int]:
    """Return ``{layer name: feature count}`` of a Mapbox Vector Tile (an empty tile gives {}).

    Only the message framing is read (Tile.layers = 3, Layer.name = 1, Layer.features = 2),
    so it is fast enough to run over every tile of every pass.
    """
    counts: dict[str, int] = {}
    for number, s, e in _fields(mvt, 0, len(mvt)):
        if number != 3:
            continue
        name, n = "", 0
        for f, fs, fe in _fields(mvt, s, e):
            if f == 1:
                name = mvt[fs:fe].decode()
            elif f == 2:
                n += 1
        counts[name] = counts.get(name, 0) + n
    return counts
