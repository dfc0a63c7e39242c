"""Which layers of a tile a caller gets: every feature, only the public H3 counts, or none.

A tile URL names one layer or several (``a``, ``a,b,c`` or ``{a,b,c}``); the caller's role
decides how each is seen (:mod:`twin.core.access`). Unknown and invisible names are left out
alike, and a tile with nothing left answers 404 with the same words either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import layers
from layers import LAYERS, Layer
from twin.core.access import Role, can_see, can_see_aggregate
from twin.core.errors import BadInput, NotFound


@dataclass(frozen=True)
class LayerAccess:
    """A layer as one caller may see it: every feature, or only its public H3 counts."""

    layer: Layer
    aggregate_only: bool = False

    @property
    def key(self) -> tuple[str, bool]:
        """Return the part of a cache key this access contributes."""
        return (self.layer.id, self.aggregate_only)


def parse_names(names: str) -> list[str]:
    """Return the distinct layer names of ``a``, ``a,b,c`` or ``{a,b,c}``, in order.

    >>> parse_names("{roads, buildings,roads}")
    ['roads', 'buildings']
    """
    names = names.strip()
    if names.startswith("{") and names.endswith("}"):
        names = names[1:-1]
    out = list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    if len(out) > len(LAYERS):
        raise BadInput(f"a composite tile takes at most {len(LAYERS)} layers")
    return out


def resolve(role: Role, names: str) -> list[LayerAccess]:
    """Return how ``role`` may see each named layer; unknown and invisible names are left out
    alike (a composite silently drops them), and :class:`NotFound` is raised when nothing is
    left, with the same words whether the layer is missing or hidden."""
    out = []
    for name in parse_names(names):
        try:
            access = access_of(role, layers.get(name))
        except layers.UnknownLayer:
            continue
        if access is not None:
            out.append(access)
    if not out:
        raise NotFound(f"no layer {names[:100]!r}")
    return out


def access_of(role: Role, layer: Layer) -> LayerAccess | None:
    """Return how ``role`` may see ``layer``: all of it, its public counts, or not at all."""
    if can_see(role, layer):
        return LayerAccess(layer)
    if can_see_aggregate(role, layer):
        return LayerAccess(layer, aggregate_only=True)
    return None


def visible_accesses(role: Role) -> list[LayerAccess]:
    """Return every layer ``role`` may see, in catalog order (public counts included)."""
    return [a for a in (access_of(role, layer) for layer in LAYERS) if a is not None]
