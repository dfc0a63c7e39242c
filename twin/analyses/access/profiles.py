"""Travel profiles (walking, wheelchair, driving) and the destination categories.

A profile says which road classes it may use, in which direction, and how fast. Everything
here is plain data, shared by the Python engine and the pgRouting engine so that both search
exactly the same network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from twin.core.errors import BadInput

#: Walking speed used for walking, wheelchair and the off-network access leg of every mode.
#: 4.8 km/h (80 m/min) is the usual planning figure for an adult on city streets.
WALK_KMH = 4.8

#: Road classes a pedestrian may not use. The roads layer has no ``sidewalk`` tag, so trunk
#: roads (Almaty's urban expressways: Al-Farabi, Ryskulov, the Kuldzha tract) are assumed to
#: have no usable sidewalk, like motorways. A conservative choice: crossings of trunk roads
#: happen at the nodes they share with other streets.
NO_WALK = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

#: Road classes a car may not use.
NO_DRIVE = frozenset({"footway", "path", "cycleway", "steps", "pedestrian"})

#: Free-flow driving speeds by road class (km/h) where ``maxspeed`` is not mapped. No junction
#: delays or congestion: driving isochrones are optimistic off-peak reach.
DRIVE_KMH: dict[str, float] = {
    "motorway": 80.0,
    "trunk": 60.0,
    "primary": 50.0,
    "secondary": 40.0,
    "tertiary": 35.0,
    "motorway_link": 50.0,
    "trunk_link": 40.0,
    "primary_link": 35.0,
    "secondary_link": 30.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "track": 15.0,
    "road": 30.0,
    "other": 25.0,
}
DRIVE_DEFAULT_KMH = 25.0


class Mode(StrEnum):
    """A travel mode of the street graph."""

    WALK = "walk"
    WHEELCHAIR = "wheelchair"
    DRIVE = "drive"


@dataclass(frozen=True)
class Profile:
    """How one mode uses the street network.

    ``excluded``: road classes it may not use; ``oneway``: whether one-way streets are
    one-way for it; ``speed_kmh``: a constant speed (walking modes), else ``DRIVE_KMH`` by
    class with the mapped ``maxspeed`` taking precedence; ``buffer_m``: the half-width of an
    isochrone around reachable streets.
    """

    mode: Mode
    excluded: frozenset[str]
    oneway: bool = False
    speed_kmh: float | None = WALK_KMH
    access_kmh: float = WALK_KMH
    buffer_m: float = 50.0
    drive_kmh: dict[str, float] = field(default_factory=dict)

    @property
    def metres_per_minute(self) -> float:
        """Return the constant speed in m/min (walking modes only)."""
        if self.speed_kmh is None:
            raise ValueError(f"{self.mode} has no constant speed")
        return self.speed_kmh * 1000.0 / 60.0

    @property
    def access_m_per_min(self) -> float:
        """Return the speed of the straight access leg between a point and its street."""
        return self.access_kmh * 1000.0 / 60.0


WALK = Profile(Mode.WALK, NO_WALK)
#: The wheelchair variant differs from walking only by avoiding steps (and by counting only
#: accessible destinations, see :data:`CATEGORIES`); the same speed keeps the two comparable.
WHEELCHAIR = Profile(Mode.WHEELCHAIR, NO_WALK | {"steps"})
DRIVE = Profile(
    Mode.DRIVE, NO_DRIVE, oneway=True, speed_kmh=None, buffer_m=100.0, drive_kmh=DRIVE_KMH
)
PROFILES: dict[Mode, Profile] = {p.mode: p for p in (WALK, WHEELCHAIR, DRIVE)}


def profile(name: str | Mode) -> Profile:
    """Return the profile ``name`` (walk, wheelchair, drive); raise :class:`BadInput` if unknown."""
    try:
        return PROFILES[Mode(str(name).lower())]
    except ValueError:
        raise BadInput(
            f"unknown mode {name!r}; use one of: {', '.join(m.value for m in Mode)}"
        ) from None


@dataclass(frozen=True)
class Category:
    """A destination category: which layer, which features, and how a feature is reached.

    Point features are reached at their point; polygon features (parks) at points every
    ``edge_spacing_m`` along their outline (a park is reached at its edge, not its centre).
    """

    name: str
    layer: str
    kinds: tuple[str, ...] | None = None
    edge_spacing_m: float | None = None


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("school", "schools", ("school",)),
        Category("kindergarten", "schools", ("kindergarten",)),
        Category("clinic", "health", ("clinic", "hospital")),
        Category("bus_stop", "bus_stops"),
        Category("park", "parks", edge_spacing_m=100.0),
    )
}

#: Wheelchair values that count as accessible for the wheelchair variant.
ACCESSIBLE = frozenset({"yes", "limited"})

#: The thresholds (minutes) of the district shares and the 15-minute-city score.
SHARE_MINUTES = (10.0, 15.0)
CITY_MINUTES = 15.0


def category(name: str) -> Category:
    """Return the category ``name``; raise :class:`BadInput` if unknown."""
    try:
        return CATEGORIES[name]
    except KeyError:
        raise BadInput(f"unknown category {name!r}; use one of: {', '.join(CATEGORIES)}") from None


def categories(names: str | list[str] | None) -> list[Category]:
    """Return the categories named in ``names`` (comma list or list; all when empty)."""
    if not names:
        return list(CATEGORIES.values())
    items = names.split(",") if isinstance(names, str) else names
    return [category(n.strip()) for n in items if n.strip()]
