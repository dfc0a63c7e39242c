"""The planner's "if scenario X happened" view, per district.

What the sources allow, said plainly: the study publishes each scenario's losses for the city
(fatalities, loss, completely damaged buildings, mean ± sd) and, per district, the same three
means summed over the exposure points inside each district (its ``districts_with_openquake_
results`` files; they add up to the city totals exactly). Beside them the twin shows what stands
where — residential buildings and night-time occupants (GEM exposure), the share of them on soft
ground (NEHRP site class D or E, from the nearest Vs30 point), and the real schools and clinics
on soft ground, which amplifies shaking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

import layers
from etl import seismic
from layers.seismic import SEISMIC_CITATION
from twin.core.errors import NotFound
from twin.store import Store

SOFT = ("D", "E")
SCENARIO_RESULTS = {
    "source": (
        "Amey et al. 2021, OpenQuake 3.8.1 scenario results: city totals and per district "
        "(ruthamey/almaty_hazard_risk results/, data/almaty/seismic)"
    ),
    "licence": "no licence stated by the authors; cited as the publication asks",
}
MAX_NAMED = 50  # schools and clinics listed by name per district


def scenarios(data_dir: Path) -> list[dict[str, Any]]:
    """Return every scenario with its city totals and titles."""
    path = data_dir / "almaty/seismic/scenario_damage_loss_totals.csv"
    out = []
    for s in seismic.read_scenarios(path):
        ru, kk, en = seismic.SCENARIO_TITLES.get(s.id, (s.id, s.id, s.id))
        out.append(
            {
                "id": s.id,
                "title": {"ru": ru, "kk": kk, "en": en},
                "city_totals": {m: {"mean": s.mean[m], "sd": s.sd[m]} for m in seismic.MEASURES},
            }
        )
    return out


def district_losses(data_dir: Path, scenario_id: str) -> dict[int, dict[str, float]]:
    """Return the study's results of one scenario by OSM relation id of the district."""
    frame = seismic.read_district_results(data_dir / "almaty/seismic/districts")
    mine = frame[frame["scenario"] == scenario_id]
    return {
        int(r["osm_id"]): {
            "collapsed_buildings": round(float(r["collapsed_buildings"]), 1),
            "fatalities": round(float(r["fatalities"]), 1),
            "loss_usd": round(float(r["loss_usd"])),
        }
        for r in mine.to_dict("records")
    }


def _soft(points: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Return, per point, whether its nearest Vs30 point is on soft ground."""
    if points.empty or sites.empty:
        return np.zeros(len(points), dtype=bool)
    s = sites.to_crs(32643).geometry
    p = points.to_crs(32643).geometry.representative_point()
    tree = cKDTree(np.column_stack([s.x.to_numpy(), s.y.to_numpy()]))
    _, idx = tree.query(np.column_stack([p.x.to_numpy(), p.y.to_numpy()]))
    return np.isin(sites["site_class"].to_numpy()[idx], SOFT)


def _district_of(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> np.ndarray:
    joined = gpd.sjoin(
        points[["geometry"]].reset_index(drop=True),
        districts[["name", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated()]
    return joined["name"].to_numpy()


def scenario_view(store: Store, data_dir: Path, scenario_id: str) -> dict[str, Any]:
    """Return a scenario's city totals and, per district, the exposure and soft-ground figures."""
    found = {s["id"]: s for s in scenarios(data_dir)}
    if scenario_id not in found:
        raise NotFound(f"no scenario {scenario_id!r}; scenarios: {', '.join(found)}")
    sites = store.read_frame(layers.get("seismic_sites"))
    exposure = store.read_frame(layers.get("seismic_exposure"))
    districts = store.read_frame(layers.get("districts"))
    exposure = exposure.assign(soft=_soft(exposure, sites))
    losses = district_losses(data_dir, scenario_id)
    osm_of = dict(zip(districts["name"], districts["osm_id"], strict=True))
    places = []
    for layer_id, kind in (("schools", "school"), ("health", "clinic")):
        frame = store.read_frame(layers.get(layer_id))
        frame = frame[~frame["synthetic"]]  # generated schools are not facts
        if frame.empty:
            continue
        part = gpd.GeoDataFrame(
            {"kind": kind, "name": frame["name"].astype(object).where(frame["name"].notna())},
            geometry=frame.geometry.values,
            crs=4326,
        )
        part["soft"] = _soft(part, sites)
        part["district"] = _district_of(part, districts)
        places.append(part)
    rows = []
    for name in sorted(districts["name"].dropna()):
        mine = exposure[exposure["district"] == name]
        soft = mine[mine["soft"]]
        row: dict[str, Any] = {
            "district": name,
            "buildings": int(mine["buildings"].sum()),
            "occupants_night": int(mine["occupants_night"].sum()),
            "buildings_on_soft_ground": int(soft["buildings"].sum()),
            "occupants_on_soft_ground": int(soft["occupants_night"].sum()),
            "losses": losses.get(int(osm_of[name])) if osm_of.get(name) is not None else None,
        }
        for part in places:
            kind = str(part["kind"].iloc[0])
            on_soft = part[(part["district"] == name) & part["soft"]]
            row[f"{kind}s_on_soft_ground"] = len(on_soft)
            row[f"{kind}s_on_soft_ground_names"] = sorted(str(n) for n in on_soft["name"].dropna())[
                :MAX_NAMED
            ]
        rows.append(row)
    return {
        **found[scenario_id],
        "districts": rows,
        "soft_ground": "NEHRP site class D or E (Vs30 < 360 m/s) at the nearest Vs30 point",
        "note": (
            "Losses per district are the study's means summed over the exposure points inside "
            "each district (2019 OSM district polygons); they add up to the city totals. The "
            "city totals carry the standard deviation. Exposure: what stands where, and how "
            "much of it is on soft ground."
        ),
        "citation": SEISMIC_CITATION,
        "sources": {
            lid: {"source": layers.get(lid).source, "licence": layers.get(lid).licence}
            for lid in ("seismic_sites", "seismic_exposure", "schools", "health")
        }
        | {"scenario_results": SCENARIO_RESULTS},
    }
