"""City events (issue 19) in the catalog: one layer per geometry kind — the areas (outages,
emergencies), the lines (closed roads) and the points of the same events.

Why three layers and not one layer of any geometry: everything the catalog derives from a
layer is derived per geometry kind — the store's typed geometry column (PostGIS
``geometry(MultiPolygon)``, the GeoPackage's declared type), the tile pipeline's
simplification and size rules (``tiles.zoom``, ``tiles.geometry``), the OGC collection's
``geometryType``, the MapLibre style's one draw kind per layer (fill, line or circle) and its
legend swatch, search's anchor (a line's midpoint, an area's inner point). A generic kind
would have to be taught to each of them, and each would then branch per feature; three
declared layers get all of it unchanged, and a client that wants every event asks the three
collections (or ``/api/city-events``, which still answers with all of them at once).

The events domain (:mod:`twin.events`) keeps its own record — versions, updates, the staff
note — in ``city_events``, and writes the public face of every event into these layers in the
same transaction as each post, change or file load (source ``city_events``, one feature per
event, id ``source_id`` = the event id). Those writes go through the store's ordinary load,
so the change log moves: cached tiles under the event drop and search re-reads the layer.
The staff note and author are never copied here; the layers are public.

Times are UTC ISO text (``2026-07-14T03:00:00Z``) like every ``datetime`` property; the time
slider reads their date part.
"""

from __future__ import annotations

from layers import provenance as prov
from layers import vocabulary as vocab
from layers.model import GeomType, Layer, Prop, PropType, Style, Temporal, t

EVENT_KINDS: tuple[str, ...] = tuple(vocab.EVENT_KINDS)
EVENT_SEVERITIES: tuple[str, ...] = tuple(vocab.EVENT_SEVERITIES)
EVENT_STATUSES: tuple[str, ...] = tuple(vocab.EVENT_STATUSES)
#: The colour of each kind (the map's events list uses the same).
EVENT_COLOURS = {
    "emergency": "#c62828",
    "outage_electricity": "#e69500",
    "outage_water": "#1f78b4",
    "outage_heating": "#d95f02",
    "outage_gas": "#8c510a",
    "road_closure": "#b2182b",
    "planned_works": "#6a3d9a",
}
EVENTS_SOURCE = (
    "city events of the twin: staff posts through /api/city-events and the planned outages "
    "of АО «Алатау Жарық Компаниясы» (data/almaty/events)"
)
EVENTS_LICENCE = (
    "staff posts: CC0-1.0; AZhK schedule: public information of azhk.kz, areas derived from "
    "OpenStreetMap (ODbL) — each event names its own source and licence"
)

_PROPS = (
    Prop("event_id", PropType.INT, t("Номер события", "Оқиға нөмірі", "Event number")),
    Prop(
        "kind",
        PropType.STR,
        t("Вид", "Түрі", "Kind"),
        choices=EVENT_KINDS,
        values=vocab.EVENT_KINDS,
    ),
    Prop(
        "severity",
        PropType.STR,
        t("Серьёзность", "Маңыздылығы", "Severity"),
        choices=EVENT_SEVERITIES,
        values=vocab.EVENT_SEVERITIES,
    ),
    Prop(
        "status",
        PropType.STR,
        t("Статус", "Мәртебесі", "Status"),
        choices=EVENT_STATUSES,
        values=vocab.EVENT_STATUSES,
    ),
    Prop("title", PropType.STR, t("Заголовок", "Тақырып", "Title"), searchable=True),
    Prop("address", PropType.STR, t("Адрес", "Мекенжай", "Address"), searchable=True),
    Prop("description", PropType.STR, t("Описание", "Сипаттама", "Description")),
    Prop("starts_at", PropType.DATETIME, t("Начало", "Басталуы", "Starts")),
    Prop("ends_at", PropType.DATETIME, t("Окончание", "Аяқталуы", "Ends")),
    Prop(
        "provider",
        PropType.STR,
        t("Источник", "Дереккөз", "Source"),
        values=vocab.EVENT_PROVIDERS,
    ),
    Prop("source_url", PropType.STR, t("Ссылка на источник", "Дереккөз сілтемесі", "Source link")),
)
#: resolved events were going on until their end; planned and cancelled ones show as they are
_TEMPORAL = Temporal("starts_at", "ends_at", "status", ("resolved",), "active")


def _layer(
    layer_id: str, geometry: GeomType, title: tuple[str, str, str], style: Style, priority: int
) -> Layer:
    return Layer(
        id=layer_id,
        title=t(*title),
        module="city_events",
        geometry=geometry,
        properties=_PROPS,
        style=style,
        minzoom=9,
        temporal=_TEMPORAL,
        search_priority=priority,
        simplify=geometry is not GeomType.POINT,
        source=EVENTS_SOURCE,
        licence=EVENTS_LICENCE,
        attribution="© АО «Алатау Жарық Компаниясы»; © OpenStreetMap contributors",
        provenance=prov.CITY_EVENTS,
    )


CITY_EVENT_AREAS = _layer(
    "city_event_areas",
    GeomType.POLYGON,
    ("События: территории", "Оқиғалар: аумақтар", "City events: areas"),
    Style(
        kind="fill",
        color="#e69500",
        outline="#8c510a",
        opacity=0.35,
        category_property="kind",
        category_colors=EVENT_COLOURS,
    ),
    60,
)
CITY_EVENT_LINES = _layer(
    "city_event_lines",
    GeomType.LINE,
    ("События: улицы", "Оқиғалар: көшелер", "City events: streets"),
    Style(
        kind="line",
        color="#b2182b",
        width=4.0,
        category_property="kind",
        category_colors=EVENT_COLOURS,
    ),
    61,
)
CITY_EVENT_POINTS = _layer(
    "city_event_points",
    GeomType.POINT,
    ("События: точки", "Оқиғалар: нүктелер", "City events: points"),
    Style(
        kind="circle",
        color="#c62828",
        radius=6.0,
        category_property="kind",
        category_colors=EVENT_COLOURS,
    ),
    62,
)
#: the event layers by the geometry kind they hold
EVENT_LAYERS = {
    GeomType.POLYGON: CITY_EVENT_AREAS,
    GeomType.LINE: CITY_EVENT_LINES,
    GeomType.POINT: CITY_EVENT_POINTS,
}
