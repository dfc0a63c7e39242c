"""TileJSON 3.0.0 documents, derived from the catalog (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layers import PropType
from tiles.access import LayerAccess
from tiles.cache import Bounds
from tiles.grid import MAX_LAT
from tiles.hexbin import HEX_FIELDS
from tiles.zoom import tile_props

FIELD_TYPES = {
    PropType.STR: "String",
    PropType.INT: "Number",
    PropType.FLOAT: "Number",
    PropType.BOOL: "Boolean",
    PropType.DATE: "String",
    PropType.DATETIME: "String",
    PropType.JSON: "String",
}
WORLD: Bounds = (-180.0, -MAX_LAT, 180.0, MAX_LAT)


def tile_url(base_url: str, accesses: Sequence[LayerAccess]) -> str:
    """Return the XYZ tile URL template of ``accesses`` under ``base_url``."""
    names = ",".join(a.layer.id for a in accesses)
    return f"{base_url.rstrip('/')}/tiles/{names}/{{z}}/{{x}}/{{y}}.mvt"


def vector_layer(access: LayerAccess) -> dict[str, Any]:
    """Return the ``vector_layers`` entry of one layer as its caller sees it."""
    layer = access.layer
    title = layer.title.en
    if access.aggregate_only:
        fields = dict(HEX_FIELDS)
        description = f"{title}: number of features per H3 hexagon (public aggregate)"
    else:
        fields = {p.name: FIELD_TYPES[p.type] for p in tile_props(layer)}
        description = (layer.description.en if layer.description else title) + "."
        if layer.h3_below_zoom is not None:
            fields.update(HEX_FIELDS)
            description += (
                f" Below zoom {layer.h3_below_zoom}: H3 hexagons with count, h3 and resolution."
            )
    return {
        "id": layer.id,
        "fields": fields,
        "description": description,
        "minzoom": layer.minzoom,
        "maxzoom": layer.maxzoom,
        "licence": layer.licence,
    }


def tilejson(
    accesses: Sequence[LayerAccess], base_url: str, bounds: Bounds | None
) -> dict[str, Any]:
    """Return the TileJSON of the layers in ``accesses`` served under ``base_url``.

    ``bounds`` is the data's lon/lat extent (the whole Mercator world when unknown).
    """
    b = bounds or WORLD
    minzoom = min(a.layer.minzoom for a in accesses)
    maxzoom = max(a.layer.maxzoom for a in accesses)
    attribution = "; ".join(
        dict.fromkeys(a.layer.attribution for a in accesses if a.layer.attribution)
    )
    return {
        "tilejson": "3.0.0",
        "name": ", ".join(a.layer.title.en for a in accesses),
        "description": "Almaty City Twin: " + ", ".join(a.layer.id for a in accesses),
        "version": "1.0.0",
        "attribution": attribution,
        "scheme": "xyz",
        "tiles": [tile_url(base_url, accesses)],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [round(v, 6) for v in b],
        "center": [
            round((b[0] + b[2]) / 2, 6),
            round((b[1] + b[3]) / 2, 6),
            max(minzoom, min(12, maxzoom)),
        ],
        "vector_layers": [vector_layer(a) for a in accesses],
    }


def union_bounds(bounds: Sequence[Bounds | None]) -> Bounds | None:
    """Return the box around every known box (None when none is known)."""
    known = [b for b in bounds if b is not None]
    if not known:
        return None
    return (
        min(b[0] for b in known),
        min(b[1] for b in known),
        max(b[2] for b in known),
        max(b[3] for b in known),
    )
