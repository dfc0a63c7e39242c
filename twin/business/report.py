"""A market report for one site and category: something to take to a bank or a landlord.

:func:`market_report` gathers the figures (the site scored as in a batch, its walking
catchment as H3 cells, the competitors in it, the district's indicators, where each input
comes from, how old and how complete it is); :func:`report_html` writes them as one printable
page in Russian, Kazakh or English, with the map drawn as inline SVG (no script, no tiles: it
prints and opens offline); :func:`report_pdf` prints that page with Chromium, the renderer
the browser tests already drive (Debian's ``/usr/bin/chromium``), two at a time at most.
"""

from __future__ import annotations

import html
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import h3
import numpy as np

import layers
from twin.analyses.access.graph import metric_xy
from twin.analyses.access.search import snap
from twin.analyses.site.batch import score_points
from twin.analyses.site.categories import SiteCategory, category
from twin.analyses.site.cells import RES_DEFAULT
from twin.analyses.site.model import INPUT_LAYERS
from twin.analyses.site.reach import local_times
from twin.analyses.site.service import model_of
from twin.core.errors import BadInput, NotFound
from twin.dashboard import district_dashboard
from twin.store import Store

LANGS = ("ru", "kk", "en")

_T: dict[str, tuple[str, str, str]] = {
    "title": ("Рыночный отчёт", "Нарық есебі", "Market report"),
    "site": ("Место", "Орын", "Site"),
    "category": ("Вид бизнеса", "Бизнес түрі", "Business"),
    "score": ("Оценка места", "Орын бағасы", "Site score"),
    "rank": ("Место среди ячеек города", "Қала ұяшықтары арасындағы орны", "Rank among city cells"),
    "district": ("Район", "Аудан", "District"),
    "demand": ("Спрос и конкуренция", "Сұраныс пен бәсеке", "Demand and competition"),
    "residents": (
        "Жителей в пешей доступности",
        "Жаяу жетуге болатын тұрғындар",
        "Residents within walking distance",
    ),
    "minutes": ("мин", "мин", "min"),
    "competitors": ("Ближайшие конкуренты", "Жақын бәсекелестер", "Nearest competitors"),
    "walk": ("пешком", "жаяу", "on foot"),
    "none": ("нет в пределах 30 мин", "30 мин ішінде жоқ", "none within 30 min"),
    "why": ("Почему такая оценка", "Неліктен мұндай баға", "Why this score"),
    "indicators": ("Показатели района", "Аудан көрсеткіштері", "District indicators"),
    "value": ("Значение", "Мәні", "Value"),
    "city": ("Среднее по городу", "Қала бойынша орташа", "City average"),
    "generated": ("сгенерировано", "генерацияланған", "generated"),
    "sources": (
        "Данные: источник, возраст, полнота",
        "Деректер: көзі, жасы, толықтығы",
        "Data: source, age, completeness",
    ),
    "layer": ("Слой", "Қабат", "Layer"),
    "features": ("Объектов", "Нысандар", "Features"),
    "loaded": ("Загружено", "Жүктелген", "Loaded"),
    "as_of": ("Данные на", "Деректер күні", "Data as of"),
    "completeness": ("Полнота", "Толықтығы", "Completeness"),
    "of_estimate": (
        "{n} из примерно {m} ({share} %)",
        "шамамен {m} ішінен {n} ({share} %)",
        "{n} of an estimated {m} ({share} %)",
    ),
    "real": ("Реальные", "Нақты", "Real"),
    "licence": ("Лицензия", "Лицензия", "Licence"),
    "method": ("Метод", "Әдіс", "Method"),
    "map": (
        "Зона охвата (пешком) и конкуренты",
        "Қамту аймағы (жаяу) және бәсекелестер",
        "Walking catchment and competitors",
    ),
    "made": ("Составлено", "Жасалған", "Made"),
    "outside": ("Место вне города", "Орын қаладан тыс", "The site is outside the city"),
}

_METHOD = {
    "ru": "Город разбит на шестиугольные ячейки H3 (~170 м). Для каждой ячейки считаются спрос "
    "(жители в {m} мин ходьбы по уличной сети, по зданиям и сетке населения), конкуренция (доля "
    "этих жителей, которую новая точка отвоевала бы у существующих по модели Хаффа) и доступность "
    "(остановки, главная улица, объекты рядом). Оценка 0–100 — взвешенная сумма; место получает "
    "оценку своей ячейки. Время ходьбы — по графу улиц OpenStreetMap, 4,5 км/ч.",
    "kk": "Қала H3 алтыбұрышты ұяшықтарына (~170 м) бөлінеді. Әр ұяшық үшін сұраныс (көше желісі "
    "бойынша {m} мин жаяу жүрістегі тұрғындар), бәсеке (Хафф моделі бойынша жаңа нүкте тартып "
    "алатын тұрғындар үлесі) және қолжетімділік (аялдамалар, негізгі көше, маңайдағы нысандар) "
    "есептеледі. 0–100 баға — салмақталған қосынды; орын өз ұяшығының бағасын алады. Жаяу жүру "
    "уақыты OpenStreetMap көше графы бойынша, 4,5 км/сағ.",
    "en": "The city is divided into H3 hexagonal cells (~170 m). For each cell the model counts "
    "demand (residents within {m} minutes' walk on the street network, from buildings and the "
    "population grid), competition (the Huff share of those residents a new outlet would win "
    "from the existing ones) and access (bus stops, the main street, places nearby). The 0–100 "
    "score is their weighted sum; a site gets the score of its cell. Walking times follow the "
    "OpenStreetMap street graph at 4.5 km/h.",
}


#: a layer's completeness in words (as the map says it: web/src/provenance.js)
_COMPLETENESS: dict[str, tuple[str, str, str]] = {
    "complete": ("полные", "толық", "complete"),
    "incomplete": ("неполные", "толық емес", "incomplete"),
    "sparse": ("очень неполные", "өте толық емес", "sparse"),
    "modelled": ("модельная оценка", "модельдік бағалау", "modelled estimate"),
    "partly_generated": ("частично демо-данные", "ішінара демо-деректер", "partly demo data"),
    "generated": ("демо-данные, не городские", "демо-деректер, қаланікі емес",
                  "demo data, not the city's"),
}  # fmt: skip


def _t(key: str, lang: str) -> str:
    return _T[key][LANGS.index(lang)]


@dataclass(frozen=True)
class MarketReport:
    """What the report says about one site (JSON-ready values)."""

    label: str
    lon: float
    lat: float
    category: SiteCategory
    lang: str
    site: dict[str, Any]
    catchment: list[tuple[str, float]]
    competitors: list[dict[str, Any]]
    district: dict[str, Any] | None
    sources: list[dict[str, Any]]
    made: str


def _sources(store: Store, cat: SiteCategory) -> list[dict[str, Any]]:
    """Return, per input layer, its source, licence, feature count, share of real (not
    generated) features, when it was last loaded, and from its declared provenance the time
    the data describe (``as_of``: the bundled points of interest are a 2012 map, whatever
    day they were loaded) and how complete they are (with the city's estimated count where
    one is known)."""
    out = []
    # the load log, newest first: a layer's last load (the frame has no loaded_at column:
    # read from it, this column of the report was always empty)
    last_load: dict[str, str] = {}
    for load in store.provenance():
        last_load.setdefault(str(load["layer"]), str(load["loaded_at"]))
    for lid in dict.fromkeys([*INPUT_LAYERS, cat.layer]):
        layer = layers.get(lid)
        prov = layer.provenance
        frame = store.read_frame(layer)
        synthetic = frame.get("synthetic", None)
        loaded = last_load.get(lid)
        real = None if synthetic is None or not len(frame) else float(1 - synthetic.mean())
        out.append(
            {
                "layer": lid,
                "title": layer.title.as_dict(),
                "source": layer.source or layer.attribution,
                "licence": layer.licence,
                "features": len(frame),
                "real_share": real,
                "loaded_at": None if loaded is None else str(loaded)[:10],
                "as_of": (prov.as_of or None) if prov else None,
                "completeness": prov.completeness.value if prov else None,
                "estimate": prov.estimate if prov else None,
                "note": prov.note.as_dict() if prov and prov.note else None,
            }
        )
    return out


def market_report(
    store: Store,
    lon: float,
    lat: float,
    category_name: str,
    *,
    label: str = "",
    lang: str = "ru",
    res: int = RES_DEFAULT,
) -> MarketReport:
    """Return the report of the site at ``lon``, ``lat`` for ``category_name``; raise
    :class:`BadInput` for an unknown language or category or a site outside the city."""
    if lang not in LANGS:
        raise BadInput(f"unknown language {lang!r}; use one of: {', '.join(LANGS)}")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise BadInput("lon and lat must be finite numbers")
    cat = category(category_name)
    model = model_of(store)
    row = score_points(model, cat, np.array([lon]), np.array([lat]), res=res).iloc[0]
    if not bool(row["inside"]):
        raise BadInput(f"({lon}, {lat}) is outside the city: no cell to score there")
    site = {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.to_dict().items()}
    grid = model.cells(res)
    pairs = local_times(model.walk, snap(model.walk, metric_xy(np.array([lon]), np.array([lat]))),
                        grid.snapped, float(cat.minutes))  # fmt: skip
    catchment = [(str(grid.h3[d]), round(float(m), 1))
                 for d, m in zip(pairs.dst, pairs.minutes, strict=True)]  # fmt: skip
    district = None
    if site.get("district"):
        try:
            district = district_dashboard(store, str(site["district"]))
        except NotFound:
            district = None
    return MarketReport(
        label=label or f"{lat:.5f}, {lon:.5f}",
        lon=lon,
        lat=lat,
        category=cat,
        lang=lang,
        site=site,
        catchment=catchment,
        competitors=list(site["competitors"]),
        district=district,
        sources=_sources(store, cat),
        made=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _num(x: float | None, lang: str, digits: int = 0) -> str:
    """Return a number with the language's grouping (a narrow space in ru/kk, a comma in en)
    and decimal sign."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    text = f"{x:,.{digits}f}"
    if lang == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def _svg_map(rep: MarketReport, width: int = 640, height: int = 420) -> str:
    """Return the catchment cells (shaded by walking minutes), competitors and the site as an
    SVG in a local equirectangular projection (cos(latitude) scaled)."""
    rings = [(code, m, h3.cell_to_boundary(code)) for code, m in rep.catchment]
    pts = [(p[1], p[0]) for _, _, ring in rings for p in ring]
    pts += [(c["lon"], c["lat"]) for c in rep.competitors] + [(rep.lon, rep.lat)]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    k = math.cos(math.radians(rep.lat))
    span = max((max(xs) - min(xs)) * k, max(ys) - min(ys), 0.002) * 1.15
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    scale = min(width, height) / span

    def xy(lon: float, lat: float) -> str:
        return f"{width / 2 + (lon - cx) * k * scale:.1f},{height / 2 - (lat - cy) * scale:.1f}"

    limit = max(float(rep.category.minutes), 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img">',
             f'<rect width="{width}" height="{height}" fill="#f7f7f4"/>']  # fmt: skip
    for _, m, ring in rings:
        shade = 0.15 + 0.55 * (1 - min(m, limit) / limit)
        poly = " ".join(xy(lon, lat) for lat, lon in ring)
        parts.append(f'<polygon points="{poly}" fill="#2b8cbe" fill-opacity="{shade:.2f}" '
                     'stroke="#fff" stroke-width="0.5"/>')  # fmt: skip
    x, y = xy(rep.lon, rep.lat).split(",")
    parts.append(f'<circle cx="{x}" cy="{y}" r="8" fill="#111" stroke="#ffd400" stroke-width="3"/>')
    for i, c in enumerate(rep.competitors, 1):
        x, y = xy(c["lon"], c["lat"]).split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="6" fill="#d7301f" stroke="#fff"/>'
                     f'<text x="{x}" y="{y}" dy="3.5" font-size="9" text-anchor="middle" '
                     f'fill="#fff">{i}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _why(rep: MarketReport, lang: str) -> str:
    """Return the sentence behind the score in ``lang`` (the figures of
    :func:`twin.analyses.site.output.why`, which is English only)."""
    s, m = rep.site, f"{rep.category.minutes:g}"
    if lang == "en":
        return str(s.get("why") or "")
    people = _num(s["residents_within"], lang)
    n, share = int(s["outlets_within"]), _num(100 * float(s["competition"]), lang)
    stops, pois = int(s["bus_stops_within"]), int(s["pois_within"])
    title = rep.category.title.get(lang).lower()
    if lang == "ru":
        rival = (
            f"{title} в {m} мин: нет"
            if n == 0
            else f"{title} в {m} мин: {n} — новая точка привлекла бы {share}% этих жителей"
        )
        return (f"{people} жителей в {m} мин ходьбы; {rival}; остановок в 5 мин: {stops}, "
                f"магазинов и услуг: {pois}")  # fmt: skip
    rival = (
        f"{m} мин ішінде {title} жоқ"
        if n == 0
        else f"{m} мин ішінде {title}: {n} — жаңа нүкте осы тұрғындардың {share}% тартар еді"
    )
    return (f"{m} мин жаяу жерде {people} тұрғын; {rival}; 5 мин ішінде аялдама: {stops}, "
            f"дүкендер мен қызметтер: {pois}")  # fmt: skip


def _district_name(rep: MarketReport, lang: str) -> str:
    names = (rep.district or {}).get("names") or {}
    own = {"ru": names.get("name_ru"), "kk": names.get("name_kk")}.get(lang)
    return str(own or rep.site.get("district") or "—")


def _completeness(source: dict[str, Any], lang: str) -> str:
    """Return a layer's completeness in words, with the share of the city's estimated count
    where one is known ("sparse — 8,201 of an estimated 50,544 (16 %)")."""
    words = _COMPLETENESS.get(str(source.get("completeness")))
    if words is None:
        return "—"
    text = words[LANGS.index(lang)]
    estimate = source.get("estimate")
    if estimate:
        text += " — " + _t("of_estimate", lang).format(
            n=_num(source["features"], lang),
            m=_num(estimate, lang),
            share=_num(100 * source["features"] / estimate, lang),
        )
    return text


def _value(x: float | None, lang: str) -> str:
    return _num(x, lang, 1 if x is not None and abs(x) < 100 else 0)


def report_html(rep: MarketReport) -> str:
    """Return the report as one self-contained printable HTML page."""
    lang, e = rep.lang, html.escape
    s = rep.site
    cat_title = rep.category.title.get(lang)
    m = f"{rep.category.minutes:g}"
    rows = [
        (_t("score", lang), f"{_num(s['score'], lang, 1)} / 100"),
        (_t("rank", lang), f"{_num(s['rank'], lang)} / {_num(s['total'], lang)}"),
        (_t("district", lang), e(_district_name(rep, lang))),
    ] + [
        (f"{_t('residents', lang)}: {w} {_t('minutes', lang)}",
         _num(s[f"residents_{w}min"], lang))
        for w in (5, 10, 15)
    ]  # fmt: skip
    comp = (
        "".join(
            f"<li>{i}. {e(c['name'] or '#' + str(c['fid']))} — {_num(c['walk_min'], lang, 1)} "
            f"{_t('minutes', lang)} {_t('walk', lang)}</li>"
            for i, c in enumerate(rep.competitors, 1)
        )
        or f"<li>{_t('none', lang)}</li>"
    )
    ind = ""
    if rep.district:
        trs = []
        for it in rep.district["indicators"]:
            latest = it["latest"]
            title = it["title"][lang] if isinstance(it.get("title"), dict) else it["name"]
            gen = f" <small>({_t('generated', lang)})</small>" if latest["generated"] else ""
            trs.append(f"<tr><td>{e(title)}</td><td>{_value(latest['value'], lang)}{gen}</td>"
                       f"<td>{_value(latest['city_average'], lang)}</td></tr>")  # fmt: skip
        ind = (f"<h2>{_t('indicators', lang)} ({rep.district['year']})</h2><table><tr>"
               f"<th></th><th>{_t('value', lang)}</th><th>{_t('city', lang)}</th></tr>"
               + "".join(trs) + "</table>")  # fmt: skip
    src = "".join(
        f"<tr><td>{e(x['title'][lang])}</td><td>{e(x['source'] or '—')}</td>"
        f"<td>{e(x['licence'] or '—')}</td><td>{_num(x['features'], lang)}</td>"
        f"<td>{'—' if x['real_share'] is None else _num(100 * x['real_share'], lang) + ' %'}</td>"
        f"<td>{e(x['as_of'] or '—')}</td><td>{e(_completeness(x, lang))}</td>"
        f"<td>{e(x['loaded_at'] or '—')}</td></tr>"
        for x in rep.sources
    )
    notes = "".join(
        f"<li>{e(n)}</li>"
        for n in dict.fromkeys(x["note"][lang] for x in rep.sources if x.get("note"))
    )
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{_t("title", lang)}: {e(rep.label)} — {e(cat_title)}</title>
<style>
body {{ font-family: "Noto Sans", "DejaVu Sans", sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; margin: 0 0 4px; }} h2 {{ font-size: 16px; margin: 18px 0 6px; }}
table {{ border-collapse: collapse; font-size: 12px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
.meta {{ color: #555; font-size: 12px; }} ul {{ font-size: 13px; }}
@page {{ size: A4; margin: 14mm; }}
</style></head><body>
<h1>{_t("title", lang)}: {e(rep.label)}</h1>
<p class="meta">{_t("category", lang)}: {e(cat_title)} · {_t("site", lang)}:
{rep.lat:.5f}, {rep.lon:.5f} · {_t("made", lang)}: {rep.made}</p>
<table>{table}</table>
<h2>{_t("map", lang)} ({m} {_t("minutes", lang)})</h2>
{_svg_map(rep)}
<h2>{_t("competitors", lang)}</h2><ul>{comp}</ul>
<h2>{_t("why", lang)}</h2><p>{e(_why(rep, lang))}</p>
{ind}
<h2>{_t("sources", lang)}</h2>
<table><tr><th>{_t("layer", lang)}</th><th></th><th>{_t("licence", lang)}</th>
<th>{_t("features", lang)}</th><th>{_t("real", lang)}</th><th>{_t("as_of", lang)}</th>
<th>{_t("completeness", lang)}</th><th>{_t("loaded", lang)}</th></tr>
{src}</table>
{f'<ul class="meta">{notes}</ul>' if notes else ""}
<h2>{_t("method", lang)}</h2><p>{e(_METHOD[lang].format(m=m))}</p>
</body></html>"""


#: At most this many Chromiums print at once (each takes ~150 MB and a core for ~1 s).
_PRINTERS = threading.BoundedSemaphore(2)


def report_pdf(page: str, chromium: str = "/usr/bin/chromium") -> bytes:
    """Return ``page`` printed to PDF (A4) by headless Chromium; JavaScript is off and the
    page may load nothing from the network (it needs nothing)."""
    from playwright.sync_api import sync_playwright

    with _PRINTERS, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        try:
            ctx = browser.new_context(java_script_enabled=False, offline=True)
            tab = ctx.new_page()
            tab.set_content(page, wait_until="load")
            pdf: bytes = tab.pdf(format="A4", print_background=True)
            return pdf
        finally:
            browser.close()
