"""The layer catalog: one declarative definition per city layer, and the registry."""

from layers.model import Access, GeomType, Layer, Prop, PropType, Style, Temporal, Titles
from layers.registry import LAYERS, UnknownLayer, get, ids

__all__ = [
    "LAYERS",
    "Access",
    "GeomType",
    "Layer",
    "Prop",
    "PropType",
    "Style",
    "Temporal",
    "Titles",
    "UnknownLayer",
    "get",
    "ids",
]
