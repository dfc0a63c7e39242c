"""Site selection over a store: build the :class:`SiteModel` once per store version and
answer the CLI's and the HTTP router's questions from it.

The street graph and city boundary come from the access package's per-store cache
(:func:`twin.analyses.access.service.city_of`); the model adds the layers it needs and keeps
its own caches (cells, walks between cells, factors per category). Any change in the store
(``Store.last_change_id``) drops them.

Everything is computed in process with scipy whatever the store, so the embedded store and
PostGIS give identical answers from identical layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import sqlalchemy as sa

import layers
from twin.analyses.access.service import city_of
from twin.analyses.memo import StoreMemo
from twin.analyses.site.catchments import building_catchments, catchments, niches
from twin.analyses.site.categories import SiteCategory, categories, category
from twin.analyses.site.cells import RES_DEFAULT, check_res
from twin.analyses.site.model import SiteModel
from twin.analyses.site.scoring import NEAREST_LIMIT, parse_weights, score
from twin.core.errors import BadInput
from twin.store import Store

MAX_TOP = 1000
_FRAMES = ("pois", "health", "bus_stops", "buildings", "population_grid", "districts", "roads")


def read_model(store: Store) -> SiteModel:
    """Return a fresh :class:`SiteModel` of ``store``."""
    city = city_of(store)
    frames = {lid: store.read_frame(layers.get(lid)) for lid in _FRAMES}
    for cat in categories().values():
        if cat.layer not in frames:
            frames[cat.layer] = store.read_frame(layers.get(cat.layer))
    return SiteModel(city.graph, city.boundary, frames)


_MODELS: StoreMemo[SiteModel] = StoreMemo(read_model, size=4)


def model_of(store: Store) -> SiteModel:
    """Return the (cached) site model of ``store``, rebuilt after any change in it."""
    return _MODELS.get(store)


def check_top(top: int) -> int:
    """Return ``top`` if it is in 1..1000; raise :class:`BadInput` otherwise."""
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or not 0 < top <= MAX_TOP:
        raise BadInput(f"top must be an integer in 1..{MAX_TOP}, got {top!r}")
    return int(top)


def district_names(model: SiteModel, text: str | None) -> str | None:
    """Return the canonical district name for ``text`` (English, Russian or Kazakh name, any
    case); ``None`` for no filter. Raise :class:`BadInput` for an unknown district."""
    if text is None or not text.strip():
        return None
    wanted = text.strip().casefold()
    frame = model.frames["districts"]
    for _, row in frame.iterrows():
        names = [row.get(c) for c in ("name", "name_ru", "name_kk")]
        names = [n for n in names if isinstance(n, str) and n.strip()]
        # "Медеу" for "Медеу ауданы" / "Медеуский район": the name without "district".
        short = [n.split()[0] for n in names[1:]]
        if any(n.casefold() == wanted for n in [*names, *short]):
            return str(row["name"])
    known = ", ".join(sorted(str(n) for n in frame["name"].dropna()))
    raise BadInput(f"unknown district {text!r}; use one of: {known}")


@dataclass(frozen=True)
class SiteResult:
    """Ranked candidate cells for a category, with the parameters that produced them."""

    category: SiteCategory
    res: int
    weights: dict[str, float]
    district: str | None
    cells: pd.DataFrame
    total: int


class SiteService:
    """Site scores, niches and catchments for one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.model = model_of(store)

    def site(
        self,
        category_name: str,
        *,
        top: int | None = 20,
        res: int = RES_DEFAULT,
        weights: str | Mapping[str, float] | None = None,
        district: str | None = None,
    ) -> SiteResult:
        """Return the ``top`` cells for ``category_name`` (all cells with ``top=None``),
        ranked city-wide; with ``district`` only that district's cells (ranks stay
        city-wide). Each cell carries its nearest address or street (``place``)."""
        return self.ranked(category(category_name), top=top, res=res, weights=weights,
                           district=district)  # fmt: skip

    def ranked(
        self,
        cat: SiteCategory,
        *,
        top: int | None = 20,
        res: int = RES_DEFAULT,
        weights: str | Mapping[str, float] | None = None,
        district: str | None = None,
    ) -> SiteResult:
        """:meth:`site` for a category object (a business's own, or one of the table's)."""
        res = check_res(res)
        if top is not None:
            top = check_top(top)
        w = parse_weights(weights)
        name = district_names(self.model, district)
        ranked = score(self.model.factors(cat, res), w)
        chosen = ranked if name is None else ranked[ranked["district"] == name]
        total = len(chosen)
        if top is not None:
            chosen = chosen.head(top)
        chosen = self.model.with_places(chosen.reset_index(drop=True))
        return SiteResult(cat, res, w, name, chosen, total)

    def niches(
        self,
        category_name: str,
        *,
        res: int = RES_DEFAULT,
        weights: str | Mapping[str, float] | None = None,
        district: str | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the niches of ``category_name`` (see :func:`niches`)."""
        result = self.site(category_name, top=None, res=res, weights=weights)
        found = niches(result.cells, result.category)
        name = district_names(self.model, district)
        if name is not None:
            found = found[found["district"] == name].reset_index(drop=True)
        return found

    def catchments(
        self, category_name: str, *, res: int = RES_DEFAULT, district: str | None = None
    ) -> tuple[gpd.GeoDataFrame, dict[str, object]]:
        """Return each outlet's network catchment (cells at ``res``) and a summary."""
        cat = category(category_name)
        res = check_res(res)
        name = district_names(self.model, district)
        factors = self.model.factors(cat, res)
        found = self.model.outlets(cat, res)
        frame = catchments(factors, found)
        grid = self.model.cells(res)
        frame["district"] = grid.district[found.cell] if len(found) else []
        frame.loc[found.cell < 0, "district"] = None
        if name is not None:
            frame = frame[frame["district"] == name]
        # All residents the cells hold, those living just outside the boundary included:
        # they are in the outlets' catchments too.
        pop = factors["residents_cell"]
        summary: dict[str, object] = {
            "outlets": len(found),
            "residents": float(pop.sum()),
            "unassigned_residents": float(pop[factors["nearest_fid"] < 0].sum()),
            "limit_minutes": NEAREST_LIMIT,
        }
        return frame.reset_index(drop=True), summary

    def building_catchments(self, category_name: str) -> gpd.GeoDataFrame:
        """Return every building with its nearest outlet of ``category_name`` and residents."""
        cat = category(category_name)
        grid = self.model.cells(RES_DEFAULT)
        return building_catchments(
            self.model.walk,
            self.model.frames["buildings"],
            grid.building_residents,
            self.model.outlets(cat),
        )

    def check_custom(self, cat: SiteCategory) -> SiteCategory:
        """Return ``cat`` if each of its point-of-interest categories exists in the city;
        raise :class:`BadInput` naming the first that does not (a typo would otherwise score
        a city without competitors)."""
        known = set(self.model.frames["pois"]["category"].dropna().astype(str))
        missing = [v for v in cat.values if v not in known]
        if missing:
            common = self.model.frames["pois"]["category"].value_counts().head(12).index
            raise BadInput(
                f"pois: no point of interest of category {missing[0]!r} in the city; "
                f"common ones: {', '.join(map(str, common))}"
            )
        return cat

    def footfall(
        self, cat: SiteCategory, lon: float, lat: float, res: int = RES_DEFAULT
    ) -> dict[str, object]:
        """Return the parts of the access factor at the cell of (lon, lat) for ``cat``:
        transit (bus stops within 5 min), road (the busiest street class at the cell) and
        footfall (points of interest within 5 min, other than the category's own), each
        with the count behind it and its 0–1 value; raise :class:`BadInput` outside the
        city's cells."""
        res = check_res(res)
        factors = self.model.factors(cat, res)
        cell = h3.latlng_to_cell(lat, lon, res)
        row = factors[(factors["h3"] == cell) & factors["inside"]]
        if row.empty:
            raise BadInput(f"({lon:.5f}, {lat:.5f}) is outside the city's cells")
        r = row.iloc[0]
        return {
            "h3": cell,
            "district": r["district"],
            "access": float(r["access"]),
            "transit": {"bus_stops_within": int(r["bus_stops_within"]),
                        "value": float(r["transit"])},
            "road": {"road_class": r["road_class"], "value": float(r["road"])},
            "pois": {"pois_within": int(r["pois_within"]), "value": float(r["footfall"])},
        }  # fmt: skip

    def dynamics(self, cat: SiteCategory) -> dict[str, object]:
        """Return the category's outlets over time as far as the data has dates: the
        outlets there now by the month the twin last loaded them (``loaded_at``; the OSM
        extract itself dates no shop), and every load of the category's layer with its
        inserted, updated and deleted rows (``twin_provenance``)."""
        t = self.store.tables[cat.layer]
        p = self.store.metadata.tables["twin_provenance"]
        month = sa.func.substr(t.c.loaded_at, 1, 7)
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(month.label("month"), sa.func.count().label("n"))
                .where(t.c[cat.field].in_(cat.values))
                .group_by(month)
                .order_by(month)
            ).all()
            loads = conn.execute(
                sa.select(p.c.loaded_at, p.c.source, p.c.file, p.c.inserted, p.c.updated,
                          p.c.deleted)
                .where(p.c.layer == cat.layer)
                .order_by(p.c.id)
            ).all()  # fmt: skip
        series, total = [], 0
        for r in rows:
            total += int(r.n)
            series.append({"month": r.month, "outlets": int(r.n), "cumulative": total})
        return {
            "outlets": total,
            "by_load_month": series,
            "loads": [
                {"loaded_at": r.loaded_at, "source": r.source, "file": r.file,
                 "inserted": r.inserted, "updated": r.updated, "deleted": r.deleted}
                for r in loads
            ],
            "dated_by": "loaded_at",
            "note": "the outlets carry no opening dates: each is dated by the load that last "
            "brought it into the twin; a layer loaded once gives one point",
        }  # fmt: skip
