"""How old and how complete each source of the bundled Almaty set is (data/almaty/SOURCES.md).

One :class:`~layers.model.Provenance` per source, attached to the layers that hold it. The
figures were measured on the bundled files (``data/almaty``) and a store loaded from them:

- the OpenStreetMap extract's newest object is dated 2012-03-13; it holds 8,201 buildings,
  where the GEM exposure model (Amey et al. 2021) counts 50,544 residential buildings alone
  (16%: the 2012 map has about one building in six); 192 bus stops, 893 points of interest,
  119 parks and green areas, 4,274 roads;
- schools: 75 real (OSM 2012) of 1,155 stored, 1,080 generated to one school per 7,500 and one
  kindergarten per 2,500 residents; works: 54 real (akimat GIS, 2021–2024) of 2,221;
- district boundaries: OpenStreetMap, exported 2024-11; populations: the gov.kz district pages
  (two of eight are lower bounds, "more than 358 thousand").

The web map writes these as a line beside every figure that rests on them
(web/src/provenance.js); ``/catalog`` adds the counts measured in the store.
"""

from __future__ import annotations

from layers.model import Completeness, Provenance, t

OSM_2012 = Provenance(
    short="OSM",
    source=t(
        "OpenStreetMap (выгрузка Алматы)",
        "OpenStreetMap (Алматы үзіндісі)",
        "OpenStreetMap (Almaty extract)",
    ),
    as_of="2012-03",
    completeness=Completeness.SPARSE,
    note=t(
        "Карта 2012 года: многих зданий, улиц и объектов на ней нет, районы Алатау и "
        "Наурызбай (вошли в город в 2014 году) почти пусты.",
        "2012 жылғы карта: көп ғимарат, көше мен нысан жоқ, Алатау мен Наурызбай аудандары "
        "(қалаға 2014 жылы қосылған) бос дерлік.",
        "A 2012 map: many buildings, streets and places are missing; Alatau and Nauryzbay "
        "(part of the city since 2014) are almost empty.",
    ),
)

OSM_2012_BUILDINGS = Provenance(
    short=OSM_2012.short,
    source=OSM_2012.source,
    as_of=OSM_2012.as_of,
    completeness=Completeness.SPARSE,
    estimate=50_544,
    estimate_by=t(
        "жилых зданий по модели GEM (Amey et al. 2021), без нежилых",
        "GEM моделі бойынша тұрғын үйлер (Amey et al. 2021), тұрғын емес ғимараттарсыз",
        "residential buildings in the GEM model (Amey et al. 2021), non-residential not counted",
    ),
    note=OSM_2012.note,
)

OSM_2024 = Provenance(
    short="OSM",
    source=t(
        "OpenStreetMap (границы города и районов)",
        "OpenStreetMap (қала мен аудан шекаралары)",
        "OpenStreetMap (city and district boundaries)",
    ),
    as_of="2024-11",
    completeness=Completeness.COMPLETE,
)

GOV_KZ_POPULATION = Provenance(
    short="gov.kz",
    source=t(
        "Страницы районов на gov.kz",
        "gov.kz сайтындағы аудан беттері",
        "District pages on gov.kz",
    ),
    as_of="",
    completeness=Completeness.INCOMPLETE,
    note=t(
        "Для Ауэзовского и Турксибского районов — нижняя граница («более 358 тыс.»); "
        "год не указан.",
        "Әуезов және Түрксіб аудандары үшін — төменгі шек («358 мыңнан астам»); жылы "
        "көрсетілмеген.",
        "Auezov and Turksib are lower bounds (\u201cmore than 358 thousand\u201d); the year is "
        "not stated.",
    ),
)

OSM_2012_SCHOOLS = Provenance(
    short="OSM",
    source=t(
        "OpenStreetMap 2012 и сгенерированные школы",
        "OpenStreetMap 2012 және жасалған мектептер",
        "OpenStreetMap 2012 and generated schools",
    ),
    as_of="2012-03",
    completeness=Completeness.PARTLY_GENERATED,
    note=t(
        "Настоящих школ на карте 2012 года мало; остальные сгенерированы: одна школа на "
        "7 500 и один детский сад на 2 500 жителей.",
        "2012 жылғы картада нақты мектептер аз; қалғандары жасалған: 7 500 тұрғынға бір "
        "мектеп, 2 500 тұрғынға бір балабақша.",
        "Few real schools are on the 2012 map; the rest are generated: one school per 7,500 "
        "and one kindergarten per 2,500 residents.",
    ),
)

HEALTH = Provenance(
    short="almaty-health",
    source=t(
        "Открытые данные almaty-health (медорганизации, койки) и OpenStreetMap 2012",
        "almaty-health ашық деректері (медұйымдар, төсек-орын) және OpenStreetMap 2012",
        "almaty-health open data (medical organisations, beds) and OpenStreetMap 2012",
    ),
    as_of="",
    completeness=Completeness.INCOMPLETE,
    note=t(
        "Год данных источник не указывает; одна организация может быть в списке дважды.",
        "Дерек жылын дереккөз көрсетпейді; бір ұйым тізімде екі рет болуы мүмкін.",
        "The source states no year; one organisation may be listed twice.",
    ),
)

AKIMAT_WORKS = Provenance(
    short="akimat GIS",
    source=t(
        "ГИС-портал акимата (парки и скверы) и сгенерированные ремонты",
        "Әкімдіктің ГАЖ порталы (саябақтар мен скверлер) және жасалған жөндеулер",
        "Akimat GIS portal (parks and squares) and generated repairs",
    ),
    as_of="2024",
    completeness=Completeness.PARTLY_GENERATED,
)

GENERATED = Provenance(
    short="demo",
    source=t(
        "Сгенерировано Almaty City Twin",
        "Almaty City Twin жасаған",
        "Generated by Almaty City Twin",
    ),
    as_of="",
    completeness=Completeness.GENERATED,
)

BUDGET_CYCLES = Provenance(
    short="budget",
    source=t(
        "Циклы бюджета участия: заявки жителей, экспертиза и подсчёт голосов",
        "Қатысу бюджеті циклдары: тұрғындар өтінімдері, сараптама және дауыс санау",
        "The budget cycles: residents' applications, review and counted ballots",
    ),
    as_of="",
    completeness=Completeness.PARTLY_GENERATED,
    note=t(
        "Прошлогодний цикл каждого района — демонстрационные данные; новые заявки подают жители.",
        "Әр ауданның өткен жылғы циклі — демо-деректер; жаңа өтінімдерді тұрғындар береді.",
        "Last year's cycle of each district is demo data; new applications come from residents.",
    ),
)

POPULATION_MODEL = Provenance(
    short="proxy-population",
    source=t(
        "Модель населения city1-kazakhstan-proxy-population",
        "city1-kazakhstan-proxy-population халық моделі",
        "city1-kazakhstan-proxy-population model",
    ),
    as_of="2026",
    completeness=Completeness.MODELLED,
    note=t(
        "Оценка по объектам OSM, сведённая к 2 351 424 жителям города.",
        "OSM нысандары бойынша бағалау, қаланың 2 351 424 тұрғынына келтірілген.",
        "Estimated from OSM features, calibrated to the city's 2,351,424 residents.",
    ),
)

AIR = Provenance(
    short="AirData.kz",
    source=t(
        "AirData.kz (Казгидромет, WAQI, AirGradient)",
        "AirData.kz (Қазгидромет, WAQI, AirGradient)",
        "AirData.kz (KazHydroMet, WAQI, AirGradient)",
    ),
    as_of="2026-04-25",
    completeness=Completeness.INCOMPLETE,
    note=t(
        "Суточные средние PM10 и NO₂ есть у станций Казгидромета и WAQI; у датчиков "
        "AirGradient — только место.",
        "PM10 және NO₂ тәуліктік орташасы Қазгидромет пен WAQI станцияларында бар; "
        "AirGradient датчиктерінде — тек орны.",
        "Daily PM10 and NO₂ means exist for the KazHydroMet and WAQI stations; AirGradient "
        "sensors have a location only.",
    ),
)

SEISMIC_MODEL = Provenance(
    short="Amey et al.",
    source=t(
        "Модель OpenQuake, Amey et al. 2021",
        "OpenQuake моделі, Amey et al. 2021",
        "OpenQuake model, Amey et al. 2021",
    ),
    as_of="2021",
    completeness=Completeness.MODELLED,
)

GEM_EXPOSURE = Provenance(
    short="GEM",
    source=t(
        "Модель жилого фонда GEM (Amey et al. 2021)",
        "GEM тұрғын үй қоры моделі (Amey et al. 2021)",
        "GEM residential exposure model (Amey et al. 2021)",
    ),
    as_of="2021",
    completeness=Completeness.MODELLED,
)

INDICATORS = Provenance(
    short="twin",
    source=t(
        "Рассчитано по слоям карты и населению gov.kz",
        "Карта қабаттары мен gov.kz халқы бойынша есептелген",
        "Computed from the map's layers and gov.kz populations",
    ),
    as_of="",
    completeness=Completeness.PARTLY_GENERATED,
    note=t(
        "Каждый показатель не полнее и не новее слоя, по которому он посчитан; годы до "
        "последнего сгенерированы.",
        "Әр көрсеткіш өзі есептелген қабаттан толық та, жаңа да емес; соңғы жылға "
        "дейінгі жылдар жасалған.",
        "Each indicator is no more complete or recent than the layer it is counted from; "
        "years before the latest are generated.",
    ),
)

CITY_EVENTS = Provenance(
    short="AZhK",
    source=t(
        "Плановые отключения АО «Алатау Жарық Компаниясы» и сообщения сотрудников",
        "«Алатау Жарық Компаниясы» АҚ жоспарлы өшірулері және қызметкерлер хабарлары",
        "Planned outages of АО «Алатау Жарық Компаниясы» and staff posts",
    ),
    as_of="2026-07",
    completeness=Completeness.INCOMPLETE,
    note=t(
        "Из файлов — одна неделя отключений электроэнергии (июль 2026); остальные события "
        "вносят сотрудники.",
        "Файлдардан — электр қуатын өшірудің бір аптасы (2026 жылғы шілде); қалған оқиғаларды "
        "қызметкерлер енгізеді.",
        "From files, one week of power outages (July 2026); other events are posted by staff.",
    ),
)
