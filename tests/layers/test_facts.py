"""What the map and the service know about each layer, declared once in ``layers/``: panel
groups in order, default-on, clickability, search priority, the composite tile source, the
layers the style hides at first; and the catalog check that refuses an inconsistent catalog."""

from __future__ import annotations

import dataclasses

import layers
from layers import MODULES, Layer, Module, Prop, PropType
from layers.model import t
from layers.registry import check


def test_every_layer_sits_in_a_declared_panel_group() -> None:
    known = [m.id for m in MODULES]
    assert len(set(known)) == len(known)
    for layer in layers.LAYERS:
        assert layer.group in known, layer.id
    # The programme's modules first, the basemap group last.
    assert known[0] == "infrastructure" and known[-1] == "basemap"
    for m in MODULES:
        assert all(m.title.as_dict().values()), m.id


def test_panel_group_defaults_to_the_module() -> None:
    assert layers.get("buildings").group == "infrastructure"
    # The city boundary belongs to infrastructure but is shown with the basemap.
    boundary = layers.get("city_boundary")
    assert boundary.module == "infrastructure" and boundary.group == "basemap"


def test_the_maps_start_and_clicks() -> None:
    on = {la.id for la in layers.LAYERS if la.default_on}
    assert on == {
        "landuse",
        "waterways",
        "city_boundary",
        "districts",
        "buildings",
        "roads",
        "railways",
        "parks",
        "works",
    }
    dead = {la.id for la in layers.LAYERS if not la.clickable}
    assert dead == {"landuse", "city_boundary", "districts", "air_readings"}
    # Nothing planner-only is on for everyone at start.
    assert all(layers.get(i).access is layers.Access.PUBLIC for i in on)


def test_composite_source_is_not_the_panels_basemap_group() -> None:
    composite = layers.composite_ids()
    assert composite == (
        "landuse",
        "parks",
        "waterways",
        "roads",
        "railways",
        "buildings",
        "districts",
        "city_boundary",
    )
    panel_basemap = {la.id for la in layers.LAYERS if la.group == "basemap"}
    assert panel_basemap == {"landuse", "waterways", "city_boundary"}
    assert panel_basemap < set(composite)


def test_search_priority_orders_the_layers_a_resident_most_likely_means() -> None:
    ranked = sorted(
        (la for la in layers.LAYERS if la.search_priority is not None),
        key=lambda la: la.search_priority or 0,
    )
    assert [la.id for la in ranked][:3] == ["districts", "roads", "health"]
    assert len({la.search_priority for la in ranked}) == len(ranked)


def test_style_hidden_layers_cover_the_whole_city() -> None:
    hidden = {la.id for la in layers.LAYERS if la.style_hidden}
    assert hidden == {
        "district_indicators",
        "population_grid",
        "appeals",
        "cameras",
        "air_readings",
    }


def _layer(**kw: object) -> Layer:
    base = layers.get("bus_stops")
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_check_names_every_inconsistency() -> None:
    assert check(layers.LAYERS, MODULES) == []
    modules = (*MODULES, Module("basemap", t("x", "x", "x")))
    assert "two modules share an id" in check(layers.LAYERS, modules)
    bad = (
        _layer(id="a", module="nowhere"),
        _layer(id="b", panel_group="nowhere_either", composite_order=3),
        _layer(id="c", composite_order=3),
        _layer(
            id="d",
            properties=(
                Prop("x", PropType.INT, t("x", "x", "x"), generated_flag="x_generated"),
                Prop("y", PropType.INT, t("y", "y", "y"), generated_from=("no_such_layer",)),
            ),
        ),
        _layer(id="a"),
    )
    problems = check(bad, MODULES)
    assert "two layers share an id" in problems
    assert "a: module 'nowhere' is not in layers.modules.MODULES" in problems
    assert "b: panel_group 'nowhere_either' is not in layers.modules.MODULES" in problems
    assert "c and b share composite_order 3" in problems
    assert "d.x: no flag property 'x_generated'" in problems
    assert "d.y: no layer 'no_such_layer'" in problems
