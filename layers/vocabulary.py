"""The catalog's vocabularies: what each stored code value reads as, in ru/kk/en.

Stored values are codes (OSM tags such as ``building=yes``, ``amenity=marketplace``, our own
states such as ``in_progress``); a person reads their label. Labels are declared here, once,
and attached to the properties that hold such codes (``Prop.values``); ``/catalog`` serves
them and the map shows every card value, legend entry and choice through them, so no word a
person reads lives in the web code. ``layers.registry.check`` refuses a property whose
``choices`` lack a label.

Open properties (OSM's ``building``, a POI's ``category``) also get a vocabulary: the codes
found in the bundled 2012 extract (every code of ``buildings.building``, ``pois.category``,
``parks.kind``, ``schools.language`` and ``roads.surface`` in it is labelled); a code a
new file brings and this table lacks is shown as it is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from layers.model import Titles, t

Vocabulary = Mapping[str, Titles]


def pick(table: Vocabulary, codes: Iterable[str]) -> dict[str, Titles]:
    """Return the labels of ``codes`` from ``table`` (a code without a label is left out, and
    ``layers.registry.check`` reports it when the code is a declared choice)."""
    return {c: table[c] for c in codes if c in table}


STATES: Vocabulary = {
    "planned": t("Запланировано", "Жоспарланған", "Planned"),
    "in_progress": t("Выполняется", "Орындалуда", "In progress"),
    "done": t("Завершено", "Аяқталды", "Done"),
    "cancelled": t("Отменено", "Тоқтатылды", "Cancelled"),
    "proposal": t("Предложение", "Ұсыныс", "Proposal"),
    "voting": t("Голосование", "Дауыс беру", "Voting"),
    "approved": t("Одобрено", "Мақұлданды", "Approved"),
    "rejected": t("Отклонено", "Қабылданбады", "Rejected"),
    "received": t("Принято", "Қабылданды", "Received"),
    "assigned": t("Передано исполнителю", "Орындаушыға берілді", "Assigned"),
    "resolved": t("Решено", "Шешілді", "Resolved"),
    "working": t("Работает", "Жұмыс істейді", "Working"),
    "broken": t("Неисправна", "Ақаулы", "Broken"),
}

WORK_KINDS: Vocabulary = {
    "construction": t("Строительство", "Құрылыс", "Construction"),
    "repair": t("Ремонт", "Жөндеу", "Repair"),
    "landscaping": t("Благоустройство", "Абаттандыру", "Landscaping"),
}

CAMERA_KINDS: Vocabulary = {
    "fixed": t("Стационарная", "Стационарлық", "Fixed"),
    "ptz": t("Поворотная (PTZ)", "Бұрылмалы (PTZ)", "Pan-tilt-zoom"),
}

OTHER = t("Прочее", "Басқа", "Other")

BUILDING_USES: Vocabulary = {
    "residential": t("Жилое", "Тұрғын", "Residential"),
    "public": t("Общественное", "Қоғамдық", "Public"),
    "commercial": t("Коммерческое", "Коммерциялық", "Commercial"),
    "industrial": t("Промышленное", "Өнеркәсіптік", "Industrial"),
    "other": OTHER,
}

#: OSM ``building`` values ("yes" is OSM's "a building, type not mapped").
BUILDING_TYPES: Vocabulary = {
    "yes": t("Не указан", "Көрсетілмеген", "Not specified"),
    "apartments": t("Многоквартирный дом", "Көппәтерлі үй", "Apartment block"),
    "house": t("Частный дом", "Жеке үй", "House"),
    "detached": t("Частный дом", "Жеке үй", "Detached house"),
    "residential": t("Жилое здание", "Тұрғын ғимарат", "Residential building"),
    "office": t("Офисное здание", "Кеңсе ғимараты", "Office building"),
    "commercial": t("Коммерческое здание", "Коммерциялық ғимарат", "Commercial building"),
    "retail": t("Торговое здание", "Сауда ғимараты", "Retail building"),
    "store": t("Магазин", "Дүкен", "Shop"),
    "industrial": t("Промышленное здание", "Өнеркәсіптік ғимарат", "Industrial building"),
    "warehouse": t("Склад", "Қойма", "Warehouse"),
    "hangar": t("Ангар", "Ангар", "Hangar"),
    "garage": t("Гараж", "Гараж", "Garage"),
    "garages": t("Гаражи", "Гараждар", "Garages"),
    "shelter": t("Навес", "Күрке", "Shelter"),
    "school": t("Школа", "Мектеп", "School"),
    "kindergarten": t("Детский сад", "Балабақша", "Kindergarten"),
    "university": t("Университет", "Университет", "University"),
    "hospital": t("Больница", "Аурухана", "Hospital"),
    "church": t("Церковь", "Шіркеу", "Church"),
    "mosque": t("Мечеть", "Мешіт", "Mosque"),
    "construction": t("Строится", "Салынуда", "Under construction"),
    "roof": t("Навес", "Күрке", "Roof"),
}

ROAD_CLASSES: Vocabulary = {
    "motorway": t("Автомагистраль", "Автомагистраль", "Motorway"),
    "trunk": t("Магистраль", "Магистраль", "Trunk road"),
    "primary": t("Главная улица", "Басты көше", "Primary road"),
    "secondary": t("Второстепенная улица", "Екінші дәрежелі көше", "Secondary road"),
    "tertiary": t("Местная улица", "Жергілікті көше", "Tertiary road"),
    "motorway_link": t("Съезд", "Шығу жолы", "Motorway link"),
    "trunk_link": t("Съезд", "Шығу жолы", "Trunk link"),
    "primary_link": t("Съезд", "Шығу жолы", "Primary link"),
    "secondary_link": t("Съезд", "Шығу жолы", "Secondary link"),
    "tertiary_link": t("Съезд", "Шығу жолы", "Tertiary link"),
    "unclassified": t("Без класса", "Сыныпталмаған", "Unclassified"),
    "residential": t("Жилая улица", "Тұрғын көше", "Residential street"),
    "living_street": t("Жилая зона", "Тұрғын аймақ", "Living street"),
    "service": t("Проезд", "Өтпе жол", "Service road"),
    "pedestrian": t("Пешеходная улица", "Жаяу жүргінші көшесі", "Pedestrian street"),
    "footway": t("Тротуар", "Жаяу жол", "Footway"),
    "path": t("Тропа", "Соқпақ", "Path"),
    "cycleway": t("Велодорожка", "Велосипед жолы", "Cycleway"),
    "steps": t("Лестница", "Баспалдақ", "Steps"),
    "track": t("Грунтовая дорога", "Топырақ жол", "Track"),
    "road": t("Дорога", "Жол", "Road"),
    "other": OTHER,
}

SURFACES: Vocabulary = {
    "paved": t("Твёрдое", "Қатты", "Paved"),
    "asphalt": t("Асфальт", "Асфальт", "Asphalt"),
    "concrete": t("Бетон", "Бетон", "Concrete"),
    "paving_stones": t("Брусчатка", "Төсем тас", "Paving stones"),
    "cobblestone": t("Булыжник", "Тас төсем", "Cobblestone"),
    "gravel": t("Гравий", "Қиыршық тас", "Gravel"),
    "unpaved": t("Без покрытия", "Жабынсыз", "Unpaved"),
    "ground": t("Грунт", "Топырақ", "Ground"),
}

UTILITY_KINDS: Vocabulary = {
    "power": t("Электросеть", "Электр желісі", "Power"),
    "water": t("Водопровод", "Су құбыры", "Water"),
    "heat": t("Теплосеть", "Жылу желісі", "Heating"),
    "gas": t("Газопровод", "Газ құбыры", "Gas"),
    "sewer": t("Канализация", "Кәріз", "Sewer"),
    "telecom": t("Связь", "Байланыс", "Telecom"),
    "other": OTHER,
}

POI_KINDS: Vocabulary = {
    "amenity": t("Учреждения", "Мекемелер", "Amenities"),
    "shop": t("Магазины", "Дүкендер", "Shops"),
    "tourism": t("Туризм", "Туризм", "Tourism"),
    "leisure": t("Отдых", "Демалыс", "Leisure"),
    "other": OTHER,
}

#: OSM ``amenity``/``shop``/``tourism``/``leisure`` values (a POI's ``category``).
POI_CATEGORIES: Vocabulary = {
    "fuel": t("АЗС", "ЖҚС", "Fuel station"),
    "supermarket": t("Супермаркет", "Супермаркет", "Supermarket"),
    "parking": t("Парковка", "Тұрақ", "Parking"),
    "convenience": t("Продукты", "Азық-түлік дүкені", "Convenience store"),
    "bench": t("Скамейка", "Орындық", "Bench"),
    "pharmacy": t("Аптека", "Дәріхана", "Pharmacy"),
    "chemist": t("Аптека", "Дәріхана", "Chemist"),
    "cafe": t("Кафе", "Кафе", "Café"),
    "bank": t("Банк", "Банк", "Bank"),
    "police": t("Полиция", "Полиция", "Police"),
    "atm": t("Банкомат", "Банкомат", "ATM"),
    "school": t("Школа", "Мектеп", "School"),
    "kindergarten": t("Детский сад", "Балабақша", "Kindergarten"),
    "university": t("Университет", "Университет", "University"),
    "library": t("Библиотека", "Кітапхана", "Library"),
    "hospital": t("Больница", "Аурухана", "Hospital"),
    "doctors": t("Врач", "Дәрігер", "Doctor"),
    "dentist": t("Стоматология", "Стоматология", "Dentist"),
    "veterinary": t("Ветеринарная клиника", "Мал дәрігері", "Vet"),
    "restaurant": t("Ресторан", "Мейрамхана", "Restaurant"),
    "fast_food": t("Фастфуд", "Фастфуд", "Fast food"),
    "pub": t("Паб", "Паб", "Pub"),
    "bar": t("Бар", "Бар", "Bar"),
    "bakery": t("Пекарня", "Наубайхана", "Bakery"),
    "confectionery": t("Кондитерская", "Кондитерлік", "Confectionery"),
    "alcohol": t("Алкоголь", "Алкоголь дүкені", "Alcohol shop"),
    "car_repair": t("Автосервис", "Автосервис", "Car repair"),
    "car_wash": t("Автомойка", "Көлік жуу", "Car wash"),
    "автомойка/сто": t("Автомойка и СТО", "Көлік жуу және сервис", "Car wash and repair"),
    "car_parts": t("Автозапчасти", "Автобөлшектер", "Car parts"),
    "car": t("Автосалон", "Автосалон", "Car dealer"),
    "hotel": t("Гостиница", "Қонақүй", "Hotel"),
    "motel": t("Мотель", "Мотель", "Motel"),
    "public_building": t("Общественное здание", "Қоғамдық ғимарат", "Public building"),
    "townhall": t("Акимат", "Әкімдік", "Town hall"),
    "courthouse": t("Суд", "Сот", "Courthouse"),
    "embassy": t("Посольство", "Елшілік", "Embassy"),
    "fire_station": t("Пожарная часть", "Өрт сөндіру бөлімі", "Fire station"),
    "post_office": t("Почта", "Пошта", "Post office"),
    "post_box": t("Почтовый ящик", "Пошта жәшігі", "Post box"),
    "telephone": t("Телефон", "Телефон", "Telephone"),
    "place_of_worship": t("Место богослужения", "Ғибадат орны", "Place of worship"),
    "hairdresser": t("Парикмахерская", "Шаштараз", "Hairdresser"),
    "bus_station": t("Автовокзал", "Автовокзал", "Bus station"),
    "market": t("Рынок", "Базар", "Market"),
    "marketplace": t("Рынок", "Базар", "Marketplace"),
    "kiosk": t("Киоск", "Дүңгіршек", "Kiosk"),
    "optician": t("Оптика", "Оптика", "Optician"),
    "computer": t("Компьютеры", "Компьютерлер", "Computers"),
    "electronics": t("Электроника", "Электроника", "Electronics"),
    "theatre": t("Театр", "Театр", "Theatre"),
    "cinema": t("Кинотеатр", "Кинотеатр", "Cinema"),
    "museum": t("Музей", "Мұражай", "Museum"),
    "arts_centre": t("Центр искусств", "Өнер орталығы", "Arts centre"),
    "artwork": t("Арт-объект", "Өнер туындысы", "Artwork"),
    "recycling": t("Приём вторсырья", "Қайта өңдеу пункті", "Recycling"),
    "waste_disposal": t("Мусорный контейнер", "Қоқыс контейнері", "Waste disposal"),
    "waste_basket": t("Урна", "Қоқыс жәшігі", "Waste basket"),
    "fountain": t("Фонтан", "Субұрқақ", "Fountain"),
    "drinking_water": t("Питьевая вода", "Ауыз су", "Drinking water"),
    "doityourself": t("Стройматериалы", "Құрылыс дүкені", "DIY store"),
    "hardware": t("Хозтовары", "Шаруашылық тауарлары", "Hardware"),
    "metall": t("Металлоизделия", "Металл бұйымдары", "Metalware"),
    "furniture": t("Мебель", "Жиһаз", "Furniture"),
    "books": t("Книги", "Кітаптар", "Books"),
    "stationery": t("Канцтовары", "Кеңсе тауарлары", "Stationery"),
    "florist": t("Цветы", "Гүлдер", "Florist"),
    "clothes": t("Одежда", "Киім", "Clothes"),
    "dry_cleaning": t("Химчистка", "Химиялық тазалау", "Dry cleaning"),
    "dry cleaning": t("Химчистка", "Химиялық тазалау", "Dry cleaning"),
    "bicycle": t("Велосипеды", "Велосипедтер", "Bicycles"),
    "pet": t("Зоотовары", "Жануарлар тауарлары", "Pet shop"),
    "video": t("Видеопрокат", "Бейне жалдау", "Video rental"),
    "sports": t("Спорттовары", "Спорт тауарлары", "Sports shop"),
    "travel_agency": t("Турагентство", "Туристік агенттік", "Travel agency"),
    "bureau_de_change": t("Обмен валюты", "Валюта айырбастау", "Currency exchange"),
    "payment_terminal": t("Терминал оплаты", "Төлем терминалы", "Payment terminal"),
    "viewpoint": t("Смотровая площадка", "Көру алаңы", "Viewpoint"),
    "picnic_site": t("Место для пикника", "Пикник орны", "Picnic site"),
    "information": t("Информация", "Ақпарат", "Information"),
}

SCHOOL_KINDS: Vocabulary = {
    "school": t("Школа", "Мектеп", "School"),
    "kindergarten": t("Детский сад", "Балабақша", "Kindergarten"),
}

LANGUAGES: Vocabulary = {
    "kazakh": t("Казахский", "Қазақ тілі", "Kazakh"),
    "russian": t("Русский", "Орыс тілі", "Russian"),
    "mixed": t("Казахский и русский", "Қазақ және орыс тілдері", "Kazakh and Russian"),
    "english": t("Английский", "Ағылшын тілі", "English"),
}

HEALTH_KINDS: Vocabulary = {
    "hospital": t("Больница", "Аурухана", "Hospital"),
    "clinic": t("Поликлиника", "Емхана", "Clinic"),
    "other": OTHER,
}

OWNERSHIP: Vocabulary = {
    "гос": t("Государственная", "Мемлекеттік", "Public"),
    "Частные": t("Частная", "Жеке", "Private"),
}

PARK_KINDS: Vocabulary = {
    "park": t("Парк", "Саябақ", "Park"),
    "garden": t("Сад", "Бақ", "Garden"),
    "forest": t("Лес", "Орман", "Forest"),
    "grass": t("Газон", "Көгал", "Grass"),
    "playground": t("Детская площадка", "Балалар алаңы", "Playground"),
    "pitch": t("Спортплощадка", "Спорт алаңы", "Pitch"),
    "stadium": t("Стадион", "Стадион", "Stadium"),
    "recreation_ground": t("Зона отдыха", "Демалыс аймағы", "Recreation ground"),
}

WATERWAY_KINDS: Vocabulary = {
    "river": t("Река", "Өзен", "River"),
    "canal": t("Канал", "Арна", "Canal"),
    "stream": t("Ручей", "Бұлақ", "Stream"),
    "drain": t("Арык", "Арық", "Drain"),
    "other": OTHER,
}

RAILWAY_KINDS: Vocabulary = {
    "rail": t("Железная дорога", "Темір жол", "Railway"),
    "tram": t("Трамвай", "Трамвай", "Tram"),
    "other": OTHER,
}

WHEELCHAIR: Vocabulary = {
    "yes": t("Доступно", "Қолжетімді", "Accessible"),
    "limited": t("Частично доступно", "Ішінара қолжетімді", "Partly accessible"),
    "no": t("Недоступно", "Қолжетімсіз", "Not accessible"),
    "unknown": t("Нет данных", "Дерек жоқ", "Unknown"),
}

#: Canonical district names (as stored) in the three languages (as the districts layer's
#: ``name_ru``/``name_kk`` write them).
DISTRICTS: Vocabulary = {
    "Alatau": t("Алатауский район", "Алатау ауданы", "Alatau"),
    "Almaly": t("Алмалинский район", "Алмалы ауданы", "Almaly"),
    "Auezov": t("Ауэзовский район", "Әуезов ауданы", "Auezov"),
    "Bostandyk": t("Бостандыкский район", "Бостандық ауданы", "Bostandyk"),
    "Medeu": t("Медеуский район", "Медеу ауданы", "Medeu"),
    "Nauryzbay": t("Наурызбайский район", "Наурызбай ауданы", "Nauryzbay"),
    "Turksib": t("Турксибский район", "Түрксіб ауданы", "Turksib"),
    "Zhetysu": t("Жетысуский район", "Жетісу ауданы", "Zhetysu"),
}

#: The categories a resident's budget application has (twin.budget's ids).
BUDGET_CATEGORY_IDS: Vocabulary = {
    "yards": t("Благоустройство дворов", "Аулаларды абаттандыру", "Courtyards"),
    "playgrounds": t("Детские площадки", "Балалар алаңдары", "Playgrounds"),
    "lighting": t("Освещение", "Жарықтандыру", "Lighting"),
    "sport": t("Спорт", "Спорт", "Sport"),
    "greening": t("Озеленение", "Көгалдандыру", "Greening"),
    "sidewalks": t("Тротуары", "Тротуарлар", "Sidewalks"),
    "accessibility": t("Доступная среда", "Қолжетімді орта", "Accessibility"),
    "safety": t("Безопасность", "Қауіпсіздік", "Safety"),
}

#: Where a project of a budget cycle is in the process (layers.programme.BUDGET_CYCLE_PROJECTS).
BUDGET_PROJECT_STATES: Vocabulary = {
    "application": t("Заявка", "Өтінім", "Application"),
    "review": t("На экспертизе", "Сараптамада", "Under review"),
    "rejected": t("Не прошёл экспертизу", "Сараптамадан өтпеді", "Failed review"),
    "ballot": t("В бюллетене", "Бюллетеньде", "On the ballot"),
    "won": t("Победил", "Жеңді", "Won"),
    "lost": t("Не прошёл голосование", "Дауыс беруден өтпеді", "Lost the vote"),
    "implementation": t("Реализуется", "Іске асырылуда", "In implementation"),
    "done": t("Реализован", "Іске асырылды", "Done"),
}

AIR_NETWORKS: Vocabulary = {
    "kazhydromet": t("Казгидромет", "Қазгидромет", "Kazhydromet"),
    "waqi": t("WAQI", "WAQI", "WAQI"),
    "airgradient": t("AirGradient", "AirGradient", "AirGradient"),
}

#: Pollutant codes; a station's ``parameters`` is a comma-separated list of them.
POLLUTANTS: Vocabulary = {
    "pm25": t("PM2.5", "PM2.5", "PM2.5"),
    "pm10": t("PM10", "PM10", "PM10"),
    "no2": t("NO₂", "NO₂", "NO₂"),
    "no": t("NO", "NO", "NO"),
    "so2": t("SO₂", "SO₂", "SO₂"),
    "co": t("CO", "CO", "CO"),
    "o3": t("O₃", "O₃", "O₃"),
    "tsp": t("Взвешенные частицы", "Қалқыма бөлшектер", "Total suspended particles"),
}

AQI: Vocabulary = {
    "good": t("Хорошее", "Жақсы", "Good"),
    "moderate": t("Умеренное", "Орташа", "Moderate"),
    "sensitive": t(
        "Вредно для чувствительных групп",
        "Сезімтал топтар үшін зиянды",
        "Unhealthy for sensitive groups",
    ),
    "unhealthy": t("Вредное", "Зиянды", "Unhealthy"),
    "very_unhealthy": t("Очень вредное", "Өте зиянды", "Very unhealthy"),
    "hazardous": t("Опасное", "Қауіпті", "Hazardous"),
}

CONFIDENCE: Vocabulary = {
    "high": t("Высокая", "Жоғары", "High"),
    "medium": t("Средняя", "Орташа", "Medium"),
    "low": t("Низкая", "Төмен", "Low"),
}

#: NEHRP site classes by Vs30.
SITE_CLASSES: Vocabulary = {
    "B": t("B (скальный грунт)", "B (жартасты топырақ)", "B (rock)"),
    "C": t("C (очень плотный грунт)", "C (өте тығыз топырақ)", "C (very dense soil)"),
    "D": t("D (плотный грунт)", "D (тығыз топырақ)", "D (stiff soil)"),
    "E": t("E (мягкий грунт)", "E (жұмсақ топырақ)", "E (soft soil)"),
}

EVENT_KINDS: Vocabulary = {
    "emergency": t("Чрезвычайная ситуация", "Төтенше жағдай", "Emergency"),
    "outage_electricity": t("Отключение электроэнергии", "Электр қуатын өшіру", "Power outage"),
    "outage_water": t("Отключение воды", "Суды өшіру", "Water outage"),
    "outage_heating": t("Отключение отопления", "Жылуды өшіру", "Heating outage"),
    "outage_gas": t("Отключение газа", "Газды өшіру", "Gas outage"),
    "road_closure": t("Перекрытие дороги", "Жолды жабу", "Road closure"),
    "planned_works": t("Плановые работы", "Жоспарлы жұмыстар", "Planned works"),
}

EVENT_SEVERITIES: Vocabulary = {
    "info": t("Для сведения", "Мәлімет үшін", "Information"),
    "minor": t("Незначительное", "Елеусіз", "Minor"),
    "major": t("Серьёзное", "Елеулі", "Major"),
    "critical": t("Критическое", "Аса қауіпті", "Critical"),
}

#: who published a city event (its ``provider``): a utility's own schedule, or the city's staff
EVENT_PROVIDERS: Vocabulary = {
    "azhk": t(
        "АО «Алатау Жарық Компаниясы»",
        "«Алатау Жарық Компаниясы» АҚ",
        "Alatau Zharyk Company (power grid)",
    ),
    "staff": t("Сотрудники акимата", "Әкімдік қызметкерлері", "City staff"),
}

EVENT_STATUSES: Vocabulary = {
    "planned": t("Запланировано", "Жоспарланған", "Planned"),
    "active": t("Идёт", "Жүріп жатыр", "Ongoing"),
    "resolved": t("Завершено", "Аяқталды", "Over"),
    "cancelled": t("Отменено", "Тоқтатылды", "Cancelled"),
}
