"""The layer registry: every city layer by id, in the order the map panel shows them."""

from __future__ import annotations

from layers.city import (
    BUILDINGS,
    BUS_STOPS,
    CITY_BOUNDARY,
    DISTRICTS,
    HEALTH,
    LANDUSE,
    PARKS,
    POIS,
    RAILWAYS,
    ROADS,
    SCHOOLS,
    UTILITY_LINES,
    WATERWAYS,
)
from layers.model import Layer
from layers.programme import BUDGET_PROJECTS, DISTRICT_INDICATORS, WORKS
from layers.sensing import AIR_SENSORS, APPEALS, CAMERAS, POPULATION_GRID

LAYERS: tuple[Layer, ...] = (
    LANDUSE,
    WATERWAYS,
    CITY_BOUNDARY,
    DISTRICTS,
    BUILDINGS,
    ROADS,
    RAILWAYS,
    UTILITY_LINES,
    PARKS,
    POIS,
    HEALTH,
    BUS_STOPS,
    SCHOOLS,
    WORKS,
    BUDGET_PROJECTS,
    DISTRICT_INDICATORS,
    POPULATION_GRID,
    AIR_SENSORS,
    APPEALS,
    CAMERAS,
)

_BY_ID = {layer.id: layer for layer in LAYERS}
if len(_BY_ID) != len(LAYERS):  # pragma: no cover - a catalog editing mistake
    raise RuntimeError("two layers share an id")


class UnknownLayer(KeyError):
    """Raised for a layer id that is not in the catalog."""


def get(layer_id: str) -> Layer:
    """Return the layer ``layer_id``; raise :class:`UnknownLayer` if there is none."""
    try:
        return _BY_ID[layer_id]
    except KeyError:
        raise UnknownLayer(layer_id) from None


def ids() -> tuple[str, ...]:
    """Return every layer id in catalog order."""
    return tuple(_BY_ID)
