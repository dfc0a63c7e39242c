"""The layer catalog: one declarative definition per city layer, and the registry."""

from layers.model import (
    Access,
    GeomType,
    Layer,
    Module,
    Prop,
    PropType,
    Style,
    Temporal,
    Titles,
)
from layers.modules import MODULES
from layers.registry import LAYERS, UnknownLayer, composite_ids, get, ids

__all__ = [
    "LAYERS",
    "MODULES",
    "Access",
    "GeomType",
    "Layer",
    "Module",
    "Prop",
    "PropType",
    "Style",
    "Temporal",
    "Titles",
    "UnknownLayer",
    "composite_ids",
    "get",
    "ids",
]
