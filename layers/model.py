"""The vocabulary of the layer catalog: what one city layer is, as plain data.

A layer is data, not code (see docs/architecture.md): its store schema, TileJSON, OGC collection,
MapLibre style and legend are all derived from one :class:`Layer` value.

What the map and the service know about a layer beyond its data is declared here too, once,
and read by everything else (the web map reads it from ``/catalog``):

- the layer panel's groups are :class:`Module` values, listed in panel order in
  :data:`layers.modules.MODULES` (the programme's modules with their titles, then the panel's
  basemap group); a layer sits in the group of its ``module`` unless ``panel_group`` names
  another (``Layer.group``);
- ``default_on``: the layer is switched on when the map's URL names no layers;
- ``clickable``: a click on the layer opens its feature card (the ground the rest stands on,
  such as land use, opens none);
- ``search_priority``: where several layers match a search equally well, the lower number
  ranks first (layers without one rank last);
- ``composite_order``: the layer is one of the layers served together as the style's one
  composite tile source (named ``basemap`` in ``/style.json``), drawn at this position, 0 at
  the bottom. This is not the panel's basemap group: parks, roads or buildings are in the
  composite source but in their own module in the panel;
- ``style_hidden``: ``/style.json`` draws the layer hidden at first, because it covers the
  whole city (choropleths, counts) and a client that draws the style as it is (QGIS, Maputnik)
  would see nothing else. The web map decides by ``default_on`` instead.

How old and how complete each layer's data is, is declared once too, as its ``provenance``
(:class:`Provenance`: who published it, the date it describes, its completeness in words and,
where an independent figure exists, how many objects the city is estimated to have). ``/catalog``
serves it with the measured counts (features stored, of them generated), and every panel that
rests on a layer says so beside its figures (web/src/provenance.js).

Generated values are declared as such on their properties: ``Prop.generated_flag`` names the
boolean property that says a feature's value was generated, ``Prop.generated_from`` the layers
holding generated features that a computed value rests on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["ru", "kk", "en"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")


class Access(StrEnum):
    """Who may see a layer."""

    PUBLIC = "public"
    PLANNER = "planner"


class PropType(StrEnum):
    """The types a layer property can be declared with."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    JSON = "json"


class GeomType(StrEnum):
    """Stored geometry types. Lines and polygons are stored as multi-geometries so a layer
    has exactly one type whatever its sources hold."""

    POINT = "Point"
    LINE = "MultiLineString"
    POLYGON = "MultiPolygon"


@dataclass(frozen=True)
class Titles:
    """A label in the three interface languages."""

    ru: str
    kk: str
    en: str

    def get(self, lang: str) -> str:
        """Return the label in ``lang``, falling back to Russian (the default language)."""
        return str(getattr(self, lang, self.ru))

    def as_dict(self) -> dict[str, str]:
        """Return ``{"ru": …, "kk": …, "en": …}``."""
        return {"ru": self.ru, "kk": self.kk, "en": self.en}


def t(ru: str, kk: str, en: str) -> Titles:
    """Return :class:`Titles`; a short name keeps the catalog readable."""
    return Titles(ru, kk, en)


class Completeness(StrEnum):
    """How much of what the city has a layer's source holds, in words a reader can weigh."""

    #: the whole city as the publisher has it (boundaries, a station network)
    COMPLETE = "complete"
    #: much is there, some is missing
    INCOMPLETE = "incomplete"
    #: a small part of what the city has (the 2012 OpenStreetMap extract)
    SPARSE = "sparse"
    #: estimated by a model, not counted
    MODELLED = "modelled"
    #: real features completed with generated (demo) ones
    PARTLY_GENERATED = "partly_generated"
    #: demo data made by the twin, not the city's
    GENERATED = "generated"


@dataclass(frozen=True)
class Provenance:
    """Where a layer's (or a value's) data come from, how old and how complete they are.

    ``as_of`` is the time the data describe, as an ISO prefix: a day ("2026-04-25"), a month
    ("2012-03") or a year ("2021"); empty when the source states none. ``estimate`` is how
    many such objects the city is estimated to have, by ``estimate_by`` (an independent
    source, never the twin's own generator); with the count stored it gives the measured
    share. ``short`` is the source's short name for a line beside a figure ("OSM").
    """

    short: str
    source: Titles
    as_of: str
    completeness: Completeness
    estimate: int | None = None
    estimate_by: Titles | None = None
    note: Titles | None = None

    @property
    def generated(self) -> bool:
        """Return whether some or all of the data are generated (demo) rather than the city's."""
        return self.completeness in (Completeness.GENERATED, Completeness.PARTLY_GENERATED)

    def summary(self) -> dict[str, Any]:
        """Return a JSON-ready description (served in ``/catalog``)."""
        return {
            "short": self.short,
            "source": self.source.as_dict(),
            "as_of": self.as_of,
            "completeness": self.completeness.value,
            "generated": self.generated,
            "estimate": self.estimate,
            "estimate_by": None if self.estimate_by is None else self.estimate_by.as_dict(),
            "note": None if self.note is None else self.note.as_dict(),
        }


@dataclass(frozen=True)
class Prop:
    """One typed property of a layer.

    ``choices`` restricts a string property to a closed vocabulary (values outside it are
    rejected at load); ``unit`` is shown in feature cards; ``searchable`` marks the
    properties that the search endpoint looks in; ``generated_flag`` and ``generated_from``
    say when the value is generated (see the module's docstring).
    """

    name: str
    type: PropType
    title: Titles
    unit: str | None = None
    choices: tuple[str, ...] | None = None
    searchable: bool = False
    minimum: float | None = None
    maximum: float | None = None
    #: The boolean property of the same layer that is true where this value was generated
    #: rather than measured or surveyed (the feature card marks such values as demo data).
    generated_flag: str | None = None
    #: The layers with generated features that this computed value rests on (empty: it rests
    #: on real data only).
    generated_from: tuple[str, ...] = ()
    #: What each stored code reads as (``layers.vocabulary``): every choice has a label;
    #: an open property (OSM's ``building``) labels the codes known, others show as stored.
    values: Mapping[str, Titles] | None = field(default=None, hash=False, compare=False)
    #: The layers a computed value (a district indicator) is counted from: a panel showing
    #: the value shows their provenance beside it.
    based_on: tuple[str, ...] = ()
    #: Where the value comes from when that is not its layer's source (a district's
    #: population is gov.kz's, its boundary OpenStreetMap's).
    provenance: Provenance | None = None


#: What a ratable layer's tiles carry beyond its declared properties: residents' mean rating
#: (rounded to 2 decimals) and the number of ratings, absent where nobody rated the feature;
#: read from ``rating_aggregates`` (twin.store.triggers), which a rating keeps and whose
#: every change drops the feature's cached tiles.
RATING_PROPS: tuple[Prop, ...] = (
    Prop(
        "rating_mean",
        PropType.FLOAT,
        Titles("Средняя оценка жителей", "Тұрғындардың орташа бағасы", "Residents' mean rating"),
        minimum=1,
        maximum=5,
    ),
    Prop("rating_count", PropType.INT, Titles("Оценок", "Бағалар саны", "Ratings"), minimum=0),
)


@dataclass(frozen=True)
class Temporal:
    """Names of the date properties that place a feature in time (for the time slider), and
    how its state property read at an earlier date.

    A feature holds today's state (a work "done"); at a date before its end it was not yet
    so. ``ended`` are the states a feature reaches on its ``end`` date; at a date before
    that date (or with no end date) such a feature was ``during``. Every other state (planned,
    cancelled, rejected) is shown as it is: the data has no date for it.

    A feature that passes through several dated states (a participatory-budget project:
    application, review, ballot, won, works, done) declares them as ``stages``: (state, date
    property) pairs in the order of the process. At a date the feature is in the latest stage
    whose date property is set and not after the date (a later stage wins a tie), so the time
    slider replays the process; a feature with none of its stage dates set keeps its state.
    """

    start: str
    end: str | None = None
    state: str | None = None
    ended: tuple[str, ...] = ()
    during: str | None = None
    stages: tuple[tuple[str, str], ...] = ()

    def state_at(self, props: Mapping[str, Any], date: str) -> Any:
        """Return the state of a feature with ``props`` at ``date`` ("YYYY-MM-DD").

        >>> w = Temporal("start_date", "end_date", "status", ("done",), "in_progress")
        >>> w.state_at({"status": "done", "end_date": "2024-03-01"}, "2023-06-01")
        'in_progress'
        >>> w.state_at({"status": "done", "end_date": "2023-05-31"}, "2023-06-01")
        'done'
        >>> w.state_at({"status": "cancelled", "end_date": "2024-03-01"}, "2023-06-01")
        'cancelled'
        >>> p = Temporal("applied_on", state="status",
        ...              stages=(("ballot", "ballot_on"), ("lost", "lost_on")))
        >>> p.state_at({"status": "lost", "ballot_on": "2025-05-01", "lost_on": "2025-06-01"},
        ...            "2025-05-20")
        'ballot'
        """
        if self.state is None:
            return None
        now = props.get(self.state)
        if self.stages:
            reached = None
            best = ""
            for stage, prop in self.stages:
                when = props.get(prop)
                if when is not None and best <= str(when)[:10] <= date:
                    reached, best = stage, str(when)[:10]
            return now if reached is None else reached
        if now not in self.ended:
            return now
        end = props.get(self.end) if self.end else None
        if end is not None and str(end)[:10] <= date:
            return now
        return self.during


@dataclass(frozen=True)
class Style:
    """Hints for the generated MapLibre style and legend."""

    kind: Literal["fill", "line", "circle", "fill-extrusion"]
    color: str
    outline: str | None = None
    width: float = 1.0
    radius: float = 4.0
    opacity: float = 0.8
    category_property: str | None = None
    category_colors: dict[str, str] = field(default_factory=dict)
    label_property: str | None = None
    #: A fill coloured by a number (``ramp_property``) along ``ramp``: (value, colour) stops.
    ramp_property: str | None = None
    ramp: tuple[tuple[float, str], ...] = ()
    #: The H3 counts of a point layer (``Layer.h3_below_zoom``) are coloured from the first
    #: colour (one feature) to the second (100 and more); None: the layer's colour. Kept
    #: light and translucent, and drawn below every point layer (tiles/style.py), so that
    #: counts covering the whole city do not hide the rest (issue 15, item 9).
    hexagon_ramp: tuple[str, str] | None = None
    #: Fixed classes of the H3 counts instead of the ramp: (lowest count of the class, colour,
    #: opacity), from low to high. A count has one colour whatever draws it (the tiles, a
    #: filtered answer with far fewer appeals), so two maps can be compared by eye and the
    #: legend states each class's counts (issue 18: a scale stretched to each answer's
    #: largest count made a dark cell mean 200 appeals on one map and 20 on the next).
    hexagon_classes: tuple[tuple[int, str, float], ...] = ()
    #: colour a ratable layer's rated features by residents' mean rating (``rating_mean`` in
    #: its tiles): (lowest mean of the band, colour, legend label), bands from low to high;
    #: features nobody rated keep the colours above
    rating_colors: tuple[tuple[float, str, Titles], ...] = ()


#: Residents' mean-rating bands for ``Style.rating_colors``: red to green, as the city's
#: rating widgets read (the hues differ in lightness too, for colour-blind readers).
RATING_COLORS: tuple[tuple[float, str, Titles], ...] = (
    (1.0, "#c62828", Titles("Оценка жителей 1–2", "Тұрғындар бағасы 1–2", "Residents' rating 1–2")),
    (2.0, "#ef6c00", Titles("Оценка жителей 2–3", "Тұрғындар бағасы 2–3", "Residents' rating 2–3")),
    (3.0, "#fdd835", Titles("Оценка жителей 3–4", "Тұрғындар бағасы 3–4", "Residents' rating 3–4")),
    (4.0, "#2e7d32", Titles("Оценка жителей 4–5", "Тұрғындар бағасы 4–5", "Residents' rating 4–5")),
)


@dataclass(frozen=True)
class Module:
    """A group of the map's layer panel: a module of the city's development programme, or
    the panel's basemap group."""

    id: str
    title: Titles

    def summary(self) -> dict[str, Any]:
        """Return ``{"id": …, "title": {"ru": …, "kk": …, "en": …}}`` (used by ``/catalog``)."""
        return {"id": self.id, "title": self.title.as_dict()}


@dataclass(frozen=True)
class Layer:
    """One city layer of the catalog.

    ``h3_below_zoom``: dense point layers are served as H3 hexagon counts below this zoom.
    ``public_aggregate``: a planner-only point layer whose H3 counts (not its points) are
    public, as for residents' appeals. ``panel_group``, ``default_on``, ``clickable``,
    ``search_priority``, ``composite_order`` and ``style_hidden`` are what the map and the
    service know about the layer (see the module's docstring).
    """

    id: str
    title: Titles
    module: str
    geometry: GeomType
    properties: tuple[Prop, ...]
    style: Style
    access: Access = Access.PUBLIC
    minzoom: int = 0
    maxzoom: int = 16
    source: str = ""
    licence: str = ""
    attribution: str = ""
    description: Titles | None = None
    temporal: Temporal | None = None
    h3_below_zoom: int | None = None
    public_aggregate: bool = False
    simplify: bool = True
    panel_group: str | None = None
    default_on: bool = False
    clickable: bool = True
    search_priority: int | None = None
    composite_order: int | None = None
    style_hidden: bool = False
    #: residents may rate (1–5 stars, a review) and like or dislike its features
    #: (:mod:`twin.participation`); only public layers may be ratable
    ratable: bool = False
    #: How old and how complete the layer's data are (see :class:`Provenance`).
    provenance: Provenance | None = None

    @property
    def group(self) -> str:
        """Return the id of the panel group the layer is shown in (its module by default)."""
        return self.panel_group or self.module

    @property
    def table(self) -> str:
        """Return the store table name (identifiers only ever come from the registry)."""
        return self.id

    def prop(self, name: str) -> Prop:
        """Return the declared property ``name``; raise ``KeyError`` if it is not declared."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def prop_names(self) -> tuple[str, ...]:
        """Return the declared property names in catalog order."""
        return tuple(p.name for p in self.properties)

    def summary(self, lang: str = "ru") -> dict[str, Any]:
        """Return a JSON-ready description of the layer (used by ``/catalog``)."""
        return {
            "id": self.id,
            "title": self.title.as_dict(),
            "module": self.module,
            "group": self.group,
            "default_on": self.default_on,
            "clickable": self.clickable,
            "ratable": self.ratable,
            "geometry": self.geometry.value,
            "access": self.access.value,
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "licence": self.licence,
            "attribution": self.attribution,
            "provenance": None if self.provenance is None else self.provenance.summary(),
            "temporal": None
            if self.temporal is None
            else {
                "start": self.temporal.start,
                "end": self.temporal.end,
                "state": self.temporal.state,
                "ended": list(self.temporal.ended),
                "during": self.temporal.during,
                "stages": [list(s) for s in self.temporal.stages],
            },
            "properties": [
                {
                    "name": p.name,
                    "type": p.type.value,
                    "title": p.title.as_dict(),
                    "unit": p.unit,
                    "choices": list(p.choices) if p.choices else None,
                    "generated_flag": p.generated_flag,
                    "values": {k: v.as_dict() for k, v in p.values.items()} if p.values else None,
                    "based_on": list(p.based_on),
                    "provenance": None if p.provenance is None else p.provenance.summary(),
                }
                for p in self.properties
            ],
            "style": {
                "kind": self.style.kind,
                "color": self.style.color,
                "category_property": self.style.category_property,
                "category_colors": self.style.category_colors,
                "rating_colors": [
                    {"from": low, "color": color, "label": label.as_dict()}
                    for low, color, label in self.style.rating_colors
                ],
                "ramp_property": self.style.ramp_property,
                "ramp": [list(stop) for stop in self.style.ramp],
                "hexagon_ramp": list(self.style.hexagon_ramp) if self.style.hexagon_ramp else None,
            },
        }
