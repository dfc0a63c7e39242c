"""The groups of the map's layer panel, in panel order: the modules of the city's
development programme (DESIGN.md), then the plainer extras, then the basemap group."""

from __future__ import annotations

from layers.model import Module, t

MODULES: tuple[Module, ...] = (
    Module("infrastructure", t("Инфраструктура", "Инфрақұрылым", "Infrastructure")),
    Module("communications", t("Коммуникации", "Коммуникациялар", "Communications")),
    Module(
        "district_monitoring",
        t("Мониторинг районов", "Аудандар мониторингі", "District monitoring"),
    ),
    Module("city_events", t("События в городе", "Қаладағы оқиғалар", "City events")),
    Module(
        "district_indicators",
        t("Показатели районов", "Аудан көрсеткіштері", "District indicators"),
    ),
    Module(
        "participatory_budget",
        t("Бюджет народного участия", "Халықтық қатысу бюджеті", "Participatory budget"),
    ),
    Module(
        "education",
        t("Мониторинг образования", "Білім беру мониторингі", "Education monitoring"),
    ),
    # No catalog layer of its own: the map colours the public objects by wheelchair access.
    Module("digital_inclusion", t("Цифровая инклюзия", "Цифрлық инклюзия", "Digital inclusion")),
    Module("air_quality", t("Качество воздуха", "Ауа сапасы", "Air quality")),
    Module("seismic", t("Сейсмический риск", "Сейсмикалық қауіп", "Seismic risk")),
    Module("appeals", t("Обращения жителей", "Тұрғындардың өтініштері", "Residents' appeals")),
    # Listed for every caller: the group holds the planner's key form.
    Module("cameras", t("Камеры видеонаблюдения", "Бейнебақылау камералары", "CCTV cameras")),
    Module("basemap", t("Основа карты", "Карта негізі", "Basemap")),
)
