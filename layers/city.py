"""Layers of the city's fabric: boundaries, buildings, networks, facilities and green space."""

from __future__ import annotations

from layers import provenance as prov
from layers import vocabulary as vocab
from layers.common import ACCESSIBILITY, ADDRESS, DISTRICT, NAME, OSM_ATTRIBUTION, OSM_LICENCE
from layers.model import GeomType, Layer, Prop, PropType, Style, t

OSM_2012 = "OpenStreetMap extract of Almaty, 2012-03 (data/almaty/osm)"
OSM_2024 = "OpenStreetMap boundaries of Almaty, exported 2024-11 (data/almaty/boundaries)"

DISTRICTS = Layer(
    id="districts",
    title=t("Районы", "Аудандар", "Districts"),
    module="district_indicators",
    default_on=True,
    clickable=False,
    search_priority=1,
    composite_order=6,
    geometry=GeomType.POLYGON,
    properties=(
        NAME,
        Prop(
            "name_ru",
            PropType.STR,
            t("Название (рус.)", "Атауы (орыс.)", "Name (Russian)"),
            searchable=True,
        ),
        Prop(
            "name_kk",
            PropType.STR,
            t("Название (каз.)", "Атауы (қаз.)", "Name (Kazakh)"),
            searchable=True,
        ),
        Prop("osm_id", PropType.INT, t("OSM-отношение", "OSM қатынасы", "OSM relation")),
        Prop(
            "population",
            PropType.INT,
            t("Население", "Халық саны", "Population"),
            unit="people",
            minimum=0,
            provenance=prov.GOV_KZ_POPULATION,
        ),
        Prop("area_km2", PropType.FLOAT, t("Площадь", "Ауданы", "Area"), unit="km²", minimum=0),
    ),
    style=Style(kind="line", color="#5b4b8a", width=2.0, opacity=0.9, label_property="name"),
    maxzoom=14,
    source=OSM_2024,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2024,
)

CITY_BOUNDARY = Layer(
    id="city_boundary",
    title=t("Граница города", "Қала шекарасы", "City boundary"),
    module="infrastructure",
    panel_group="basemap",
    default_on=True,
    clickable=False,
    composite_order=7,
    geometry=GeomType.POLYGON,
    properties=(
        NAME,
        Prop("osm_id", PropType.INT, t("OSM-отношение", "OSM қатынасы", "OSM relation")),
    ),
    style=Style(kind="line", color="#222222", width=2.5, opacity=0.9),
    maxzoom=12,
    source=OSM_2024,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2024,
)

BUILDINGS = Layer(
    id="buildings",
    title=t("Здания", "Ғимараттар", "Buildings"),
    module="infrastructure",
    default_on=True,
    search_priority=10,
    composite_order=5,
    geometry=GeomType.POLYGON,
    properties=(
        NAME,
        Prop(
            "building",
            PropType.STR,
            t("Тип здания", "Ғимарат түрі", "Building type"),
            values=vocab.BUILDING_TYPES,
        ),
        Prop(
            "levels", PropType.INT, t("Этажность", "Қабат саны", "Levels"), minimum=0, maximum=200
        ),
        Prop(
            "height",
            PropType.FLOAT,
            t("Высота", "Биіктігі", "Height"),
            unit="m",
            minimum=0,
            maximum=1000,
        ),
        Prop("street", PropType.STR, t("Улица", "Көше", "Street"), searchable=True),
        Prop("housenumber", PropType.STR, t("Номер дома", "Үй нөмірі", "House number")),
        ADDRESS,
        Prop(
            "use",
            PropType.STR,
            t("Назначение", "Мақсаты", "Use"),
            choices=("residential", "public", "commercial", "industrial", "other"),
            values=vocab.BUILDING_USES,
        ),
    ),
    style=Style(kind="fill", color="#c9b8a6", outline="#9c8b7a", opacity=0.85),
    minzoom=12,
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012_BUILDINGS,
)

#: Main roads: where a city puts traffic cameras and where repair budgets go first.
MAIN_ROADS = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
)
#: Roads vehicles use; footways, paths and steps are not "streets" for works or cameras.
CARRIAGEWAYS = (*MAIN_ROADS, "unclassified", "residential", "living_street", "service", "road")
#: Every road class the layer keeps (OSM ``highway`` values; anything else is "other").
ROAD_CLASSES = (
    *MAIN_ROADS,
    "unclassified",
    "residential",
    "living_street",
    "service",
    "pedestrian",
    "footway",
    "path",
    "cycleway",
    "steps",
    "track",
    "road",
    "other",
)

ROADS = Layer(
    id="roads",
    title=t("Улицы и дороги", "Көшелер мен жолдар", "Streets and roads"),
    module="communications",
    default_on=True,
    search_priority=2,
    composite_order=3,
    geometry=GeomType.LINE,
    properties=(
        NAME,
        Prop(
            "highway",
            PropType.STR,
            t("Класс дороги", "Жол класы", "Road class"),
            choices=ROAD_CLASSES,
            values=vocab.ROAD_CLASSES,
        ),
        Prop("oneway", PropType.BOOL, t("Одностороннее", "Бір бағытты", "One-way")),
        Prop("lanes", PropType.INT, t("Полосы", "Жолақтар", "Lanes"), minimum=0, maximum=20),
        Prop(
            "maxspeed",
            PropType.INT,
            t("Ограничение скорости", "Жылдамдық шегі", "Speed limit"),
            unit="km/h",
            minimum=0,
            maximum=200,
        ),
        Prop("surface", PropType.STR, t("Покрытие", "Жабыны", "Surface"), values=vocab.SURFACES),
        Prop("bridge", PropType.BOOL, t("Мост", "Көпір", "Bridge")),
        Prop("tunnel", PropType.BOOL, t("Тоннель", "Туннель", "Tunnel")),
    ),
    style=Style(
        kind="line",
        color="#ffffff",
        outline="#b0b0b0",
        width=1.5,
        opacity=1.0,
        category_property="highway",
        category_colors={
            "motorway": "#e892a2",
            "trunk": "#f9b29c",
            "primary": "#fcd6a4",
            "secondary": "#f7fabf",
            "tertiary": "#ffffff",
        },
        label_property="name",
    ),
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

UTILITY_LINES = Layer(
    id="utility_lines",
    title=t("Инженерные сети", "Инженерлік желілер", "Utility lines"),
    module="communications",
    geometry=GeomType.LINE,
    properties=(
        NAME,
        Prop(
            "kind",
            PropType.STR,
            t("Вид сети", "Желі түрі", "Network"),
            choices=("power", "water", "heat", "gas", "sewer", "telecom", "other"),
            values=vocab.UTILITY_KINDS,
        ),
        Prop("operator", PropType.STR, t("Оператор", "Оператор", "Operator")),
        Prop("voltage", PropType.INT, t("Напряжение", "Кернеу", "Voltage"), unit="V", minimum=0),
        Prop(
            "diameter_mm", PropType.INT, t("Диаметр", "Диаметрі", "Diameter"), unit="mm", minimum=0
        ),
    ),
    style=Style(
        kind="line",
        color="#d4453c",
        width=1.2,
        category_property="kind",
        category_colors={
            "power": "#d4453c",
            "water": "#2b7bb9",
            "heat": "#e58a1f",
            "gas": "#e5c21f",
        },
    ),
    minzoom=10,
    source=OSM_2012 + " (power lines where mapped)",
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

POIS = Layer(
    id="pois",
    title=t("Объекты города", "Қала нысандары", "Points of interest"),
    module="infrastructure",
    search_priority=5,
    geometry=GeomType.POINT,
    properties=(
        NAME,
        Prop(
            "category",
            PropType.STR,
            t("Категория", "Санат", "Category"),
            searchable=True,
            values=vocab.POI_CATEGORIES,
        ),
        Prop(
            "kind",
            PropType.STR,
            t("Группа", "Топ", "Group"),
            choices=("amenity", "shop", "tourism", "leisure", "other"),
            values=vocab.POI_KINDS,
        ),
        ADDRESS,
        Prop("opening_hours", PropType.STR, t("Часы работы", "Жұмыс уақыты", "Opening hours")),
        Prop("operator", PropType.STR, t("Оператор", "Оператор", "Operator")),
        *ACCESSIBILITY,
    ),
    style=Style(
        kind="circle",
        color="#8a5a9e",
        radius=4.0,
        category_property="kind",
        category_colors={
            "amenity": "#8a5a9e",
            "shop": "#c46b2d",
            "tourism": "#2d8ac4",
            "leisure": "#3c9d4e",
        },
        hexagon_ramp=("#ece3f0", "#8a5a9e"),
    ),
    minzoom=11,
    h3_below_zoom=13,
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

SCHOOLS = Layer(
    id="schools",
    ratable=True,
    title=t("Школы и детские сады", "Мектептер мен балабақшалар", "Schools and kindergartens"),
    module="education",
    search_priority=4,
    geometry=GeomType.POINT,
    properties=(
        NAME,
        Prop(
            "kind",
            PropType.STR,
            t("Тип", "Түрі", "Type"),
            choices=("school", "kindergarten"),
            values=vocab.SCHOOL_KINDS,
        ),
        Prop(
            "capacity",
            PropType.INT,
            t("Проектная мощность", "Жобалық қуаты", "Capacity"),
            unit="places",
            minimum=0,
        ),
        Prop(
            "enrolled",
            PropType.INT,
            t("Контингент", "Контингент", "Enrolled"),
            unit="children",
            minimum=0,
        ),
        Prop(
            "language",
            PropType.STR,
            t("Язык обучения", "Оқыту тілі", "Language of instruction"),
            values=vocab.LANGUAGES,
        ),
        ADDRESS,
        DISTRICT,
        *ACCESSIBILITY,
    ),
    style=Style(
        kind="circle",
        color="#2f7d32",
        radius=5.0,
        category_property="kind",
        category_colors={"school": "#2f7d32", "kindergarten": "#8bc34a"},
    ),
    minzoom=10,
    source=OSM_2012 + "; completed with generated schools (synthetic = true)",
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012_SCHOOLS,
)

HEALTH = Layer(
    id="health",
    ratable=True,
    title=t("Больницы и поликлиники", "Ауруханалар мен емханалар", "Hospitals and clinics"),
    module="infrastructure",
    search_priority=3,
    geometry=GeomType.POINT,
    properties=(
        NAME,
        Prop(
            "kind",
            PropType.STR,
            t("Тип", "Түрі", "Type"),
            choices=("hospital", "clinic", "other"),
            values=vocab.HEALTH_KINDS,
        ),
        Prop("beds", PropType.INT, t("Койки", "Төсек-орын", "Beds"), minimum=0),
        Prop(
            "emergency_visits",
            PropType.INT,
            t("Экстренные обращения", "Шұғыл өтініштер", "Emergency visits"),
            minimum=0,
        ),
        Prop(
            "hospitalised",
            PropType.INT,
            t("Госпитализировано", "Ауруханаға жатқызылды", "Hospitalised"),
            minimum=0,
        ),
        Prop(
            "ownership",
            PropType.STR,
            t("Форма собственности", "Меншік нысаны", "Ownership"),
            values=vocab.OWNERSHIP,
        ),
        ADDRESS,
        DISTRICT,
        *ACCESSIBILITY,
    ),
    style=Style(kind="circle", color="#d32f2f", radius=5.0),
    minzoom=9,
    source="DoZhD1k/almaty-health (medical organisations, beds) and OSM 2012",
    licence="no licence stated by the source; OSM part ODbL-1.0",
    attribution="almaty-health open data; " + OSM_ATTRIBUTION,
    provenance=prov.HEALTH,
)

BUS_STOPS = Layer(
    id="bus_stops",
    ratable=True,
    title=t("Остановки", "Аялдамалар", "Bus stops"),
    module="communications",
    search_priority=11,
    geometry=GeomType.POINT,
    properties=(
        NAME,
        Prop("shelter", PropType.BOOL, t("Павильон", "Павильон", "Shelter")),
        *ACCESSIBILITY,
    ),
    style=Style(kind="circle", color="#1565c0", radius=3.5),
    minzoom=12,
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

PARKS = Layer(
    id="parks",
    ratable=True,
    title=t("Парки и скверы", "Саябақтар мен скверлер", "Parks and green space"),
    module="infrastructure",
    default_on=True,
    search_priority=6,
    composite_order=1,
    geometry=GeomType.POLYGON,
    properties=(
        NAME,
        Prop("kind", PropType.STR, t("Тип", "Түрі", "Type"), values=vocab.PARK_KINDS),
        Prop("area_ha", PropType.FLOAT, t("Площадь", "Ауданы", "Area"), unit="ha", minimum=0),
        *ACCESSIBILITY,
    ),
    style=Style(
        kind="fill", color="#a5d6a7", outline="#66bb6a", opacity=0.7, label_property="name"
    ),
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

LANDUSE = Layer(
    id="landuse",
    title=t("Землепользование", "Жер пайдалану", "Land use"),
    module="basemap",
    default_on=True,
    clickable=False,
    composite_order=0,
    geometry=GeomType.POLYGON,
    properties=(NAME, Prop("kind", PropType.STR, t("Тип", "Түрі", "Type"))),
    style=Style(
        kind="fill",
        color="#ece7e0",
        opacity=0.6,
        category_property="kind",
        category_colors={
            "forest": "#cfe3c3",
            "grass": "#dcedc8",
            "residential": "#eeeae4",
            "industrial": "#e6dbe3",
        },
    ),
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)


WATERWAYS = Layer(
    id="waterways",
    title=t("Реки и каналы", "Өзендер мен арналар", "Rivers and canals"),
    module="basemap",
    default_on=True,
    composite_order=2,
    geometry=GeomType.LINE,
    properties=(
        NAME,
        Prop(
            "kind",
            PropType.STR,
            t("Тип", "Түрі", "Type"),
            choices=("river", "canal", "stream", "drain", "other"),
            values=vocab.WATERWAY_KINDS,
        ),
    ),
    style=Style(kind="line", color="#6fa8dc", width=2.0, opacity=1.0, label_property="name"),
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)

RAILWAYS = Layer(
    id="railways",
    title=t("Железные дороги и трамвай", "Темір жолдар мен трамвай", "Railways and tram"),
    module="communications",
    default_on=True,
    composite_order=4,
    geometry=GeomType.LINE,
    properties=(
        NAME,
        Prop(
            "kind",
            PropType.STR,
            t("Тип", "Түрі", "Type"),
            choices=("rail", "tram", "other"),
            values=vocab.RAILWAY_KINDS,
        ),
        Prop(
            "electrified", PropType.BOOL, t("Электрифицирована", "Электрлендірілген", "Electrified")
        ),
    ),
    style=Style(kind="line", color="#707070", width=1.5, opacity=1.0),
    minzoom=8,
    source=OSM_2012,
    licence=OSM_LICENCE,
    attribution=OSM_ATTRIBUTION,
    provenance=prov.OSM_2012,
)
