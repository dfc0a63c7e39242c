"""The Open Almaty appeal catalog as data: each category with the city service that answers it,
its deadline, and whether it is *sensitive* (its appeals are shown to the public only as
aggregated counts, never as points).

It lives in ``layers`` rather than in ``twin.appeals`` because three floors read it: the
``appeals`` layer declares its ``category``/``service``/``status`` choices from it, the demo
generator (``etl.synthesise.appeals``) assigns services and deadlines from it, and the domain
(``twin.appeals``) serves it as the Open311 service list. ``layers`` imports nothing of ours,
so this is the one place all three may import.

Services are the akimat's departments and city enterprises that Open Almaty routes appeals
to (names as the akimat publishes them). Deadlines: the Administrative Procedure Code of
Kazakhstan gives 15 working days for an appeal (about 21 calendar days); snow clearing and
water outages are handled as urgent (3 and 5 days). Sensitive: health care (an appeal names a
patient's clinic and ailment) and noise (almost always about a named neighbour's flat).
"""

from __future__ import annotations

from dataclasses import dataclass

from layers.model import Titles, t


@dataclass(frozen=True)
class CityService:
    """A city service (department or city enterprise) that answers appeals."""

    code: str
    title: Titles


@dataclass(frozen=True)
class AppealCategory:
    """An appeal category: the Open311 ``service_code`` residents file under."""

    code: str
    title: Titles
    #: the code of the :class:`CityService` responsible
    service: str
    #: calendar days from filing to the answer the law requires
    deadline_days: int
    #: appeals of this category are public only as aggregated counts (no point, no text)
    sensitive: bool = False
    keywords: tuple[str, ...] = ()


SERVICES: tuple[CityService, ...] = (
    CityService(
        "district_akimat",
        t("Аппарат акима района", "Аудан әкімінің аппараты", "District akimat"),
    ),
    CityService(
        "energy_utilities",
        t(
            "Управление энергетики и коммунального хозяйства",
            "Энергетика және коммуналдық шаруашылық басқармасы",
            "Department of energy and utilities",
        ),
    ),
    CityService(
        "mobility",
        t(
            "Управление городской мобильности",
            "Қалалық мобильділік басқармасы",
            "Department of urban mobility",
        ),
    ),
    CityService(
        "almaty_su",
        t("ГКП «Алматы Су»", "«Алматы Су» МКК", "Almaty Su (water utility)"),
    ),
    CityService(
        "city_lighting",
        t("ТОО «Алматы қала жарық»", "«Алматы қала жарық» ЖШС", "Almaty Kala Zharyk (lighting)"),
    ),
    CityService(
        "tazalyk",
        t("ТОО «Алматы Тазалық»", "«Алматы Тазалық» ЖШС", "Almaty Tazalyk (sanitation)"),
    ),
    CityService(
        "ecology",
        t(
            "Управление экологии и окружающей среды",
            "Экология және қоршаған орта басқармасы",
            "Department of ecology and environment",
        ),
    ),
    CityService(
        "education",
        t("Управление образования", "Білім басқармасы", "Department of education"),
    ),
    CityService(
        "public_health",
        t(
            "Управление общественного здравоохранения",
            "Қоғамдық денсаулық сақтау басқармасы",
            "Department of public health",
        ),
    ),
    CityService(
        "police",
        t("Департамент полиции", "Полиция департаменті", "Police department"),
    ),
)

CATEGORIES: tuple[AppealCategory, ...] = (
    AppealCategory(
        "landscaping",
        t("Благоустройство", "Абаттандыру", "Landscaping and yards"),
        "district_akimat",
        21,
        keywords=("yard", "playground", "bench"),
    ),
    AppealCategory(
        "roads_transport",
        t("Дороги и транспорт", "Жолдар мен көлік", "Roads and transport"),
        "mobility",
        21,
        keywords=("pothole", "bus", "traffic light"),
    ),
    AppealCategory(
        "utilities",
        t("Коммунальные услуги", "Коммуналдық қызметтер", "Utilities and heating"),
        "energy_utilities",
        21,
        keywords=("heating", "gas", "elevator"),
    ),
    AppealCategory(
        "lighting",
        t("Освещение", "Жарықтандыру", "Street lighting"),
        "city_lighting",
        21,
        keywords=("street light",),
    ),
    AppealCategory(
        "greening",
        t("Озеленение", "Көгалдандыру", "Trees and greening"),
        "ecology",
        21,
        keywords=("tree", "felling", "lawn"),
    ),
    AppealCategory(
        "water",
        t("Водоснабжение и канализация", "Сумен жабдықтау және кәріз", "Water and sewerage"),
        "almaty_su",
        5,
        keywords=("water outage", "sewer", "leak"),
    ),
    AppealCategory(
        "snow_removal",
        t("Уборка снега", "Қар тазалау", "Snow clearing"),
        "tazalyk",
        3,
        keywords=("snow", "ice"),
    ),
    AppealCategory(
        "education",
        t("Образование", "Білім беру", "Schools and kindergartens"),
        "education",
        21,
        keywords=("school", "kindergarten"),
    ),
    AppealCategory(
        "healthcare",
        t("Здравоохранение", "Денсаулық сақтау", "Health care"),
        "public_health",
        21,
        sensitive=True,
        keywords=("clinic", "ambulance"),
    ),
    AppealCategory(
        "waste",
        t("Вывоз мусора", "Қоқыс шығару", "Waste collection"),
        "tazalyk",
        21,
        keywords=("garbage", "landfill"),
    ),
    AppealCategory(
        "noise",
        t("Шум", "Шу", "Noise"),
        "police",
        21,
        sensitive=True,
        keywords=("noise", "night"),
    ),
    AppealCategory(
        "other",
        t("Другое", "Басқа", "Other"),
        "district_akimat",
        21,
    ),
)

CATEGORY_CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES)
SERVICE_CODES: tuple[str, ...] = tuple(s.code for s in SERVICES)
#: an appeal's lifecycle, in order; the last two are final
STATUSES: tuple[str, ...] = ("received", "assigned", "in_progress", "resolved", "rejected")
