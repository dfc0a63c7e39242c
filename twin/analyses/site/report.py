"""An HTML report for analysts: the ranked hexagons on a pydeck map (H3HexagonLayer), the
existing outlets and their catchments, the niches, and a table of the best cells with the
reasons behind each score.

The page works offline. pydeck's ``to_html`` loads deck.gl from a CDN and a base map from
CARTO; here the deck.gl bundle that the pydeck wheel ships (``pydeck/nbextension/static/
index.js``, the ``@deck.gl/jupyter-widget`` build with h3-js inside) is inlined with
``offline=True``, every remaining remote ``<script>``/``<link>`` of pydeck's template is
removed, and there is no base map: the districts and the main streets are drawn from the
twin's own layers instead. The file is self-contained (~4.5 MB) and opens from disk.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

from twin.analyses.access.graph import to_lonlat
from twin.analyses.site.model import SiteModel
from twin.analyses.site.output import FACTOR_TITLES, why
from twin.analyses.site.service import SiteResult

#: Street classes drawn for orientation (there is no base map).
MAIN_STREETS = ("trunk", "primary", "secondary")
_REMOTE = re.compile(
    r"<script[^>]+src=[\"']https?://[^>]*>\s*</script>|<link[^>]+href=[\"']?https?://[^>]*>",
    re.IGNORECASE,
)


def _ramp(values: np.ndarray) -> list[list[int]]:
    """Return an RGBA colour per value in 0–100 (pale yellow → deep red)."""
    stops = np.array([[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28],
                      [128, 0, 38]], dtype=float)  # fmt: skip
    x = np.clip(np.nan_to_num(values / 100.0), 0, 1) * (len(stops) - 1)
    lo = np.floor(x).astype(int).clip(0, len(stops) - 2)
    f = (x - lo)[:, None]
    rgb = stops[lo] * (1 - f) + stops[lo + 1] * f
    return [[int(r), int(g), int(b), 200] for r, g, b in rgb]


def _streets(model: SiteModel) -> list[dict[str, Any]]:
    g = model.graph
    keep = np.isin(g.highway.astype(str), MAIN_STREETS)
    if not keep.any():
        return []
    ax, ay = to_lonlat().transform(g.a[keep, 0], g.a[keep, 1])
    bx, by = to_lonlat().transform(g.b[keep, 0], g.b[keep, 1])
    return [{"s": [float(a), float(b)], "t": [float(c), float(d)]}
            for a, b, c, d in zip(ax, ay, bx, by, strict=True)]  # fmt: skip


def _geojson(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    keep = frame[[c for c in columns if c in frame] + ["geometry"]]
    keep = keep[keep.geometry.notna()]
    data: dict[str, Any] = json.loads(keep.to_json(na="null", drop_id=True))
    return data


def deck(
    model: SiteModel,
    result: SiteResult,
    ranked_all: pd.DataFrame,
    catchments: gpd.GeoDataFrame,
    niches: gpd.GeoDataFrame,
) -> pdk.Deck:
    """Return the pydeck map of a site result."""
    cat = result.category
    cells = ranked_all.copy()
    cells["color"] = _ramp(cells["score"].to_numpy(float))
    cells["why"] = [why(r, cat) for _, r in cells.iterrows()]
    for col in ("score", "demand_pts", "competition_pts", "access_pts", "residents_within"):
        cells[col] = cells[col].round(1)
    hexes = cells[["h3", "rank", "score", "demand_pts", "competition_pts", "access_pts",
                   "residents_within", "why", "color"]]  # fmt: skip
    top = set(result.cells["h3"])
    layers = [
        pdk.Layer(
            "GeoJsonLayer", _geojson(model.frames["districts"], ["name"]), stroked=True,
            filled=False, get_line_color=[80, 70, 130, 255], line_width_min_pixels=1.5,
        ),
        pdk.Layer(
            "LineLayer", _streets(model), get_source_position="s", get_target_position="t",
            get_color=[150, 150, 150, 160], get_width=1,
        ),
        pdk.Layer(
            "H3HexagonLayer", hexes.to_dict("records"), get_hexagon="h3",
            get_fill_color="color", extruded=False, stroked=False, pickable=True,
            opacity=0.55,
        ),
        pdk.Layer(
            "H3HexagonLayer", hexes[hexes["h3"].isin(top)].to_dict("records"),
            get_hexagon="h3", filled=False, stroked=True, get_line_color=[20, 20, 20, 255],
            line_width_min_pixels=2, extruded=False, pickable=False,
        ),
        pdk.Layer(
            "GeoJsonLayer", _geojson(catchments, ["fid", "name", "residents"]), stroked=True,
            filled=False, get_line_color=[30, 100, 200, 200], line_width_min_pixels=1,
        ),
        pdk.Layer(
            "GeoJsonLayer", _geojson(niches, ["niche", "captured"]), stroked=True,
            filled=False, get_line_color=[0, 150, 60, 255], line_width_min_pixels=3,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            pd.DataFrame({"lon": catchments["lon"], "lat": catchments["lat"],
                          "name": catchments["name"].fillna("")}).to_dict("records"),
            get_position=["lon", "lat"], get_fill_color=[20, 60, 160, 255],
            get_radius=40, radius_min_pixels=3,
        ),
    ]  # fmt: skip
    best = result.cells.iloc[0] if len(result.cells) else cells.iloc[0]
    view = pdk.ViewState(latitude=float(best["lat"]), longitude=float(best["lon"]), zoom=11.5)
    tooltip = {
        "html": "<b>#{rank}</b> score {score}<br/>demand {demand_pts} · competition "
        "{competition_pts} · access {access_pts}<br/>{why}",
        "style": {"fontSize": "12px", "maxWidth": "360px"},
    }
    return pdk.Deck(
        layers=layers,
        initial_view_state=view,
        map_provider=None,
        map_style=None,
        tooltip=tooltip,
    )


def _panel(result: SiteResult, extra: dict[str, Any]) -> str:
    cat = result.category
    w = result.weights
    rows = "".join(
        f"<tr><td>{r['rank']}</td><td>{html.escape(str(r['district'] or ''))}</td>"
        f"<td>{r['score']:.1f}</td><td>{r['demand_pts']:.1f}</td>"
        f"<td>{r['competition_pts']:.1f}</td><td>{r['access_pts']:.1f}</td>"
        f"<td class=why>{html.escape(why(r, cat))}</td></tr>"
        for _, r in result.cells.head(20).iterrows()
    )
    weights = ", ".join(f"{FACTOR_TITLES[k].en.lower()} {v:g}" for k, v in w.items())
    notes = "".join(f"<li>{html.escape(k)}: {html.escape(str(v))}</li>" for k, v in extra.items())
    return f"""
<div id="site-panel">
  <h2>{html.escape(cat.title.en)} — where to open</h2>
  <p>H3 resolution {result.res}; walking reach {cat.minutes:g} min; weights: {weights}.
  {("District: " + html.escape(result.district) + ".") if result.district else "City-wide."}
  Colour: score (pale = low, dark red = high); black outline: the top {len(result.cells)};
  blue: existing outlets and their walking catchments; green: niches.</p>
  <ul>{notes}</ul>
  <table><tr><th>#</th><th>district</th><th>score</th><th>demand</th><th>compet.</th>
  <th>access</th><th>why</th></tr>{rows}</table>
  <p class="src">Data: © OpenStreetMap contributors (ODbL), 2012 extract; population: modelled
  500 m grid (city1-kazakhstan-proxy-population). Almaty City Twin.</p>
</div>"""


_STYLE = """
<style>
#site-panel { position: absolute; top: 10px; left: 10px; z-index: 10; width: 560px;
  max-height: 92vh; overflow: auto; background: rgba(255,255,255,0.94); padding: 10px 14px;
  font: 12px/1.35 system-ui, sans-serif; border-radius: 6px; box-shadow: 0 1px 6px #0004; }
#site-panel h2 { font-size: 16px; margin: 0 0 6px; }
#site-panel table { border-collapse: collapse; width: 100%; }
#site-panel td, #site-panel th { border-bottom: 1px solid #ddd; padding: 2px 4px;
  vertical-align: top; text-align: right; }
#site-panel td.why { text-align: left; font-size: 11px; color: #333; }
#site-panel .src { color: #666; font-size: 10px; }
body { background: #f4f1ec; }
</style>
"""


def report_html(
    model: SiteModel,
    result: SiteResult,
    ranked_all: pd.DataFrame,
    catchments: gpd.GeoDataFrame,
    niches: gpd.GeoDataFrame,
    extra: dict[str, Any] | None = None,
) -> str:
    """Return the self-contained HTML report (no request leaves the page when viewed)."""
    page = deck(model, result, ranked_all, catchments, niches).to_html(
        as_string=True, offline=True, notebook_display=False
    )
    assert isinstance(page, str)
    page = _REMOTE.sub("", page)
    page = page.replace("<title>pydeck</title>", f"<title>Site selection — "
                        f"{html.escape(result.category.title.en)}</title>")  # fmt: skip
    page = page.replace("</head>", _STYLE + "</head>", 1)
    return page.replace("</body>", _panel(result, extra or {}) + "</body>", 1)


def write_report(path: Path, page: str) -> None:
    """Write the report to ``path``."""
    path.write_text(page, encoding="utf-8")
