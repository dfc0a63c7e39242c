"""What a coverage or placement request will cost, estimated in the server's own process
before the request is given to a worker.

The exact check (:class:`~twin.analyses.budget.Budget` inside the worker) needs the prepared
scope: seconds of street-space unions, and a free worker. Under issue 14's corpus a refusal
therefore waited for a worker and its preparation (one took 51 s at high load), and while
both workers were busy an over-limit request was answered 429 instead of 413. This estimate
is arithmetic on the request's parameters and a table of street centreline length per
250 m cell, read from the roads layer once per version of the store (the bundled city's 2,144
km of streets: ~0.2 s), so an over-limit request is refused with 413 at once and never
occupies a worker.

**Lower estimates, so the door never refuses what the worker would accept:**

- a scope's street length counts only the cells wholly inside the scope (a scope smaller
  than a cell counts nothing here and is left to the worker);
- street area is that length times each class's width (the widths the targets buffer by),
  without parks. Measured on the bundled city, the exact street area (buffers united, parks
  added, buildings cut out) is 0.63–1.04 × this figure (city 0.87, Almaly 0.63, Medeu 1.04),
  so the door uses half of it (:data:`MARGIN`);
- placement candidates are at least one per ``spacing_m`` of street (each street site gives
  two headings unless the camera sees 360°), halved the same way, and at least ``k``;
- camera edits count only the cameras whose range and field of view the request gives (an
  update that leaves them unchanged is counted by the worker, which knows the stored ones).

Anything under these figures still goes to the worker, which checks the exact cost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

import layers
from twin.analyses.budget import Budget, sector_cells
from twin.analyses.coverage.cameras import CameraEdits
from twin.analyses.coverage.inputs import _metric, city_data
from twin.analyses.coverage.placement import Template
from twin.analyses.coverage.scope import Scope, resolve
from twin.analyses.coverage.targets import street_lines
from twin.core import geometry
from twin.store import Store

#: Side of the cells street length is counted in (metres).
CELL_M = 250.0
#: The exact street area was at least 0.63 × the estimate on the bundled city: the door
#: refuses only what is over the limit at half the estimate.
MARGIN = 2.0
#: Default view of an added camera that gives none (as the worker assumes).
DEFAULT_VIEW = (100.0, 90.0)


@dataclass(frozen=True)
class ScopeSize:
    """A scope's street centreline length (m) and nominal street area (m², length × width)
    counted in the cells wholly inside it."""

    length_m: float
    area_m2: float


class StreetCells:
    """Street length and nominal area per :data:`CELL_M` cell, and the city's scopes."""

    def __init__(self, store: Store) -> None:
        frames = {lid: store.read_frame(layers.get(lid)) for lid in ("city_boundary", "districts")}
        self.city = city_data(frames) if len(frames["districts"]) else None
        roads = store.read_frame(layers.get("roads"))
        lines, width, _ = street_lines(_metric(roads)) if len(roads) else ([], [], [])
        lines = shapely.segmentize(np.asarray(lines, dtype=object), CELL_M / 2)
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        same = owner[1:] == owner[:-1]  # consecutive vertices of one line make a segment
        a, b, line = coords[:-1][same], coords[1:][same], owner[1:][same]
        seg = np.hypot(*(b - a).T)
        mid = (a + b) / 2
        ij = np.floor(mid / CELL_M).astype(np.int64)
        cells, at = np.unique(ij, axis=0, return_inverse=True)
        at = at.reshape(-1)
        self.cells = cells
        self.length = np.bincount(at, seg, minlength=len(cells))
        self.area = np.bincount(at, seg * np.asarray(width, float)[line], minlength=len(cells))
        x0, y0 = cells[:, 0] * CELL_M, cells[:, 1] * CELL_M
        self.boxes = shapely.box(x0, y0, x0 + CELL_M, y0 + CELL_M)
        self._sizes: dict[str, ScopeSize] = {}

    def size(self, scope: Scope) -> ScopeSize:
        """Return the street length and nominal area in the cells wholly inside ``scope``
        (raises :class:`~twin.core.errors.BadInput` for a scope the worker would refuse)."""
        key = scope.key()
        if key in self._sizes:
            return self._sizes[key]
        if self.city is None or not len(self.boxes):
            size = ScopeSize(0.0, 0.0)
        else:
            area, _ = resolve(scope, self.city.boundary, self.city.districts, self.city.aliases)
            # the city scope is the cached boundary itself: never prepared in place
            # (twin.core.geometry: eight threads at once crashed the server)
            inside = geometry.contains(area, self.boxes)
            size = ScopeSize(float(self.length[inside].sum()), float(self.area[inside].sum()))
        if len(self._sizes) > 64:
            self._sizes.clear()
        self._sizes[key] = size
        return size


def edit_views(edits: CameraEdits) -> Iterable[tuple[float, float]]:
    """Return (range_m, fov_deg) of the edited cameras whose view the request states: every
    added one (the default view where it gives none) and the updates that give both."""
    for change in edits.add:
        yield (
            float(change.get("range_m", DEFAULT_VIEW[0])),
            float(change.get("fov_deg", DEFAULT_VIEW[1])),
        )
    for change in edits.update:
        if "range_m" in change and "fov_deg" in change:
            yield float(change["range_m"]), float(change["fov_deg"])


def check_coverage(budget: Budget, edits: CameraEdits) -> None:
    """Refuse (413) a coverage request whose edits are surely over the budget."""
    if edits:
        budget.charge_cameras("the camera edits", edit_views(edits))


def check_placement(
    budget: Budget, size: ScopeSize, kwargs: Mapping[str, Any], edits: CameraEdits
) -> None:
    """Refuse (413) a placement surely over the budget: demand cells, candidate views or
    camera edits (``kwargs`` as :meth:`PreparedScope.placement` takes them)."""
    check_coverage(budget, edits)
    cell = float(kwargs["demand_cell_m"])
    budget.charge(f"demand at {cell:g} m cells", size.area_m2 / MARGIN / (cell * cell))
    template: Template = kwargs["template"]
    view = sector_cells(template.range_m, template.fov)
    if kwargs.get("given") is None:
        heads = 1 if template.fov >= 360.0 else 2
        sites = size.length_m / float(kwargs["spacing_m"]) / MARGIN
        count = max(float(kwargs["k"]), math.floor(sites) * heads)
    else:
        count = float(kwargs["k"])  # at least k candidates, or the worker answers 400
    budget.charge_candidates(
        f"about {count:,.0f} candidate cameras of {template.range_m:g} m / {template.fov:g}°",
        count * view,
    )
