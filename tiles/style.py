"""A MapLibre style (v8) generated from the catalog: our own basemap from our layers, then
every thematic layer the caller may see, each drawn from its ``Layer.style`` hints.

Every style layer carries ``metadata`` naming its catalog layer and module, so the map can
build its layer panel from the style alone. Text labels need glyphs: the style has label
layers only when a ``glyphs`` URL is given (``TWIN_TILES_GLYPHS_URL``), because MapLibre
cannot draw text without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import layers
from layers import GeomType, Layer
from tiles.access import LayerAccess
from tiles.tilejson import tile_url

#: The layers that share the one composite source (``basemap`` in the style), bottom to top:
#: each layer's ``composite_order``. Not the map panel's basemap group (``Layer.group``).
COMPOSITE = layers.composite_ids()
#: The name of the composite source in the style.
COMPOSITE_SOURCE = "basemap"
BACKGROUND = "#f4f1ea"
CENTER = (76.93, 43.25)

_KIND_ORDER = {"fill": 0, "fill-extrusion": 1, "line": 2, "circle": 3}

Json = dict[str, Any]


def _color(layer: Layer) -> Any:
    """Return a colour, or a ``match`` on the category property when the catalog has colours;
    with ``rating_colors``, rated features (``rating_count`` in the tile) take the colour of
    their mean rating's band instead."""
    s = layer.style
    color: Any = s.color
    if s.category_property and s.category_colors:
        pairs = [v for item in s.category_colors.items() for v in item]
        color = ["match", ["get", s.category_property], *pairs, s.color]
    if s.rating_colors:
        (_, first, _), *rest = s.rating_colors
        bands = [v for low, c, _ in rest for v in (low, c)]
        step = ["step", ["get", "rating_mean"], first, *bands]
        color = ["case", [">", ["coalesce", ["get", "rating_count"], 0], 0], step, color]
    return color


def _line_width(layer: Layer, scale: float = 1.0, extra: float = 0.0) -> Any:
    """Return a zoom-interpolated width; categories the catalog colours (the main road
    classes, the main networks) are drawn twice as wide."""
    s = layer.style
    factor: Any = 1
    if s.category_property and s.category_colors:
        factor = ["match", ["get", s.category_property], list(s.category_colors), 2, 1]
    stops: list[Any] = []
    for zoom, k in ((8, 0.4), (12, 1.0), (16, 3.0), (19, 8.0)):
        w = s.width * k * scale
        stops += [zoom, ["+", ["*", w, factor], extra] if extra or factor != 1 else w]
    return ["interpolate", ["exponential", 1.4], ["zoom"], *stops]


def _meta(access: LayerAccess, part: str) -> Json:
    layer = access.layer
    return {
        "twin:layer": layer.id,
        "twin:module": layer.module,
        "twin:title": layer.title.as_dict(),
        "twin:part": part,
        "twin:aggregate": access.aggregate_only,
    }


def _base(access: LayerAccess, source: str, part: str, kind: str) -> Json:
    layer = access.layer
    suffix = "" if part == "features" else f"-{part}"
    visible = not layer.style_hidden
    return {
        "id": f"{layer.id}{suffix}",
        "type": kind,
        "source": source,
        "source-layer": layer.id,
        "minzoom": layer.minzoom,
        "layout": {"visibility": "visible" if visible else "none"},
        "metadata": _meta(access, part),
    }


#: The counts a hexagon's colour runs between (``Style.hexagon_ramp``: one, a hundred and more).
HEXAGON_COUNTS = (1, 100)
#: A hexagon's opacity by its count: light enough that a layer of counts covering the whole
#: city leaves the rest readable (it was 0.15-0.8 in the layer's own colour, and 30,000
#: appeals turned the city orange: issue 15, item 9).
HEXAGON_OPACITY = (1, 0.12, 5, 0.2, 25, 0.3, 100, 0.42)


def _steps(classes: list[tuple[int, Any]]) -> list[Any]:
    """Return a MapLibre ``step`` expression over ``count``: the first class's value below
    the second's lowest count, and so on."""
    expr: list[Any] = ["step", ["get", "count"], classes[0][1]]
    for lo, value in classes[1:]:
        expr += [lo, value]
    return expr


def hexagon_layer(access: LayerAccess, source: str) -> Json:
    """Return the fill layer of a point layer's H3 counts (colour and opacity grow with the
    count); ``metadata["twin:ramp"]`` gives the legend its colours and counts."""
    layer = access.layer
    out = _base(access, source, "hexagons", "fill")
    out["filter"] = ["==", ["geometry-type"], "Polygon"]
    if not access.aggregate_only and layer.h3_below_zoom is not None:
        out["maxzoom"] = layer.h3_below_zoom
    low, high = layer.style.hexagon_ramp or (layer.style.color, layer.style.color)
    out["metadata"]["twin:ramp"] = [[HEXAGON_COUNTS[0], low], [HEXAGON_COUNTS[1], high]]
    classes = layer.style.hexagon_classes
    if classes:
        # fixed classes: a count's colour is the same on every map that draws these hexagons
        out["metadata"]["twin:classes"] = [list(c) for c in classes]
        out["paint"] = {
            "fill-color": _steps([(lo, colour) for lo, colour, _ in classes]),
            "fill-opacity": _steps([(lo, opacity) for lo, _, opacity in classes]),
            "fill-outline-color": "rgba(255,255,255,0.5)",
        }
        return out
    out["paint"] = {
        "fill-color": [
            "interpolate",
            ["linear"],
            ["get", "count"],
            HEXAGON_COUNTS[0],
            low,
            HEXAGON_COUNTS[1],
            high,
        ],
        "fill-opacity": ["interpolate", ["linear"], ["get", "count"], *HEXAGON_OPACITY],
        "fill-outline-color": "rgba(255,255,255,0.5)",
    }
    return out


def _fill_color(layer: Layer) -> Any:
    """Return a fill's colour: a ramp along a number where the catalog declares one."""
    s = layer.style
    if s.ramp_property and s.ramp:
        stops = [v for stop in s.ramp for v in stop]
        return ["interpolate", ["linear"], ["coalesce", ["get", s.ramp_property], 0], *stops]
    return _color(layer)


def feature_layers(access: LayerAccess, source: str) -> list[Json]:
    """Return the style layers that draw ``access``'s features (and hexagons, if any)."""
    layer, s = access.layer, access.layer.style
    if access.aggregate_only:
        return [hexagon_layer(access, source)]
    out: list[Json] = []
    if layer.h3_below_zoom is not None:
        out.append(hexagon_layer(access, source))
    if s.kind == "fill":
        main = _base(access, source, "features", "fill")
        main["paint"] = {"fill-color": _fill_color(layer), "fill-opacity": s.opacity}
        if s.outline:
            main["paint"]["fill-outline-color"] = s.outline
        out.append(main)
    elif s.kind == "fill-extrusion":
        main = _base(access, source, "features", "fill-extrusion")
        main["paint"] = {
            "fill-extrusion-color": _color(layer),
            "fill-extrusion-opacity": s.opacity,
            "fill-extrusion-height": [
                "coalesce",
                ["get", "height"],
                ["*", ["coalesce", ["get", "levels"], 1], 3],
            ],
        }
        out.append(main)
    elif s.kind == "line":
        if s.outline:
            casing = _base(access, source, "casing", "line")
            casing["layout"].update({"line-cap": "round", "line-join": "round"})
            casing["paint"] = {
                "line-color": s.outline,
                "line-width": _line_width(layer, extra=1.5),
                "line-opacity": s.opacity,
            }
            out.append(casing)
        main = _base(access, source, "features", "line")
        main["layout"].update({"line-cap": "round", "line-join": "round"})
        main["paint"] = {
            "line-color": _color(layer),
            "line-width": _line_width(layer),
            "line-opacity": s.opacity,
        }
        out.append(main)
    else:
        main = _base(access, source, "features", "circle")
        main["paint"] = {
            "circle-color": _color(layer),
            "circle-radius": [
                "interpolate",
                ["linear"],
                ["zoom"],
                10,
                s.radius * 0.6,
                16,
                s.radius * 1.6,
            ],
            "circle-opacity": s.opacity,
            "circle-stroke-color": "#ffffff",
            "circle-stroke-width": 1,
        }
        if layer.h3_below_zoom is not None:
            main["minzoom"] = max(layer.minzoom, layer.h3_below_zoom)
            main["filter"] = ["==", ["geometry-type"], "Point"]
        out.append(main)
    return out


def label_layer(access: LayerAccess, source: str, font: str) -> Json | None:
    """Return the symbol layer of ``access``'s ``label_property`` (None if it has none)."""
    layer = access.layer
    prop = layer.style.label_property
    if prop is None or access.aggregate_only:
        return None
    out = _base(access, source, "labels", "symbol")
    on_line = layer.geometry is GeomType.LINE
    out["minzoom"] = max(layer.minzoom, 13 if on_line else 10)
    out["layout"].update(
        {
            "text-field": ["get", prop],
            "text-font": [font],
            "text-size": 12,
            "symbol-placement": "line" if on_line else "point",
        }
    )
    out["paint"] = {"text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.2}
    return out


def _hexagons_below_points(style_layers: list[Json]) -> list[Json]:
    """Return ``style_layers`` with every layer of H3 counts moved just above the last fill,
    so below every line and point: counts cover the city, points are what a reader looks
    for (the residents' appeal counts were drawn above the schools; issue 15, item 9)."""
    hexagons = [sl for sl in style_layers if sl["metadata"].get("twin:part") == "hexagons"]
    rest = [sl for sl in style_layers if sl["metadata"].get("twin:part") != "hexagons"]
    fills = [i for i, sl in enumerate(rest) if sl["type"] in ("fill", "fill-extrusion")]
    cut = fills[-1] + 1 if fills else 0
    return rest[:cut] + hexagons + rest[cut:]


def build_style(
    accesses: Sequence[LayerAccess],
    base_url: str,
    *,
    glyphs_url: str | None = None,
    font: str = "Noto Sans Regular",
    name: str = "Almaty City Twin",
) -> Json:
    """Return the MapLibre style of the layers in ``accesses`` (what one caller may see).

    >>> from tiles.access import LayerAccess
    >>> import layers
    >>> style = build_style([LayerAccess(layers.get("roads"))], "http://x")
    >>> style["sources"]["basemap"]["tiles"], [l["id"] for l in style["layers"]]
    (['http://x/tiles/roads/{z}/{x}/{y}.mvt'], ['background', 'roads-casing', 'roads'])
    """
    by_id = {a.layer.id: a for a in accesses}
    composite = [by_id[i] for i in COMPOSITE if i in by_id]
    thematic = [a for a in accesses if a.layer.id not in COMPOSITE]
    thematic.sort(key=lambda a: 4 if a.aggregate_only else _KIND_ORDER[a.layer.style.kind])

    sources: Json = {}
    drawn: list[tuple[LayerAccess, str]] = []
    if composite:
        sources[COMPOSITE_SOURCE] = _source(composite, base_url)
        drawn += [(a, COMPOSITE_SOURCE) for a in composite]
    for a in thematic:
        sources[a.layer.id] = _source([a], base_url)
        drawn.append((a, a.layer.id))

    style_layers: list[Json] = [
        {
            "id": "background",
            "type": "background",
            "paint": {"background-color": BACKGROUND},
            "metadata": {"twin:part": "background"},
        }
    ]
    drawn_layers = [sl for a, src in drawn for sl in feature_layers(a, src)]
    style_layers += _hexagons_below_points(drawn_layers)
    if glyphs_url:
        for a, src in drawn:
            label = label_layer(a, src, font)
            if label is not None:
                style_layers.append(label)

    style: Json = {
        "version": 8,
        "name": name,
        "center": list(CENTER),
        "zoom": 11,
        "sources": sources,
        "layers": style_layers,
        "metadata": {
            "twin:labels": bool(glyphs_url),
            "twin:modules": list(dict.fromkeys(a.layer.module for a in accesses)),
        },
    }
    if glyphs_url:
        style["glyphs"] = glyphs_url
    return style


def _source(accesses: Sequence[LayerAccess], base_url: str) -> Json:
    return {
        "type": "vector",
        "tiles": [tile_url(base_url, accesses)],
        "minzoom": min(a.layer.minzoom for a in accesses),
        "maxzoom": max(a.layer.maxzoom for a in accesses),
        "attribution": "; ".join(
            dict.fromkeys(a.layer.attribution for a in accesses if a.layer.attribution)
        ),
    }
