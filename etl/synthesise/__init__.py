"""Seeded generator of the demo data the real Almaty layers lack.

The real data (a 2012 OSM extract, districts, a population grid, hospitals, the akimat's park
projects, air stations with their real readings) has no cameras, appeals, participatory-budget
projects, most schools, accessibility tags, repair works or indicator history. This package
generates them, plausibly, from the real layers: every generated feature has ``synthetic =
True`` (and real features with generated values carry ``accessibility_generated``). Air
readings are no longer generated: the stations carry AirData.kz's real daily means
(:mod:`etl.airdata`).

:func:`generate_all` returns a :class:`Generated`: ``new`` holds the wholly generated layers
(cameras, appeals, schools — additions only —, works — generated only —,
district_indicators), ``enriched`` the real layers with generated values filled in (pois,
health, schools, bus_stops, parks with accessibility), ``budget_cycles`` the past
participatory-budget cycles (written into the budget's tables, not a layer), and
``Generated.layers()`` merges the two per layer id for an upsert by ``source_id``. Each
generator is also a public function taking a :class:`City` (the real layers prepared once).
The function names shadow their modules as package attributes; import module-level helpers
from the module itself (``from etl.synthesise.cameras import intersections``).

Same inputs and same seed give identical output: every generator draws from its own
``numpy.random.default_rng([seed, crc32(name)])`` stream over canonically sorted inputs.
Metric work happens in EPSG:32643; every frame is returned in EPSG:4326 with exactly the
catalog's columns (``source_id``, ``synthetic``, the declared properties, ``geometry``).

>>> from etl.synthesise import generate_all, toy_layers
>>> out = generate_all(toy_layers(), seed=2026)
>>> len(out.new["cameras"]), bool(out.new["cameras"]["synthetic"].all())
(3000, True)
"""

from etl.synthesise.accessibility import fill_accessibility
from etl.synthesise.appeals import appeals
from etl.synthesise.budget import project_pool
from etl.synthesise.cameras import cameras
from etl.synthesise.city import City, MissingLayer
from etl.synthesise.indicators import district_indicators
from etl.synthesise.pipeline import Generated, enrich, generate_all
from etl.synthesise.schools import school_targets, schools
from etl.synthesise.toy import toy_layers
from etl.synthesise.works import works

__all__ = [
    "City",
    "Generated",
    "MissingLayer",
    "appeals",
    "cameras",
    "district_indicators",
    "enrich",
    "fill_accessibility",
    "generate_all",
    "project_pool",
    "school_targets",
    "schools",
    "toy_layers",
    "works",
]
