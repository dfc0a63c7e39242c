"""Targets: the public street space cameras should see, cut into (tile, district) pieces,
and the weight of every square metre of it.

Street space is every road centreline (tunnels excepted) buffered by half the usual width of
its class, plus parks, gardens, playgrounds and similar open green space, minus building
footprints. Each piece also keeps the centrelines inside it (for the street-length share)
and three normalised weight factors at its tile: population density (from the 500 m grid),
POI density and appeal density, each divided by its city-wide mean so that 1 means "as dense
as the city on average". A request mixes them with :class:`Weights`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import shapely

from twin.analyses.coverage.grid import TileGrid, clip_to_tiles, union_by
from twin.analyses.coverage.visibility import Obstacles, polygonal_part
from twin.core import geometry
from twin.core.errors import BadInput

# Typical full width of the carriageway plus pavements, metres, by OSM highway class.
ROAD_WIDTH_M: dict[str, float] = {
    "motorway": 30.0,
    "trunk": 28.0,
    "primary": 24.0,
    "secondary": 20.0,
    "tertiary": 16.0,
    "motorway_link": 10.0,
    "trunk_link": 10.0,
    "primary_link": 10.0,
    "secondary_link": 9.0,
    "tertiary_link": 8.0,
    "unclassified": 10.0,
    "residential": 10.0,
    "living_street": 8.0,
    "road": 10.0,
    "service": 6.0,
    "pedestrian": 10.0,
    "footway": 4.0,
    "cycleway": 4.0,
    "steps": 4.0,
    "path": 3.0,
    "track": 5.0,
    "other": 6.0,
}
# Open green space people use; forests on the mountain slopes and closed stadiums are not.
PARK_KINDS = (
    "park",
    "garden",
    "playground",
    "recreation_ground",
    "pitch",
    "grass",
    "square",
)
FACTORS = ("population", "pois", "appeals")


@dataclass(frozen=True)
class Weights:
    """How much a square metre of street space counts: ``base`` everywhere plus each factor
    times its normalised density (1 = the city average)."""

    base: float = 1.0
    population: float = 1.0
    pois: float = 0.5
    appeals: float = 0.5

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(not np.isfinite(v) or v < 0 for v in values):
            raise BadInput("weights must be finite and >= 0")
        if sum(values) <= 0:
            raise BadInput("weights: at least one of base, population, pois, appeals must be > 0")

    @classmethod
    def from_mapping(cls, values: Mapping[str, float] | None) -> Weights:
        """Return weights from a mapping (missing keys keep their default)."""
        if not values:
            return cls()
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise BadInput(f"weights: unknown factor(s) {unknown}; use base, {', '.join(FACTORS)}")
        return cls(**{k: float(v) for k, v in values.items()})

    def density(self, factors: np.ndarray) -> np.ndarray:
        """Return the weight per m² for rows of (population, pois, appeals) factors."""
        f = np.asarray(factors, float).reshape(-1, 3)
        return self.base + f @ np.array([self.population, self.pois, self.appeals])


@dataclass(frozen=True)
class WeightField:
    """City-wide densities behind the weights, evaluated at tile centres."""

    cells: np.ndarray  # population grid polygons (metric)
    people_per_m2: np.ndarray
    points: tuple[np.ndarray, np.ndarray]  # POI and appeal points (metric)
    means: tuple[float, float, float]  # city-wide mean densities (per m²)
    grid: TileGrid

    @classmethod
    def build(
        cls,
        cells: np.ndarray,
        population: np.ndarray,
        pois: np.ndarray,
        appeals: np.ndarray,
        city_area_m2: float,
        grid: TileGrid,
    ) -> WeightField:
        """Return the field from the population grid, POI and appeal points and city area."""
        cells = np.asarray(cells, dtype=object)
        pop = np.nan_to_num(np.asarray(population, float), nan=0.0).clip(min=0)
        area = np.maximum(city_area_m2, 1.0)
        means = (
            max(float(pop.sum()) / area, 1e-12),
            max(len(pois) / area, 1e-12),
            max(len(appeals) / area, 1e-12),
        )
        return cls(
            cells=cells,
            people_per_m2=pop / np.maximum(shapely.area(cells), 1.0) if len(cells) else pop,
            points=(np.asarray(pois, dtype=object), np.asarray(appeals, dtype=object)),
            means=means,
            grid=grid,
        )

    def factors(self, tiles: np.ndarray) -> np.ndarray:
        """Return (n, 3) normalised densities (population, POIs, appeals) at tile centres.

        POIs and appeals are counted over the 3 × 3 tiles around each tile.
        """
        tiles = np.asarray(tiles, np.int64)
        out = np.zeros((len(tiles), 3))
        if len(tiles) == 0:
            return out
        cx, cy = self.grid.centres(tiles)
        if len(self.cells):
            tree = shapely.STRtree(self.cells)
            src, hit = tree.query(shapely.points(cx, cy), predicate="intersects")
            first = np.unique(src, return_index=True)[1]
            out[src[first], 0] = self.people_per_m2[hit[first]]
        ix, iy = self.grid.ixy(tiles)
        window = 9 * self.grid.size**2
        for col, pts in ((1, self.points[0]), (2, self.points[1])):
            if len(pts) == 0:
                continue
            keys, counts = np.unique(
                self.grid.at(shapely.get_x(pts), shapely.get_y(pts)), return_counts=True
            )
            total = np.zeros(len(tiles))
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    k = self.grid.key(ix + dx, iy + dy)
                    pos = np.clip(np.searchsorted(keys, k), 0, len(keys) - 1)
                    total += np.where(keys[pos] == k, counts[pos], 0)
            out[:, col] = total / window
        return out / np.array(self.means)


def street_lines(roads: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (centrelines, width, row) of the roads that are public street space.

    Tunnels are left out (a camera at street level cannot see into them); unknown classes
    take the width of ``other``.
    """
    if len(roads) == 0:
        return np.empty(0, dtype=object), np.empty(0), np.empty(0, np.int64)
    tunnel = roads["tunnel"].fillna(False).astype(bool).to_numpy() if "tunnel" in roads else None
    keep = ~tunnel if tunnel is not None else np.ones(len(roads), bool)
    highway = roads["highway"].fillna("other").astype(str).to_numpy()
    width = np.array([ROAD_WIDTH_M.get(h, ROAD_WIDTH_M["other"]) for h in highway])
    lines = np.asarray(roads.geometry.values, dtype=object)
    keep &= ~(shapely.is_missing(lines) | shapely.is_empty(lines))
    rows = np.flatnonzero(keep)
    return lines[rows], width[rows], rows


@dataclass
class Targets:
    """Street space cut into pieces, one per (tile, district), with what each needs."""

    grid: TileGrid
    district_names: list[str]
    geometry: np.ndarray
    tile: np.ndarray
    district: np.ndarray
    area: np.ndarray
    streets: np.ndarray
    street_length: np.ndarray
    factors: np.ndarray
    scope: shapely.Geometry
    regions: np.ndarray  # each district's part of the scope, aligned with district_names

    def __len__(self) -> int:
        return len(self.geometry)


def build_targets(
    *,
    scope: shapely.Geometry,
    districts: Mapping[str, shapely.Geometry],
    roads: gpd.GeoDataFrame,
    parks: np.ndarray,
    obstacles: Obstacles,
    field: WeightField,
    grid: TileGrid,
) -> Targets:
    """Return the street-space pieces inside ``scope`` (all inputs metric).

    ``districts`` maps names to polygons; street space outside every district is left out.
    """
    names = sorted(districts)
    lines, width, _ = street_lines(roads)
    buffers = shapely.buffer(lines, width / 2.0, quad_segs=2)
    parks = np.asarray(parks, dtype=object)
    parks = parks[~(shapely.is_missing(parks) | shapely.is_empty(parks))] if len(parks) else parks
    elements = np.concatenate([buffers, parks])
    # prepared private copies: the scope may be the cached boundary, and the regions are kept
    # in the model that server threads share (twin.core.geometry)
    own_scope = geometry.private(scope)
    if len(elements):
        elements = elements[shapely.intersects(own_scope, elements)]

    # Street space per tile, then minus the footprints in the tile.
    _, tkey, tgeom = clip_to_tiles(grid, elements)
    tiles, space = union_by(tkey, tgeom)
    if len(obstacles) and len(tiles):
        _, bkey, bgeom = clip_to_tiles(grid, obstacles.parts, only=tiles)
        btiles, built = union_by(bkey, bgeom)
        at = np.searchsorted(tiles, btiles)
        space[at] = shapely.difference(space[at], built)

    # Split by district (inside the scope); most tiles lie wholly in one.
    regions = np.asarray([shapely.intersection(districts[n], scope) for n in names], dtype=object)
    own_regions = np.asarray([geometry.private(r) for r in regions], dtype=object)
    boxes = grid.boxes(tiles)
    tree = shapely.STRtree(regions)
    tidx, ridx = tree.query(boxes, predicate="intersects")
    pieces = space[tidx].copy()
    cut = ~shapely.contains(own_regions[ridx], boxes[tidx])
    if cut.any():
        pieces[cut] = shapely.intersection(space[tidx[cut]], regions[ridx[cut]])
    pieces = polygonal_part(pieces)
    keep = shapely.area(pieces) > 0.01
    tidx, ridx, pieces = tidx[keep], ridx[keep], pieces[keep]
    tile = tiles[tidx]

    # Centrelines inside each piece's street space (not under buildings).
    streets = np.full(len(pieces), shapely.MultiLineString(), dtype=object)
    if len(lines) and len(pieces):
        lines_in = lines[shapely.intersects(own_scope, lines)]
        _, lkey, lgeom = clip_to_tiles(grid, lines_in, only=np.unique(tile))
        ltiles, lunion = union_by(lkey, lgeom)
        pos = np.searchsorted(ltiles, tile)
        has = (pos < len(ltiles)) & (ltiles[np.minimum(pos, len(ltiles) - 1)] == tile)
        streets[has] = shapely.intersection(lunion[pos[has]], pieces[has])
    return Targets(
        grid=grid,
        district_names=names,
        geometry=pieces,
        tile=tile,
        district=ridx,
        area=shapely.area(pieces),
        streets=streets,
        street_length=shapely.length(streets),
        factors=field.factors(tile),
        scope=scope,
        regions=regions,
    )
