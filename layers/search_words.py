"""Words people type for kinds of places and for street types, in Russian, Kazakh and English.

Search (``twin/search.py``) reads these so that "мектеп", "школа" and "school" all find the
schools, and "пр.", "даңғылы" and "avenue" all mean an avenue. They belong to the catalog, as
the layers' titles do: a new layer adds its words here, not in the search code.

Words are written as people type them; search folds and transliterates them itself. A kind of
place is a layer, optionally narrowed to the features whose property has a value.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlaceKind:
    """Words that name a kind of place: the features of ``layer`` (where ``prop`` is ``value``);
    ``title`` (ru, kk, en) names a feature of the kind whose own name is only a number."""

    words: tuple[str, ...]
    layer: str
    prop: str | None = None
    value: str | None = None
    title: tuple[str, str, str] | None = None


PLACE_KINDS: tuple[PlaceKind, ...] = (
    PlaceKind(
        ("школа", "школы", "сш", "гимназия", "лицей", "мектеп", "мектебі", "мектептер", "school"),
        "schools",
        "kind",
        "school",
        ("Школа", "Мектеп", "School"),
    ),
    PlaceKind(
        (
            "детский сад",
            "детсад",
            "садик",
            "ясли",
            "ясли-сад",
            "балабақша",
            "балабақшасы",
            "бөбекжай",
            "kindergarten",
            "nursery",
        ),
        "schools",
        "kind",
        "kindergarten",
        ("Детский сад", "Балабақша", "Kindergarten"),
    ),
    PlaceKind(
        (
            "больница",
            "поликлиника",
            "клиника",
            "аурухана",
            "ауруханасы",
            "емхана",
            "емханасы",
            "hospital",
            "clinic",
        ),
        "health",
    ),
    PlaceKind(("парк", "сквер", "саябақ", "саябағы", "park", "square garden"), "parks"),
    PlaceKind(("остановка", "аялдама", "аялдамасы", "bus stop", "stop"), "bus_stops"),
    PlaceKind(
        ("качество воздуха", "датчик воздуха", "ауа сапасы", "air quality", "air sensor"),
        "air_sensors",
    ),
    PlaceKind(("аптека", "дәріхана", "pharmacy"), "pois", "category", "pharmacy"),
    PlaceKind(("банк", "bank"), "pois", "category", "bank"),
    PlaceKind(("банкомат", "atm"), "pois", "category", "atm"),
    PlaceKind(("кафе", "кофейня", "cafe", "coffee"), "pois", "category", "cafe"),
    PlaceKind(("ресторан", "мейрамхана", "restaurant"), "pois", "category", "restaurant"),
    PlaceKind(("гостиница", "отель", "қонақүй", "hotel"), "pois", "category", "hotel"),
    PlaceKind(
        ("супермаркет", "магазин", "дүкен", "supermarket", "shop"),
        "pois",
        "category",
        "supermarket",
    ),
    PlaceKind(
        ("заправка", "азс", "жанармай", "fuel", "petrol station"), "pois", "category", "fuel"
    ),
    PlaceKind(("полиция", "полиция бөлімі", "police"), "pois", "category", "police"),
    PlaceKind(("почта", "пошта", "post office"), "pois", "category", "post_office"),
    PlaceKind(("кинотеатр", "кино", "cinema"), "pois", "category", "cinema"),
    PlaceKind(("театр", "театры", "theatre", "theater"), "pois", "category", "theatre"),
    PlaceKind(("рынок", "базар", "нарық", "market"), "pois", "category", "marketplace"),
    PlaceKind(("район", "аудан", "ауданы", "district"), "districts"),
)

#: Street types: every spelling of one type means the same; a street type in a query is
#: optional (it ranks a street of that type first, but a street written without it matches).
STREET_TYPES: dict[str, tuple[str, ...]] = {
    "street": ("ул", "ул.", "улица", "көше", "көшесі", "street", "st", "st.", "str", "str."),
    "avenue": (
        "пр",
        "пр.",
        "прс",
        "прс.",
        "пр-т",
        "просп",
        "проспект",
        "даңғыл",
        "даңғылы",
        "avenue",
        "ave",
        "ave.",
        "av",
        "prospekt",
        "pr",
        "pr.",
    ),
    "microdistrict": (
        "мкр",
        "мкр.",
        "мкн",
        "мкн.",
        "микрорайон",
        "ықшамаудан",
        "ықшам",
        "шағын",
        "шағынаудан",
        "microdistrict",
        "mkr",
    ),
    "boulevard": ("бул", "бул.", "бульвар", "желекжол", "boulevard", "blvd"),
    "lane": ("пер", "пер.", "переулок", "тұйық", "тұйығы", "lane"),
    "highway": ("шоссе", "тасжол", "highway"),
    "square": ("пл", "пл.", "площадь", "алаң", "алаңы"),
    "embankment": ("наб", "наб.", "набережная"),
}

#: Words that say nothing about which place is meant.
STOP_WORDS: tuple[str, ...] = (
    "№",
    "им",
    "им.",
    "имени",
    "атындағы",
    "г",
    "г.",
    "город",
    "алматы",
    "almaty",
    "the",
    "of",
    "and",
    "и",
    "мен",
)
