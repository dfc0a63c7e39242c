"""Layers of the city development programme: works, participatory budget, district indicators."""

from __future__ import annotations

from layers import provenance as prov
from layers import vocabulary as vocab
from layers.common import DEMO_ATTRIBUTION, DISTRICT, OSM_ATTRIBUTION
from layers.model import RATING_COLORS, GeomType, Layer, Prop, PropType, Style, Temporal, t

WORK_STATUSES = ("planned", "in_progress", "done", "cancelled")

WORKS = Layer(
    id="works",
    ratable=True,
    title=t("Работы в районах", "Аудандардағы жұмыстар", "Works by district"),
    module="district_monitoring",
    default_on=True,
    search_priority=9,
    geometry=GeomType.POLYGON,
    properties=(
        Prop("title", PropType.STR, t("Объект", "Нысан", "Title"), searchable=True),
        Prop(
            "kind",
            PropType.STR,
            t("Вид работ", "Жұмыс түрі", "Kind of work"),
            choices=("construction", "repair", "landscaping"),
            values=vocab.WORK_KINDS,
        ),
        Prop(
            "status",
            PropType.STR,
            t("Статус", "Мәртебесі", "Status"),
            choices=WORK_STATUSES,
            values=vocab.pick(vocab.STATES, WORK_STATUSES),
        ),
        Prop("start_date", PropType.DATE, t("Начало", "Басталуы", "Start")),
        Prop("end_date", PropType.DATE, t("Окончание", "Аяқталуы", "End")),
        DISTRICT,
        Prop("budget_kzt", PropType.FLOAT, t("Бюджет", "Бюджеті", "Budget"), unit="KZT", minimum=0),
        Prop("contractor", PropType.STR, t("Подрядчик", "Мердігер", "Contractor")),
    ),
    style=Style(
        kind="fill",
        color="#f9a825",
        outline="#f57f17",
        opacity=0.6,
        category_property="status",
        category_colors={
            "planned": "#90caf9",
            "in_progress": "#f9a825",
            "done": "#66bb6a",
            "cancelled": "#bdbdbd",
        },
        rating_colors=RATING_COLORS,
    ),
    temporal=Temporal("start_date", "end_date", "status", ("done",), "in_progress"),
    source="Almaty akimat GIS portal, park and square improvement projects "
    "(data/almaty/city_projects); repair works generated (synthetic = true)",
    licence="no licence stated by the source; generated part CC0",
    attribution="Akimat of Almaty GIS portal; " + DEMO_ATTRIBUTION,
    provenance=prov.AKIMAT_WORKS,
)

#: The states of a cycle's project, in the order of the process (etl.budget_layer).
BUDGET_PROJECT_STATES = tuple(vocab.BUDGET_PROJECT_STATES)
#: (state, the date property from which the project is in it), in the process's order: the
#: time slider replays a cycle by them (layers.model.Temporal.stages).
BUDGET_STAGE_DATES = (
    ("application", "applied_on"),
    ("review", "review_on"),
    ("rejected", "rejected_on"),
    ("ballot", "ballot_on"),
    ("won", "won_on"),
    ("lost", "lost_on"),
    ("implementation", "works_on"),
    ("done", "done_on"),
)
_STAGE_TITLES = {
    "applied_on": t("Подана заявка", "Өтінім берілді", "Applied on"),
    "review_on": t("Экспертиза с", "Сараптама басталды", "Review from"),
    "rejected_on": t("Отклонён", "Қабылданбады", "Rejected on"),
    "ballot_on": t("В бюллетене с", "Бюллетеньде", "On the ballot from"),
    "won_on": t("Победил", "Жеңді", "Won on"),
    "lost_on": t("Не прошёл", "Өтпеді", "Lost on"),
    "works_on": t("Работы с", "Жұмыстар басталды", "Works from"),
    "done_on": t("Реализован", "Іске асырылды", "Done on"),
}


def _project_props(*, searchable: bool) -> tuple[Prop, ...]:
    """Return a cycle project's properties (the points' and the areas' layers carry the same)."""
    return (
        Prop("title", PropType.STR, t("Проект", "Жоба", "Project"), searchable=searchable),
        Prop(
            "status",
            PropType.STR,
            t("Этап", "Кезең", "Stage"),
            choices=BUDGET_PROJECT_STATES,
            values=vocab.BUDGET_PROJECT_STATES,
        ),
        Prop(
            "category",
            PropType.STR,
            t("Направление", "Бағыты", "Category"),
            choices=tuple(vocab.BUDGET_CATEGORY_IDS),
            values=vocab.BUDGET_CATEGORY_IDS,
        ),
        DISTRICT,
        Prop("year", PropType.INT, t("Год", "Жыл", "Year"), minimum=2000, maximum=2100),
        Prop("cost_kzt", PropType.INT, t("Стоимость", "Құны", "Cost"), unit="KZT", minimum=0),
        Prop("votes", PropType.INT, t("Голоса", "Дауыстар", "Votes"), minimum=0),
        Prop("progress", PropType.INT, t("Готовность", "Дайындығы", "Progress"), unit="%"),
        Prop("description", PropType.STR, t("Описание", "Сипаттама", "Description")),
        Prop("review_reason", PropType.STR, t("Заключение", "Қорытынды", "Review")),
        *(Prop(p, PropType.DATE, _STAGE_TITLES[p]) for _, p in BUDGET_STAGE_DATES),
        Prop("cycle_id", PropType.INT, t("Цикл", "Цикл", "Cycle")),
        Prop("project_id", PropType.INT, t("Номер проекта", "Жоба нөмірі", "Project number")),
    )


#: a project's colour by its status, the same on its point and on its area
BUDGET_STATUS_COLOURS = {
    "application": "#ce93d8",
    "review": "#9575cd",
    "rejected": "#9e9e9e",
    "ballot": "#ab47bc",
    "won": "#1e88e5",
    "lost": "#e57373",
    "implementation": "#f9a825",
    "done": "#43a047",
}
_BUDGET_TEMPORAL = Temporal(
    "applied_on", "done_on", "status", ("done",), "implementation", BUDGET_STAGE_DATES
)


BUDGET_CYCLE_PROJECTS = Layer(
    id="budget_cycle_projects",
    ratable=True,
    title=t(
        "Проекты бюджета участия (циклы)",
        "Қатысу бюджетінің жобалары (циклдар)",
        "Participatory budget: cycles' projects",
    ),
    description=t(
        "Заявки жителей по циклам бюджета участия: этап, итог голосования и ход работ",
        "Қатысу бюджеті циклдарындағы тұрғындар өтінімдері: кезеңі, дауыс беру қорытындысы "
        "және жұмыс барысы",
        "Residents' applications in the budget cycles: their stage, the vote's outcome and "
        "the works",
    ),
    module="participatory_budget",
    search_priority=12,
    geometry=GeomType.POINT,
    properties=_project_props(searchable=True),
    style=Style(
        kind="circle",
        color="#6a1b9a",
        radius=6.0,
        category_property="status",
        category_colors=BUDGET_STATUS_COLOURS,
        rating_colors=RATING_COLORS,
    ),
    minzoom=9,
    temporal=_BUDGET_TEMPORAL,
    source="the participatory-budget cycles of the twin (twin.budget): residents' "
    "applications, staff review and counted ballots; the demo cycles generated "
    "(synthetic = true)",
    licence="CC0-1.0",
    attribution=DEMO_ATTRIBUTION,
    provenance=prov.BUDGET_CYCLES,
)


BUDGET_CYCLE_AREAS = Layer(
    id="budget_cycle_areas",
    title=t(
        "Территории проектов бюджета участия",
        "Қатысу бюджеті жобаларының аумақтары",
        "Participatory budget: project areas",
    ),
    description=t(
        "Участки, которые жители указали для своих проектов (точка проекта — в его центре)",
        "Тұрғындар өз жобаларына көрсеткен аумақтар (жоба нүктесі — оның ортасында)",
        "The areas residents drew for their projects (the project's point is at its centre)",
    ),
    module="participatory_budget",
    geometry=GeomType.POLYGON,
    properties=_project_props(searchable=False),
    style=Style(
        kind="fill",
        color="#6a1b9a",
        outline="#4a148c",
        opacity=0.3,
        category_property="status",
        category_colors=BUDGET_STATUS_COLOURS,
    ),
    minzoom=9,
    simplify=False,
    temporal=_BUDGET_TEMPORAL,
    source="the participatory-budget cycles of the twin (twin.budget): residents' "
    "applications, staff review and counted ballots; the demo cycles generated "
    "(synthetic = true)",
    licence="CC0-1.0",
    attribution=DEMO_ATTRIBUTION,
    provenance=prov.BUDGET_CYCLES,
)

_PER_10K = "per 10,000"
# The latest year's indicators that are computed from layers holding generated features
# (etl/synthesise/indicators.py) declare them in ``generated_from``: most schools and their
# capacities, every appeal and camera, and most works are generated.
# Every earlier year is back-projected (generated), except for the indicators below.
_SCHOOLS = ("schools",)
#: The indicators whose earlier years are real too: a district's area is its boundary's in
#: every year. Every other indicator's earlier years are back-projected from the latest.
REAL_HISTORY = frozenset({"area_km2"})
DISTRICT_INDICATORS = Layer(
    id="district_indicators",
    title=t("Показатели районов", "Аудан көрсеткіштері", "District indicators"),
    module="district_indicators",
    style_hidden=True,
    geometry=GeomType.POLYGON,
    properties=(
        DISTRICT,
        Prop("period", PropType.INT, t("Год", "Жыл", "Year"), minimum=2000, maximum=2100),
        Prop(
            "population",
            PropType.INT,
            t("Население", "Халық саны", "Population"),
            unit="people",
            minimum=0,
            provenance=prov.GOV_KZ_POPULATION,
            based_on=("districts",),
        ),
        Prop(
            "area_km2",
            PropType.FLOAT,
            t("Площадь", "Ауданы", "Area"),
            unit="km²",
            provenance=prov.OSM_2024,
            based_on=("districts",),
        ),
        Prop(
            "density",
            PropType.FLOAT,
            t("Плотность населения", "Халық тығыздығы", "Population density"),
            unit="people/km²",
            provenance=prov.GOV_KZ_POPULATION,
            based_on=("districts",),
        ),
        Prop(
            "buildings",
            PropType.INT,
            t("Здания", "Ғимараттар", "Buildings"),
            based_on=("buildings",),
        ),
        Prop(
            "schools_per_10k",
            PropType.FLOAT,
            t("Школ на 10 тыс.", "10 мыңға мектеп", "Schools per 10,000"),
            unit=_PER_10K,
            generated_from=_SCHOOLS,
            based_on=_SCHOOLS,
        ),
        Prop(
            "school_places_per_1k",
            PropType.FLOAT,
            t(
                "Мест в школах на 1000 жителей",
                "1000 тұрғынға мектеп орны",
                "School places per 1,000 residents",
            ),
            unit="per 1,000",
            generated_from=_SCHOOLS,
            based_on=_SCHOOLS,
        ),
        Prop(
            "clinics_per_10k",
            PropType.FLOAT,
            t("Медорганизаций на 10 тыс.", "10 мыңға медұйым", "Medical facilities per 10,000"),
            unit=_PER_10K,
            based_on=("health",),
        ),
        Prop(
            "bus_stops_per_10k",
            PropType.FLOAT,
            t("Остановок на 10 тыс.", "10 мыңға аялдама", "Bus stops per 10,000"),
            unit=_PER_10K,
            based_on=("bus_stops",),
        ),
        Prop(
            "green_m2_per_capita",
            PropType.FLOAT,
            t("Зелёные зоны на жителя", "Тұрғынға жасыл аймақ", "Green space per resident"),
            unit="m²",
            based_on=("parks",),
        ),
        Prop(
            "appeals_per_10k",
            PropType.FLOAT,
            t("Обращений на 10 тыс.", "10 мыңға өтініш", "Appeals per 10,000"),
            unit=_PER_10K,
            generated_from=("appeals",),
            based_on=("appeals",),
        ),
        Prop(
            "works_done",
            PropType.INT,
            t("Завершённые работы", "Аяқталған жұмыстар", "Works completed"),
            generated_from=("works",),
            based_on=("works",),
        ),
        Prop(
            "budget_projects",
            PropType.INT,
            t("Проекты БНУ", "ХҚБ жобалары", "Participatory projects"),
            # the applications of the year's cycles: the latest year has no generated cycle
            # (staff open it), so its figure rests on no demo data; earlier years do
            based_on=("budget_cycle_projects",),
        ),
        Prop(
            "cameras_per_10k",
            PropType.FLOAT,
            t("Камер на 10 тыс.", "10 мыңға камера", "Cameras per 10,000"),
            unit=_PER_10K,
            generated_from=("cameras",),
            based_on=("cameras",),
        ),
    ),
    style=Style(
        kind="fill", color="#7e57c2", outline="#4527a0", opacity=0.5, label_property="district"
    ),
    maxzoom=14,
    source="computed by Almaty City Twin from the loaded layers and the gov.kz district "
    "populations; history before the latest year generated (synthetic = true)",
    licence="derived from ODbL data: ODbL-1.0",
    attribution=OSM_ATTRIBUTION + "; gov.kz; " + DEMO_ATTRIBUTION,
    provenance=prov.INDICATORS,
)
