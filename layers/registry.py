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
from layers.events import CITY_EVENT_AREAS, CITY_EVENT_LINES, CITY_EVENT_POINTS
from layers.model import Layer, Module
from layers.modules import MODULES
from layers.programme import (
    BUDGET_CYCLE_AREAS,
    BUDGET_CYCLE_PROJECTS,
    DISTRICT_INDICATORS,
    WORKS,
)
from layers.seismic import SEISMIC_EXPOSURE, SEISMIC_SITES
from layers.sensing import AIR_READINGS, AIR_SENSORS, APPEALS, CAMERAS, POPULATION_GRID

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
    BUDGET_CYCLE_AREAS,
    BUDGET_CYCLE_PROJECTS,
    DISTRICT_INDICATORS,
    CITY_EVENT_AREAS,
    CITY_EVENT_LINES,
    CITY_EVENT_POINTS,
    POPULATION_GRID,
    AIR_SENSORS,
    AIR_READINGS,
    SEISMIC_SITES,
    SEISMIC_EXPOSURE,
    APPEALS,
    CAMERAS,
)

_BY_ID = {layer.id: layer for layer in LAYERS}


def check(layers: tuple[Layer, ...], modules: tuple[Module, ...]) -> list[str]:
    """Return what is inconsistent in a catalog (empty when nothing is): duplicate ids,
    modules or panel groups that are not declared, two layers at one composite position,
    generated or computed values that name a missing flag or layer,
    layers that do not say where their data come from."""
    problems: list[str] = []
    ids = [layer.id for layer in layers]
    known = {module.id for module in modules}
    if len(set(ids)) != len(ids):
        problems.append("two layers share an id")
    if len(known) != len(modules):
        problems.append("two modules share an id")
    positions: dict[int, str] = {}
    for layer in layers:
        for what, value in (("module", layer.module), ("panel_group", layer.panel_group)):
            if value is not None and value not in known:
                problems.append(f"{layer.id}: {what} {value!r} is not in layers.modules.MODULES")
        if layer.composite_order is not None:
            other = positions.setdefault(layer.composite_order, layer.id)
            if other != layer.id:
                problems.append(
                    f"{layer.id} and {other} share composite_order {layer.composite_order}"
                )
        if layer.provenance is None:
            problems.append(f"{layer.id}: no provenance (layers.provenance)")
        names = set(layer.prop_names)
        for p in layer.properties:
            if p.generated_flag is not None and p.generated_flag not in names:
                problems.append(f"{layer.id}.{p.name}: no flag property {p.generated_flag!r}")
            for source in (*p.generated_from, *p.based_on):
                if source not in ids:
                    problems.append(f"{layer.id}.{p.name}: no layer {source!r}")
            unlabelled = [c for c in p.choices or () if c not in (p.values or {})]
            if unlabelled:
                problems.append(
                    f"{layer.id}.{p.name}: no label for {unlabelled} (layers.vocabulary)"
                )
    return problems


_PROBLEMS = check(LAYERS, MODULES)
if _PROBLEMS:  # pragma: no cover - a catalog editing mistake
    raise RuntimeError("; ".join(_PROBLEMS))


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


def composite_ids() -> tuple[str, ...]:
    """Return the ids of the layers served as the one composite tile source, bottom to top."""
    placed = [layer for layer in LAYERS if layer.composite_order is not None]
    return tuple(layer.id for layer in sorted(placed, key=lambda la: la.composite_order or 0))
