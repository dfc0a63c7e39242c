"""Street names from OSM ``name`` tags, normalised for generated Russian titles.

The 2012 extract spells streets every way at once ("Абая прс.", "пр. Рыскулова",
"улица Гоголя", "ул.Биржана", "Толе Би (Tole Bi)"); titles need one form: "ул. Гоголя",
"пр. Абая".
"""

from __future__ import annotations

import re

import numpy as np

# Names that are not streets one would put in a title (paths, highways out of town, notes).
_REJECT = re.compile(
    r"не знаю|тропа|дорожк|переход|подземк|терренкур|велодорож|дорога|тракт|кольцо|речка|"
    r"проезд|бульвар|объездн|road|\s[-–]\s|^на\s|^\s*$",
    re.IGNORECASE,
)
_AVENUE = re.compile(r"(^|\s)(пр\.|прс\.|проспект|пр-т)(\s|$)", re.IGNORECASE)
_LANE = re.compile(r"(^|\s)(пер\.|переулок)(\s|$)", re.IGNORECASE)
_KINDS = re.compile(
    r"(^|\s)(ул\.|ул|улица|уица|пр\.|прс\.|проспект|пр-т|пер\.|переулок)(?=\s|$)",
    re.IGNORECASE,
)
_CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")


def street_label(name: object) -> str | None:
    """Return the title form of a street name ("ул. Абая", "пр. Достык"), or ``None``.

    ``None`` means the name is not a street to cite: missing, a footpath, a note such as
    "не знаю названия", or one without Cyrillic letters.

    Examples
    --------
    >>> street_label("Абая прс.")
    'пр. Абая'
    >>> street_label("ул.Биржана")
    'ул. Биржана'
    >>> street_label("Толе Би (Tole Bi)")
    'ул. Толе Би'
    >>> street_label("не знаю названия") is None
    True
    """
    if not isinstance(name, str):
        return None
    text = name.split(";")[0]
    text = re.sub(r"\(.*?\)", " ", text)
    text = re.sub(r"(?i)\b(ул|пр|прс|пер)\.(?=\S)", r"\1. ", text)
    text = " ".join(text.split())
    if _REJECT.search(text) or not _CYRILLIC.search(text):
        return None
    kind = "пр." if _AVENUE.search(text) else "пер." if _LANE.search(text) else "ул."
    core = " ".join(_KINDS.sub(" ", text).split()).strip(" ,-")
    if not core or not _CYRILLIC.search(core):
        return None
    return f"{kind} {core}"


def street_labels(names: np.ndarray) -> np.ndarray:
    """Return :func:`street_label` of every name, computed once per distinct name."""
    names = np.asarray(names, dtype=object)
    cache: dict[object, str | None] = {}
    out = np.empty(len(names), dtype=object)
    for i, name in enumerate(names):
        key = name if isinstance(name, str) else None
        if key not in cache:
            cache[key] = street_label(key)
        out[i] = cache[key]
    return out
