"""Search across the layers' searchable properties as people in Almaty type: Russian word
forms (Абай, Абая, Абаю), Kazakh, Russian and Latin spellings of one name (Достық, Достык,
Dostyk, Dostyq), typos, kinds of places in three languages (мектеп, школа, school), street
types written any way (пр., пр-т, даңғылы, avenue) and addresses with house numbers.

Why in memory rather than in SQL: the store's ``LIKE`` can only find a query's letters as
they are written, and neither store's trigram index (``pg_trgm``, FTS5) knows that "Dostyk"
and "Достық" are one word. The searchable text of the city is small (some 20,000 features in
the bundled set), so one index per store is built in this process, on the first search, and
built again, layer by layer, for the layers whose change log moved (one query of the layers'
newest changes per search). Matching then
runs over words, in four levels, each word of the query needing a match:

0. the word as typed (folded: lower case, ё → е);
1. a prefix of a word as typed (a house number "54" finds "54а");
2. the same *key*: Kazakh letters to their Russian neighbours, Cyrillic to Latin, Latin
   spellings simplified (kh → h, y → i, j → zh, doubled letters once) and a Russian ending cut
   (Абая, Абаю → "aba"), or a prefix of a key;
3. a key within one or two edits (rapidfuzz's Levenshtein distance), a typo.

A hit's ``rank`` says how it matched: 0 its label is the query, 1 its label starts with the
query, 2 every word matched as typed (in the label, address, street or district), 3 through
keys (a word form or another alphabet), 4 only with a typo. Callers that must not guess (the
business helper resolving addresses) keep ranks up to 3.

Which layers are searched is the caller's business (:func:`twin.core.access.visible_layers`), so a
planner-only layer is never looked in for a resident.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import weakref
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

import layers as catalog
from layers import GeomType, Layer
from layers.search_words import PLACE_KINDS, STOP_WORDS, STREET_TYPES
from twin.core import geometry
from twin.core.errors import BadInput
from twin.store import Store
from twin.store.dialect import fold_text as fold

MAX_QUERY = 100
MAX_LIMIT = 50
MAX_WORDS = 8
# Where several layers match equally well, the order a resident most likely means is each
# layer's declared ``search_priority``; layers without one come after all that have one.
_UNRANKED = 1 << 30
# The property that names a feature, in order of preference; the first non-empty one is its label.
# (A category code such as "school" is no name: a feature with nothing else is not listed.)
LABEL_PROPERTIES = ("name", "title", "address", "street")
# Districts are labelled in the caller's language.
DISTRICT_LABEL = {"ru": "name_ru", "kk": "name_kk", "en": "name"}
# How many candidates a typo may stand for, at most (bounded work per request).
_FUZZY_LIMIT = 40


@dataclass(frozen=True)
class SearchHit:
    """One search result: where it is and what to call it."""

    layer: str
    fid: int
    label: str
    detail: str | None
    rank: int
    synthetic: bool
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used by ``/api/search``."""
        return {
            "id": f"{self.layer}/{self.fid}",
            "layer": self.layer,
            "fid": self.fid,
            "label": self.label,
            "detail": self.detail,
            "rank": self.rank,
            "synthetic": self.synthetic,
            "point": list(self.point),
            "bbox": list(self.bbox),
        }


def searchable(layer: Layer) -> tuple[str, ...]:
    """Return the names of ``layer``'s searchable properties (empty: not searched)."""
    return tuple(p.name for p in layer.properties if p.searchable)


# -- words and keys ---------------------------------------------------------------------

# Kazakh letters to the Russian letter people write for them
_KK_TO_RU = str.maketrans({"ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у",
                           "ү": "у", "һ": "х", "і": "и"})  # fmt: skip
_RU_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
# The 2021 Kazakh Latin alphabet (and the 2017/2018 apostrophe ones) to plain Latin
_KK_LATIN = {"ä": "a", "ğ": "g", "q": "k", "ñ": "n", "ö": "o", "ū": "u", "ü": "u", "ı": "i",
             "ş": "sh", "ç": "ch", "i̇": "i", "w": "u", "x": "h"}  # fmt: skip
_TO_LATIN = str.maketrans(_RU_TO_LATIN | {k: v for k, v in _KK_LATIN.items() if len(k) == 1})
_LATIN_SIMPLE = (("kh", "h"), ("zh", "j"), ("dj", "j"), ("dzh", "j"), ("ts", "c"), ("y", "i"),
                 ("ck", "k"), ("ph", "f"))  # fmt: skip
# Russian (transliterated) endings of noun and adjective forms, longest first
_ENDINGS = sorted(
    ("ogo", "ego", "omu", "emu", "ami", "iami", "iah", "ah", "om", "em", "oi", "ei",
     "ia", "iu", "ie", "ii", "a", "u", "e", "i", "o"),
    key=len,
    reverse=True,
)  # fmt: skip
_WORD = re.compile(
    r"[0-9]+[a-zа-яәғқңөұүһі]?(?:/[0-9]+[a-zа-яәғқңөұүһі]?)?|[^\W\d_]+(?:[-'’][^\W\d_]+)*"
)
_HOUSE = re.compile(r"^[0-9]+[a-zа-яәғқңөұүһі]?(?:/[0-9]+[a-zа-яәғқңөұүһі]?)?$")


def words_of(query: str) -> list[str]:
    """Return the folded words of a text (at most eight for a query): letters (hyphenated
    names kept whole) and house numbers, a number's letter joined to it ("54 А" → "54а").

    >>> words_of("  Абая   Пр., 54 А ")
    ['абая', 'пр', '54а']
    >>> words_of("Әл-Фараби даңғылы 77/8")
    ['әл-фараби', 'даңғылы', '77/8']
    """
    out: list[str] = []
    for w in _WORD.findall(fold(query)):
        if out and len(w) == 1 and w.isalpha() and out[-1].isdigit():
            out[-1] += w
        else:
            out.append(w)
    return out


@lru_cache(maxsize=1 << 17)
def key_of(word: str) -> str:
    """Return the spelling-neutral key of a folded word: Kazakh and Russian Cyrillic and the
    Latin alphabets meet in one simplified Latin spelling.

    >>> [key_of(w) for w in ("достық", "достык", "dostyk", "dostyq")]
    ['dostik', 'dostik', 'dostik', 'dostik']
    >>> key_of("әл-фараби") == key_of("аль-фараби") == key_of("al-farabi")
    True
    """
    w = word.translate(_KK_TO_RU).translate(_TO_LATIN)
    if not w.isascii():
        w = unicodedata.normalize("NFKD", w)
    w = "".join(c for c in w if c.isascii() and c.isalnum())
    for a, b in _LATIN_SIMPLE:
        w = w.replace(a, b)
    return re.sub(r"([a-z])\1+", r"\1", w)


@lru_cache(maxsize=1 << 17)
def stem_of(key: str) -> str:
    """Return ``key`` without one Russian ending (keys of three letters or fewer stay).

    >>> [stem_of(key_of(w)) for w in ("абай", "абая", "абаю", "абаем")]
    ['aba', 'aba', 'aba', 'aba']
    """
    if len(key) <= 3 or key.isdigit():
        return key
    for e in _ENDINGS:
        if key.endswith(e) and len(key) - len(e) >= 3:
            return key[: -len(e)]
    return key


def _typo_budget(n: int) -> int:
    return 0 if n < 4 else 1 if n < 7 else 2


_STREET_TYPE = {key_of(w): kind for kind, ws in STREET_TYPES.items() for w in ws for w in [fold(w)]}
_STOP = {key_of(fold(w)) for w in STOP_WORDS} | {""}


@dataclass
class _Kind:
    """A kind of place a query word may name (``layers.search_words.PlaceKind``)."""

    layer: str
    prop: str | None
    value: str | None


def _kinds() -> dict[tuple[str, ...], list[_Kind]]:
    """Return kinds of places by the stems of their words (several words: a phrase)."""
    out: dict[tuple[str, ...], list[_Kind]] = defaultdict(list)
    for pk in PLACE_KINDS:
        for w in pk.words:
            out[tuple(stem_of(key_of(x)) for x in words_of(w))].append(
                _Kind(pk.layer, pk.prop, pk.value)
            )
    for layer in catalog.LAYERS:
        if searchable(layer):
            for title in (layer.title.ru, layer.title.kk, layer.title.en):
                first = words_of(title)[:1]
                if first:
                    out[tuple(stem_of(key_of(x)) for x in first)].append(
                        _Kind(layer.id, None, None)
                    )
    return dict(out)


_KINDS = _kinds()
_KIND_TITLES = {
    (pk.layer, pk.value): {"ru": pk.title[0], "kk": pk.title[1], "en": pk.title[2]}
    for pk in PLACE_KINDS
    if pk.title
}


# -- the index ----------------------------------------------------------------------------


@dataclass
class _Doc:
    layer: str
    fid: int
    labels: dict[str, str]  # by language ("" when the same in all)
    detail: str | None
    district: str | None
    synthetic: bool
    point: tuple[float, float]
    bbox: tuple[float, float, float, float]
    props: dict[str, Any]
    label_words: list[str]  # folded words of the label, street types and stop words left out
    names: list[list[str]]  # the keys of the label's words in each language, bare (see _bare)
    size: float  # a street's length, an area's area (degrees): the bigger of two namesakes first
    words: list[tuple[str, str, str, bool]]  # (folded, key, stem, in the label)


@dataclass
class _Index:
    docs: list[_Doc] = field(default_factory=list)
    by_word: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_stem: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_key: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    words: list[str] = field(default_factory=list)  # sorted, for prefixes
    stems: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    heads: dict[int, list[str]] = field(default_factory=dict)  # the stems' first n letters
    districts: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, doc: _Doc) -> None:
        i = len(self.docs)
        self.docs.append(doc)
        for w, k, s, _in_label in doc.words:
            self.by_word[w].add(i)
            self.by_key[k].add(i)
            self.by_stem[s].add(i)

    def seal(self) -> None:
        self.words = sorted(self.by_word)
        self.stems = sorted(self.by_stem)
        self.keys = sorted(self.by_key)

    def heads_of(self, n: int) -> list[str]:
        """Return the distinct first ``n`` letters of the stems longer than ``n``."""
        if n not in self.heads:
            self.heads[n] = sorted({s[:n] for s in self.stems if len(s) > n})
        return self.heads[n]


def _prefixed(sorted_words: list[str], prefix: str) -> Iterable[str]:
    i = bisect_left(sorted_words, prefix)
    while i < len(sorted_words) and sorted_words[i].startswith(prefix):
        yield sorted_words[i]
        i += 1


def _anchor(geom: Any, kind: GeomType) -> tuple[float, float]:
    """Return a point on ``geom`` to fly to (a line's midpoint, a polygon's inner point)."""
    if kind is GeomType.POINT:
        p = geom
    elif kind is GeomType.LINE:
        p = shapely.line_interpolate_point(shapely.line_merge(geom), 0.5, normalized=True)
        if p.is_empty:
            p = shapely.point_on_surface(geom)
    else:
        p = shapely.point_on_surface(geom)
    return (round(p.x, 7), round(p.y, 7))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v == ""


def _doc_words(text: str, in_label: bool) -> list[tuple[str, str, str, bool]]:
    out = []
    for w in words_of(text):
        k = key_of(w)
        out.append((w, k, stem_of(k), in_label))
    return out


def _meaningful(words: Iterable[str]) -> list[str]:
    return [w for w in words if key_of(w) not in _STREET_TYPE and key_of(w) not in _STOP]


_DISTRICT_WORDS = {key_of(w) for w in ("район", "ауданы", "аудан", "district")}


def _bare(label: str) -> list[str]:
    """Return the keys of a label's words without what does not name the place: a street
    type, a stop word, a former name in parentheses, the word "district".

    >>> _bare("пр. Достык (Ленина)"), _bare("Түрксіб ауданы")
    (['dostik'], ['turksib'])
    """
    keys = [key_of(w) for w in _meaningful(words_of(re.sub(r"\(.*?\)", " ", label)))]
    return [k for k in keys if k not in _DISTRICT_WORDS] or keys


def name_keys(label: str) -> list[str]:
    """Return the keys naming a street or place, its type and word form aside: "пр-т Абая",
    "Абая прс." and "ул. Абая" all give ``['abaia']``."""
    return _bare(label)


def split_house(query: str) -> tuple[str, str | None]:
    """Return a query's words without its house number, and the house number (None if it
    has none, or only numbers).

    >>> split_house("пр. Абая, 10а")
    ('пр абая', '10а')
    >>> split_house("Абая")
    ('абая', None)
    """
    ws = words_of(query)[:MAX_WORDS]
    houses = [w for w in ws if _HOUSE.match(w)]
    rest = [w for w in ws if not _HOUSE.match(w)]
    if not houses or not rest:
        return " ".join(ws), None
    return " ".join(rest), houses[-1]


@dataclass
class _Districts:
    """The districts as the entries of every layer need them: names and where they lie."""

    labels: dict[str, dict[str, str]]
    names: list[str]
    tree: shapely.STRtree | None


def _read_districts(store: Store) -> _Districts:
    dframe = store.read_frame(catalog.get("districts"))
    dgeoms = np.asarray(dframe.geometry.values)
    return _Districts(
        labels={
            str(r["name"]): {
                "ru": str(r["name_ru"]),
                "kk": str(r["name_kk"]),
                "en": str(r["name"]),
            }
            for r in dframe.to_dict("records")
        },
        names=[str(n) for n in dframe["name"]],
        tree=shapely.STRtree(dgeoms) if len(dgeoms) else None,
    )


def _build(store: Store) -> _Index:
    """Return the index of every searchable layer of ``store``, read now."""
    dist = _read_districts(store)
    parts = [_layer_docs(store, layer, dist) for layer in catalog.LAYERS if searchable(layer)]
    return _assemble(parts, dist)


def _assemble(parts: Iterable[list[_Doc]], dist: _Districts) -> _Index:
    index = _Index()
    index.districts = dist.labels
    for docs in parts:
        for doc in docs:
            index.add(doc)
    index.seal()
    return index


def _layer_docs(store: Store, layer: Layer, dist: _Districts) -> list[_Doc]:
    """Return the search entries of one layer (a street's segments merged into one)."""
    docs: list[_Doc] = []
    cols = searchable(layer)
    dnames, dtree = dist.names, dist.tree
    if cols:
        frame = store.read_frame(layer, with_system=True)
        if frame.empty:
            return docs
        geoms = np.asarray(frame.geometry.values)
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        frame, geoms = frame[present], geoms[present]
        anchors = [_anchor(g, layer.geometry) for g in geoms]
        where: list[str | None] = [None] * len(anchors)
        if dtree is not None and layer.id != "districts" and anchors:
            pts = shapely.points(np.array(anchors))
            inside = dtree.query(pts, predicate="within")
            for p, d in zip(inside[0], inside[1], strict=True):
                where[p] = dnames[d]
        label_cols = [c for c in LABEL_PROPERTIES if c in cols]
        records = [
            {k: (None if _missing(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")
        ]
        merged: dict[str, int] = {}
        fids = frame.index if "fid" not in frame.columns else frame["fid"]
        for row, fid, geom, anchor, district in zip(
            records, fids, geoms, anchors, where, strict=True
        ):
            if layer.id == "districts":
                labels = {
                    lang: str(row.get(col) or row["name"]) for lang, col in DISTRICT_LABEL.items()
                }
                label_col = "name"
            else:
                found = next((c for c in label_cols if row.get(c)), None)
                if found is None:
                    continue
                label_col = found
                labels = {"": str(row[label_col])}
                kind = _KIND_TITLES.get((layer.id, row.get("kind")))
                if kind and not re.search(r"[^\W\d_]", labels[""]):
                    # a school called "74": say what it is, in each language
                    labels = {lang: f"{title} {labels['']}" for lang, title in kind.items()}
            district = str(row["district"]) if row.get("district") else district
            if layer.geometry is GeomType.LINE:
                # a street comes in many segments: one hit for the whole street
                same = fold(labels[""])
                if same in merged:
                    doc = docs[merged[same]]
                    x0, y0, x1, y1 = doc.bbox
                    gx0, gy0, gx1, gy1 = shapely.bounds(geom).tolist()
                    doc.bbox = (min(x0, gx0), min(y0, gy0), max(x1, gx1), max(y1, gy1))
                    doc.size += float(shapely.length(geom))
                    continue
                merged[same] = len(docs)
            words: list[tuple[str, str, str, bool]] = []
            for lang_label in dict.fromkeys(labels.values()):
                lw = _doc_words(lang_label, True)
                # two words written as one ("Абылай хана" as "Ablaikhan")
                joined = [
                    (a[0] + b[0], a[1] + b[1], stem_of(a[1] + b[1]), True)
                    for a, b in pairwise(lw)
                    if a[1].isalpha() and b[1].isalpha()
                ]
                words += lw + joined
            if layer.id == "districts":
                words += _doc_words(str(row.get("name") or ""), True)
            others = [c for c in cols if c != label_col and row.get(c)]
            for c in others:
                words += _doc_words(str(row[c]), False)
            detail = next(
                (str(row[c]) for c in ("address", "street") if c in others and row.get(c)), None
            )
            if detail and fold(detail) in fold(labels.get("", "")):
                detail = None
            label_words = _meaningful(words_of(next(iter(labels.values()))))
            bbox = tuple(round(float(v), 7) for v in shapely.bounds(geom).tolist())
            docs.append(
                _Doc(
                    layer=layer.id,
                    fid=int(fid),
                    labels=labels,
                    detail=detail,
                    district=district if layer.id != "districts" else None,
                    synthetic=bool(row.get("synthetic")),
                    point=anchor,
                    bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
                    props={k: row.get(k) for k in ("kind", "category")},
                    label_words=label_words,
                    names=[_bare(x) for x in dict.fromkeys(labels.values())],
                    size=float(
                        shapely.length(geom)
                        if layer.geometry is GeomType.LINE
                        else shapely.area(geom)
                    ),
                    words=words,
                )
            )
    return docs


@dataclass
class _Kept:
    """What one store's search has built: the index at ``heads``, and its parts."""

    heads: dict[str, int] = field(default_factory=dict)
    index: _Index | None = None
    districts: tuple[int, _Districts] | None = None
    #: each layer's entries by (the layer's newest change, the districts' newest change)
    parts: dict[str, tuple[tuple[int, int], list[_Doc]]] = field(default_factory=dict)
    #: the thread building a newer index, if one is, and when it is expected to end
    #: (``time.monotonic()``; by what its parts took the last time they were read)
    builder: threading.Thread | None = None
    builder_ends: float = 0.0
    #: seconds the last read of each part took (a layer id, "districts"), and the assembly
    took: dict[str, float] = field(default_factory=dict)
    #: why the last build failed (raised to a search that has no index to answer from)
    error: Exception | None = None


_cache: weakref.WeakKeyDictionary[Store, _Kept] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_SEARCHED = tuple(layer.id for layer in catalog.LAYERS if searchable(layer))
#: how long a search waits for a newer index being built before it answers from the one it
#: has (seconds). Writes show in search within this time when the rebuild is quick (one
#: layer of the bundled city: well under a second); under a stream of writes to a large
#: layer they show at the next finished build. A search waits only for a build expected to
#: end within this time (by how long the last one took): one that will not is not waited for.
FRESH_WAIT_S = 2.0


def _current(kept: _Kept, heads: dict[str, int]) -> bool:
    return kept.index is not None and all(kept.heads.get(k, -1) >= v for k, v in heads.items())


def _stale(kept: _Kept, heads: dict[str, int]) -> list[str]:
    """Return the parts a build at ``heads`` reads again (what :func:`_rebuild` reads)."""
    dhead = heads["districts"]
    if kept.districts is None or kept.districts[0] < dhead:
        return ["districts", *_SEARCHED]
    out = []
    for layer_id in _SEARCHED:
        part = kept.parts.get(layer_id)
        if part is None or part[0][0] < heads[layer_id] or part[0][1] < dhead:
            out.append(layer_id)
    return out


def _expected_s(kept: _Kept, heads: dict[str, int]) -> float:
    """Return how long a build at ``heads`` is expected to take (seconds): what its parts
    and the assembly took the last time (a part never read: 0, so a search waits for it)."""
    return sum(kept.took.get(k, 0.0) for k in (*_stale(kept, heads), "assemble"))


def _index(store: Store) -> _Index:
    """Return the store's index as of now if it can be had within :data:`FRESH_WAIT_S`, else
    the newest one built, rebuilding only the layers that changed.

    Each layer's entries are kept by that layer's newest change (and the districts', whose
    names every entry carries): a building edited re-reads the buildings, not the streets,
    schools and everything else. Before, any write re-read every layer — 4.8 s on the
    bundled city, one core — so under the scale benchmark's stream of building edits every
    search waited for a full rebuild, and after a primary restart none answered within the
    run (issue 20).

    One thread builds at a time, in the background; a search waits for it at most
    :data:`FRESH_WAIT_S` when an older index exists (only the first search of a store waits
    for the whole build). Before, every search waited for the rebuild its writes caused: with
    the city x 10 (82,010 buildings, one building written about every second) the locust
    run of ``bench/scale.py`` saw no search answer in 40 s, and the searches waiting on the
    index's lock held the server's threads that features and writes needed (p95 21 s).

    Nor does a search wait for a build that is not expected to end within
    :data:`FRESH_WAIT_S` (by what its parts took the last time), or that is more than that
    late: under that write stream a
    build of the buildings is always running, so every search slept the whole wait, held a
    server thread for it, and answered from the older index all the same — the city x 10 at
    40 locust users: 2.1 s per search before and after a primary restart, and the first
    search after the restart 2.2 s after the primary was back, features 0.1 s.
    """
    heads = store.change_heads(("districts", *_SEARCHED))
    with _lock:
        kept = _cache.get(store)
        if kept is None:
            kept = _cache[store] = _Kept()
        if _current(kept, heads):
            # as new as the store was when this search came: shared, not built again
            assert kept.index is not None
            return kept.index
        builder = kept.builder
        if builder is None or not builder.is_alive():
            builder = kept.builder = threading.Thread(
                target=_rebuild, args=(store, kept, heads), name="search-index", daemon=True
            )
            kept.builder_ends = time.monotonic() + _expected_s(kept, heads)
            builder.start()
        had = kept.index
        now = time.monotonic()
        # waited for: a build expected to end within the wait, and not already later than
        # that past its expected end (a build slowed by something, a database restarting)
        timely = now - FRESH_WAIT_S <= kept.builder_ends <= now + FRESH_WAIT_S
    if had is None:
        builder.join()
    elif timely:
        builder.join(FRESH_WAIT_S)
    with _lock:
        if kept.index is None:  # the first build failed: say why
            raise kept.error or RuntimeError("the search index was not built")
        return kept.index


def prepare(store: Store) -> None:
    """Build the store's index now (a server does so as it starts: ``TWIN_PREBUILD``)."""
    _index(store)


def _rebuild(store: Store, kept: _Kept, heads: dict[str, int]) -> None:
    """Build the index at ``heads`` from the parts that changed (run in the builder thread)."""
    try:
        dhead = heads["districts"]
        t0 = time.monotonic()
        if kept.districts is None or kept.districts[0] < dhead:
            kept.districts = (dhead, _read_districts(store))
            kept.took["districts"] = time.monotonic() - t0
        dist = kept.districts[1]
        parts = []
        for layer_id in _SEARCHED:
            key = (heads[layer_id], dhead)
            part = kept.parts.get(layer_id)
            if part is None or part[0][0] < key[0] or part[0][1] < key[1]:
                t0 = time.monotonic()
                part = kept.parts[layer_id] = (key, _layer_docs(store, catalog.get(layer_id), dist))
                kept.took[layer_id] = time.monotonic() - t0
            parts.append(part[1])
        # assembled only when every part is read: a read failing half-way (the database
        # gone) keeps the parts already read for the next try, and no half index
        t0 = time.monotonic()
        index = _assemble(parts, dist)
        kept.took["assemble"] = time.monotonic() - t0
        with _lock:
            kept.index, kept.heads, kept.error = index, heads, None
    except Exception as exc:  # handed to the searches that wait for this build
        with _lock:
            kept.error = exc


# -- matching -----------------------------------------------------------------------------


@dataclass
class _Word:
    text: str
    key: str
    stem: str
    house: bool
    street_type: str | None
    kinds: list[_Kind]


def _all_words(query: str) -> list[_Word]:
    return [
        _Word(w, key_of(w), stem_of(key_of(w)), False, _STREET_TYPE.get(key_of(w)), [])
        for w in words_of(query)[:MAX_WORDS]
    ]


def _query_words(query: str) -> list[_Word]:
    ws = words_of(query)[:MAX_WORDS]
    out: list[_Word] = []
    i = 0
    while i < len(ws):
        # a kind of place in two words ("детский сад", "bus stop") before one
        pair = tuple(stem_of(key_of(w)) for w in ws[i : i + 2])
        if len(pair) == 2 and pair in _KINDS:
            k = key_of(ws[i])
            out.append(_Word(" ".join(ws[i : i + 2]), k, stem_of(k), False, None, _KINDS[pair]))
            out[-1].text = ws[i]  # matched as a kind; its first word may match a name too
            i += 2
            continue
        w = ws[i]
        k = key_of(w)
        out.append(
            _Word(
                w,
                k,
                stem_of(k),
                bool(_HOUSE.match(w)),
                _STREET_TYPE.get(k),
                _KINDS.get((stem_of(k),), []),
            )
        )
        i += 1
    meaningful = [w for w in out if w.street_type is None and w.key not in _STOP]
    return meaningful or out


def _matches(index: _Index, w: _Word) -> dict[int, int]:
    """Return {doc: best level} of the documents one query word matches (see the module)."""
    found: dict[int, int] = {}

    def put(docs: Iterable[int], level: int) -> None:
        for d in docs:
            if found.get(d, 9) > level:
                found[d] = level

    put(index.by_word.get(w.text, ()), 0)
    put(index.by_key.get(w.key, ()), 0)  # the same word in another alphabet
    if len(w.key) >= 3 and not w.house:
        for key in _prefixed(index.keys, w.key):
            put(index.by_key[key], 1)
    if len(w.text) >= 2 or w.house:
        for word in _prefixed(index.words, w.text):
            if w.house and not word[len(w.text) :].isalpha():
                continue  # "15" is not a prefix of "150"
            put(index.by_word[word], 1)
    if w.house:
        return found
    if len(w.stem) >= 2:
        put(index.by_stem.get(w.stem, ()), 2)
    if len(w.key) >= 3:
        for stem in _prefixed(index.stems, w.key):
            put(index.by_stem[stem], 2)
        if w.stem != w.key:
            for stem in _prefixed(index.stems, w.stem):
                if len(stem) <= len(w.key) + 2:
                    put(index.by_stem[stem], 2)
    budget = _typo_budget(len(w.stem))
    if budget:
        # a typo rarely hits a word's first letter: candidates keep it (bounded work)
        for stem, _score, _i in process.extract(
            w.stem, index.stems, scorer=Levenshtein.distance, score_cutoff=budget,
            limit=_FUZZY_LIMIT,
        ):  # fmt: skip
            if stem[0] == w.stem[0]:
                put(index.by_stem[stem], 3)
        # a word being typed: its key against the beginnings of the index's keys
        for head, _score, _i in process.extract(
            w.key, index.heads_of(len(w.key)), scorer=Levenshtein.distance, score_cutoff=1,
            limit=_FUZZY_LIMIT,
        ):  # fmt: skip
            if head[0] == w.key[0]:
                for stem in _prefixed(index.stems, head):
                    put(index.by_stem[stem], 4)
    return found


def _kind_docs(index: _Index, kinds: list[_Kind], allowed: set[str]) -> set[int]:
    out: set[int] = set()
    for k in kinds:
        if k.layer not in allowed:
            continue
        for i, d in enumerate(index.docs):
            if d.layer == k.layer and (k.prop is None or d.props.get(k.prop) == k.value):
                out.add(i)
    return out


def _label(doc: _Doc, lang: str) -> str:
    return doc.labels.get(lang) or doc.labels.get("") or next(iter(doc.labels.values()))


def _detail(index: _Index, doc: _Doc, lang: str) -> str | None:
    district = index.districts.get(doc.district or "", {}).get(lang)
    parts = [p for p in (doc.detail, district) if p]
    return ", ".join(parts) or None


def search(
    store: Store,
    query: str,
    layers: Sequence[Layer],
    *,
    lang: str = "ru",
    limit: int = 10,
    within: shapely.Geometry | None = None,
) -> list[SearchHit]:
    """Return up to ``limit`` features of ``layers`` matching every word of ``query``, best
    first (see the module docstring for how words match and what ``rank`` says).

    A street split into segments is one hit whose box covers the whole street. With
    ``within`` (an area, EPSG:4326), only features whose point is in it are hits: the
    bundled set's box reaches past the city, and "Абая 10" is also a house in a village
    north of it.
    """
    if len(query) > MAX_QUERY:
        raise BadInput(f"q is longer than {MAX_QUERY} characters")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    allowed = {layer.id for layer in layers if searchable(layer)}
    qwords = _query_words(query)
    if not qwords or not allowed:
        return []
    index = _index(store)
    levels: dict[int, list[int]] | None = None
    for w in qwords:
        found = {d: lv for d, lv in _matches(index, w).items() if index.docs[d].layer in allowed}
        if w.kinds:
            for d in _kind_docs(index, w.kinds, allowed):
                found[d] = 0 if found.get(d, 9) > 0 else found[d]
        if levels is None:
            levels = {d: [lv] for d, lv in found.items()}
        else:
            levels = {d: [*lv, found[d]] for d, lv in levels.items() if d in found}
        if not levels:
            break
    if levels and within is not None:
        found_docs = list(levels)
        xy = np.array([index.docs[d].point for d in found_docs], float)
        inside = geometry.contains_few(within, xy[:, 0], xy[:, 1])  # a shared area, often
        levels = {d: levels[d] for d, ok in zip(found_docs, inside, strict=True) if ok}
    if not levels:
        # an address whose house the data does not have: the street, marked as a guess
        street = [w for w in qwords if not w.house]
        if len(street) < len(qwords) and street:
            spaced = " ".join(w.text for w in street)
            return [
                replace(h, rank=4)
                for h in search(store, spaced, layers, lang=lang, limit=limit, within=within)
            ]
        return []
    priority = {layer.id: layer.search_priority for layer in layers}
    typed = [w.key for w in qwords]
    types = {w.street_type for w in _all_words(query) if w.street_type}
    scored = []
    for d, lv in levels.items():
        doc = index.docs[d]
        worst = max(lv)
        in_label = sum(
            1
            for w in qwords
            if any(w.text == x or w.stem == s for x, _k, s, lab in doc.words if lab)
        )
        if worst <= 1:
            label_keys = [key_of(x) for x in _meaningful(words_of(_label(doc, lang)))]
            if typed in doc.names:
                rank = 0
            elif label_keys and label_keys[0].startswith(typed[0]):
                rank = 1
            else:
                rank = 2
        else:
            rank = 3 if worst == 2 else 4  # a typo, in a whole word (3) or a word begun (4)
        kind_hit = any(w.kinds and any(k.layer == doc.layer for k in w.kinds) for w in qwords)
        p = priority.get(doc.layer)
        typed_type = bool(types) and any(
            _STREET_TYPE.get(k) in types for _w, k, _s, _l in doc.words
        )
        scored.append(
            (
                rank,
                0 if typed_type else 1,
                0 if kind_hit else 1,
                -in_label,
                sum(lv) if rank == 4 else 0,  # among guesses, the closest spelling first
                _UNRANKED if p is None else p,
                sum(lv),
                -doc.size,
                len(doc.label_words),
                len(_label(doc, lang)),
                doc.fid,
                doc,
            )
        )
    scored.sort(key=lambda s: s[:-1])
    return [
        SearchHit(
            layer=s[-1].layer,
            fid=s[-1].fid,
            label=_label(s[-1], lang),
            detail=_detail(index, s[-1], lang),
            rank=s[0],
            synthetic=s[-1].synthetic,
            point=s[-1].point,
            bbox=s[-1].bbox,
        )
        for s in scored[:limit]
    ]
