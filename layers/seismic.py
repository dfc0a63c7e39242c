"""Seismic layers: Vs30 site conditions and the GEM residential exposure (Amey et al. 2021)."""

from __future__ import annotations

from layers import provenance as prov
from layers import vocabulary as vocab
from layers.common import DISTRICT
from layers.model import GeomType, Layer, Prop, PropType, Style, t

SEISMIC_CITATION = (
    "Amey R.M.J. et al. 2021, Significant Seismic Risk Potential from Buried Faults Beneath "
    "Almaty City, Earth and Space Science (ruthamey/almaty_hazard_risk)"
)
#: NEHRP site classes by Vs30 (m/s): the softer the ground, the stronger the shaking.
SITE_CLASSES = ("B", "C", "D", "E")
SITE_COLOURS = {"B": "#1a9850", "C": "#fee08b", "D": "#f46d43", "E": "#a50026"}

SEISMIC_SITES = Layer(
    id="seismic_sites",
    title=t("Грунты: класс площадки (Vs30)", "Топырақ: алаң класы (Vs30)", "Site class (Vs30)"),
    module="seismic",
    geometry=GeomType.POINT,
    properties=(
        Prop(
            "vs30",
            PropType.FLOAT,
            t("Vs30", "Vs30", "Vs30"),
            unit="m/s",
            minimum=0,
            maximum=3000,
        ),
        Prop(
            "site_class",
            PropType.STR,
            t("Класс площадки (NEHRP)", "Алаң класы (NEHRP)", "Site class (NEHRP)"),
            choices=SITE_CLASSES,
            values=vocab.SITE_CLASSES,
        ),
        Prop(
            "z1pt0", PropType.FLOAT, t("Глубина Vs=1 км/с", "Vs=1 км/с тереңдігі", "Z1.0"), unit="m"
        ),
    ),
    style=Style(
        kind="circle",
        color="#9e9e9e",
        radius=3.0,
        category_property="site_class",
        category_colors=SITE_COLOURS,
    ),
    minzoom=9,
    source="OpenQuake site model of Amey et al. 2021 (data/almaty/seismic/almaty_grid_vs30.csv), "
    "points within the city's bounding box; class by NEHRP: B 760–1500, C 360–760, D 180–360, "
    "E < 180 m/s",
    licence="no licence stated; cited: " + SEISMIC_CITATION,
    attribution="Vs30: " + SEISMIC_CITATION,
    provenance=prov.SEISMIC_MODEL,
)

SEISMIC_EXPOSURE = Layer(
    id="seismic_exposure",
    title=t(
        "Жилые здания: сейсмическая уязвимость (GEM)",
        "Тұрғын үйлер: сейсмикалық осалдық (GEM)",
        "Residential buildings: seismic exposure (GEM)",
    ),
    module="seismic",
    geometry=GeomType.POINT,
    properties=(
        Prop(
            "taxonomy",
            PropType.STR,
            t("Тип конструкции (GEM)", "Құрылым түрі (GEM)", "GEM taxonomy"),
        ),
        Prop("buildings", PropType.INT, t("Зданий", "Ғимараттар", "Buildings"), minimum=0),
        Prop(
            "occupants_night",
            PropType.INT,
            t("Жителей ночью", "Түнгі тұрғындар", "Occupants at night"),
            minimum=0,
        ),
        Prop(
            "replacement_cost_usd",
            PropType.FLOAT,
            t("Стоимость замещения", "Ауыстыру құны", "Replacement cost"),
            unit="USD",
            minimum=0,
        ),
        DISTRICT,
    ),
    style=Style(kind="circle", color="#6d4c41", radius=2.5),
    minzoom=11,
    source="GEM residential exposure model as used by Amey et al. 2021 (data/almaty/"
    "buildings_exposure/almaty_residential_building_exposure_gem.csv)",
    licence="no licence stated (GEM exposure model); cited: " + SEISMIC_CITATION,
    attribution="Exposure: GEM / " + SEISMIC_CITATION,
    provenance=prov.GEM_EXPOSURE,
)
