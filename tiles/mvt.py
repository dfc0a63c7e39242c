"""A Mapbox Vector Tile (MVT 2.1) encoder over whole arrays of features.

Why hand-written: the ``mapbox-vector-tile`` package builds one protobuf object per feature
and walks every coordinate in Python (about 40 ms for a z14 building tile here). A tile is a
small, fixed protobuf schema (Tile > Layer > Feature/Value), so this module writes the wire
format directly and encodes the geometry commands of a whole layer at once with numpy:
coordinates in, one ``bytes`` out. The spec: https://github.com/mapbox/vector-tile-spec/tree/master/2.1
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from layers import GeomType
from tiles.geometry import Paths
from tiles.grid import EXTENT

POINT, LINESTRING, POLYGON = 1, 2, 3
MVT_KIND = {GeomType.POINT: POINT, GeomType.LINE: LINESTRING, GeomType.POLYGON: POLYGON}

_MOVE_TO_1 = 1 | (1 << 3)
_CLOSE_PATH_1 = 7 | (1 << 3)


def varint(value: int) -> bytes:
    """Return ``value`` (non-negative) as a protobuf varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_array(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the varints of every value (non-negative integers) back to back as uint8, and
    the byte offset where each value starts (plus the total length at the end)."""
    a = np.asarray(values, dtype=np.uint64)
    nbytes = np.ones(len(a), dtype=np.int64)
    for k in range(1, 10):
        nbytes += a >= np.uint64(1 << (7 * k))
    offsets = np.zeros(len(a) + 1, dtype=np.int64)
    np.cumsum(nbytes, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    starts = offsets[:-1]
    for k in range(int(nbytes.max()) if len(a) else 0):
        m = nbytes > k
        group = (a[m] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (nbytes[m] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[m] + k] = (group | more).astype(np.uint8)
    return out, offsets


def varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Return the varints of every value (non-negative integers) written back to back, and
    the byte offset where each value starts (plus the total length at the end)."""
    out, offsets = _varint_array(values)
    return out.tobytes(), offsets


def _scatter(out: np.ndarray, dest: np.ndarray, src: np.ndarray, offsets: np.ndarray) -> None:
    """Copy segment ``i`` of ``src`` (``src[offsets[i]:offsets[i + 1]]``) to ``out[dest[i]:]``."""
    if len(src) == 0:
        return
    lengths = np.diff(offsets)
    out[np.arange(len(src)) + np.repeat(dest - offsets[:-1], lengths)] = src


def _field(tag: int, payload: bytes) -> bytes:
    """Return a length-delimited protobuf field (``tag`` already holds number and wire type)."""
    return bytes((tag,)) + varint(len(payload)) + payload


def _zigzag(v: np.ndarray) -> np.ndarray:
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def geometry_commands(kind: int, paths: Paths, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (commands, feature offsets) for integer tile-coordinate paths of ``n`` features
    (see :func:`tiles.geometry.draw`): feature ``i`` spans
    ``commands[offsets[i]:offsets[i + 1]]``.

    Every feature must have at least one path; rings must be closed, with exteriors of
    positive area (clockwise on screen), lines of at least two distinct points.
    """
    if n == 0:
        return np.empty(0, np.uint64), np.zeros(1, np.int64)
    coords = paths.coords.astype(np.int64)
    offsets = paths.offsets
    ring = kind == POLYGON
    if kind == POINT:
        cmds = np.empty((len(coords), 3), dtype=np.uint64)
        cmds[:, 0] = _MOVE_TO_1
        cmds[:, 1:] = _zigzag(coords)
        return cmds.ravel(), np.arange(0, 3 * n + 1, 3, dtype=np.int64)
    if ring:
        # drop each ring's closing point: MVT closes rings with ClosePath
        last = np.zeros(len(coords), dtype=bool)
        last[offsets[1:] - 1] = True
        coords = coords[~last]
        offsets = offsets - np.arange(len(offsets))
    counts = np.diff(offsets)
    # deltas from the cursor, which starts at (0, 0) for every feature and carries over
    # from one path to the next within a feature
    deltas = np.diff(coords, axis=0, prepend=np.zeros((1, 2), np.int64))
    feature_first_path = np.flatnonzero(np.diff(paths.feature, prepend=-1))
    first_points = offsets[:-1][feature_first_path]
    deltas[first_points] = coords[first_points]

    sizes = 2 * counts + 2 + (1 if ring else 0)
    out_starts = np.concatenate(([0], np.cumsum(sizes)))
    out = np.empty(int(out_starts[-1]), dtype=np.uint64)
    t = np.arange(len(coords)) - np.repeat(offsets[:-1], counts)
    pos = np.repeat(out_starts[:-1], counts) + 1 + 2 * t + (t >= 1)
    zz = _zigzag(deltas)
    out[pos] = zz[:, 0]
    out[pos + 1] = zz[:, 1]
    out[out_starts[:-1]] = _MOVE_TO_1
    out[out_starts[:-1] + 3] = (2 | ((counts - 1) << 3)).astype(np.uint64)
    if ring:
        out[out_starts[1:] - 1] = _CLOSE_PATH_1
    feature_offsets = np.concatenate((out_starts[:-1][feature_first_path], out_starts[-1:]))
    return out, feature_offsets.astype(np.int64)


def _value(v: Any) -> bytes:
    """Return one ``Tile.Value`` message."""
    if isinstance(v, bool | np.bool_):
        return b"\x38" + (b"\x01" if v else b"\x00")
    if isinstance(v, int | np.integer):
        i = int(v)
        if i >= 0:
            return b"\x28" + varint(i)
        return b"\x30" + varint((i << 1) ^ (i >> 63))
    if isinstance(v, float | np.floating):
        return b"\x19" + struct.pack("<d", float(v))
    return _field(0x0A, str(v).encode())


def _values(uniques: np.ndarray) -> bytes:
    """Return the ``Layer.values`` fields of one column's distinct values."""
    if uniques.dtype.kind == "f":
        # doubles, the bulk of numeric columns: 0x22 len=9, 0x19, 8 bytes little-endian
        framed = np.empty((len(uniques), 11), dtype=np.uint8)
        framed[:, :3] = (0x22, 9, 0x19)
        framed[:, 3:] = np.ascontiguousarray(uniques, dtype="<f8").view(np.uint8).reshape(-1, 8)
        return framed.tobytes()
    return b"".join(_field(0x22, _value(u)) for u in uniques)


def encode_layer(
    name: str,
    kind: int,
    ids: np.ndarray,
    commands: np.ndarray,
    offsets: np.ndarray,
    properties: Sequence[tuple[str, Sequence[Any]]] = (),
) -> bytes:
    """Return one MVT layer wrapped as a ``Tile`` message (``b""`` when there is no feature).

    ``ids`` are the feature ids (non-negative), ``commands``/``offsets`` come from
    :func:`geometry_commands`, ``properties`` are ``(key, values)`` columns aligned with ``ids``
    where ``None`` means the feature has no such property. Layers of separately encoded tiles
    can be concatenated: protobuf merges repeated fields, so ``a + b`` is a tile with both.

    >>> import shapely
    >>> from tiles.geometry import paths_of
    >>> from layers import GeomType
    >>> paths = paths_of(shapely.points([[10, 20]]), GeomType.POINT)
    >>> cmds, offs = geometry_commands(POINT, paths, 1)
    >>> len(encode_layer("pois", POINT, np.array([7]), cmds, offs, [("name", ["x"])]))
    39
    """
    n = len(ids)
    if n == 0:
        return b""
    keys: list[bytes] = []
    values: list[bytes] = []
    n_values = 0
    key_cols, value_cols, masks = [], [], []
    for key, column in properties:
        col = np.asarray(column, dtype=object) if not isinstance(column, np.ndarray) else column
        if col.dtype == object:
            is_float = all(type(v) is float for v in col if v is not None)
            if is_float and col.size:
                col = np.array([np.nan if v is None else v for v in col], dtype=float)
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        if len(uniques) == 0:
            continue
        key_cols.append(len(keys))
        keys.append(_field(0x1A, key.encode()))
        value_cols.append(codes + n_values)
        masks.append(codes >= 0)
        values.append(_values(np.asarray(uniques)))
        n_values += len(uniques)

    # tags: (key, value) index pairs of each feature's non-null properties
    if key_cols:
        mask = np.column_stack(masks)
        pairs = np.stack(
            [np.broadcast_to(np.array(key_cols), mask.shape), np.column_stack(value_cols)], axis=2
        )[mask]
        tag_bytes, tag_offsets = _varint_array(pairs.ravel())
        per_feature = np.concatenate(([0], np.cumsum(mask.sum(axis=1) * 2)))
        tag_starts = tag_offsets[per_feature]
    else:
        tag_bytes, tag_starts = np.empty(0, np.uint8), np.zeros(n + 1, np.int64)
    geom_bytes, geom_offsets = _varint_array(commands)
    geom_starts = geom_offsets[offsets]

    # Feature = 0x08 id, [0x12 len tags], 0x18 type, 0x22 len geometry; framed 0x12 len.
    # Lengths first, then every part is scattered into one buffer: no per-feature Python.
    tag_len = np.diff(tag_starts)
    geom_len = np.diff(geom_starts)
    id_var, id_off = _varint_array(np.asarray(ids, dtype=np.uint64))
    has_tags = tag_len > 0
    tl_var, tl_off = _varint_array(tag_len[has_tags])
    gl_var, gl_off = _varint_array(geom_len)
    tl_size = np.zeros(n, np.int64)
    tl_size[has_tags] = np.diff(tl_off)
    body = 1 + np.diff(id_off) + has_tags * (1 + tl_size + tag_len) + 2 + 1 + np.diff(gl_off)
    body += geom_len
    bl_var, bl_off = _varint_array(body)
    total = 1 + np.diff(bl_off) + body
    start = np.concatenate(([0], np.cumsum(total)[:-1]))
    out = np.empty(int(total.sum()), dtype=np.uint8)
    out[start] = 0x12
    _scatter(out, start + 1, bl_var, bl_off)
    p = start + 1 + np.diff(bl_off)
    out[p] = 0x08
    _scatter(out, p + 1, id_var, id_off)
    p = p + 1 + np.diff(id_off)
    out[p[has_tags]] = 0x12
    _scatter(out, p[has_tags] + 1, tl_var, tl_off)
    _scatter(out, p + 1 + tl_size, tag_bytes, tag_starts)
    p = p + has_tags * (1 + tl_size + tag_len)
    out[p] = 0x18
    out[p + 1] = kind
    out[p + 2] = 0x22
    _scatter(out, p + 3, gl_var, gl_off)
    _scatter(out, p + 3 + np.diff(gl_off), geom_bytes, geom_starts)

    layer = b"".join(
        (
            b"\x78\x02",  # version = 2
            _field(0x0A, name.encode()),
            out.tobytes(),
            *keys,
            *values,
            b"\x28" + varint(EXTENT),
        )
    )
    return _field(0x1A, layer)
