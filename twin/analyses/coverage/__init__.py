"""Camera coverage of the city's street space, white spots, and where the next cameras should go.

What it answers
---------------
* **Coverage**: which part of the public street space (road centrelines buffered by a width
  per road class, plus parks, squares and playgrounds, minus building footprints) working
  cameras see, as a share of street *length*, street *area* and *weighted* area, for the
  scope and per district.
* **White spots**: the street space no camera sees, as polygons (one per connected part of a
  250 m tile within a district) with area, weight, district and nearest named street,
  ranked by weight.
* **Placement**: K new cameras from candidate sites (street intersections and points every N
  metres along the streets, or given points) chosen greedily to cover the most uncovered
  weight, with each camera's gain.
* **What-if**: cameras added, moved, changed or removed in a request, never saved.

How
---
* :mod:`.visibility` — a camera's view sector minus the exact 2-D shadows of the footprints
  that meet it, for all cameras at once (shapely 2 arrays + one STRtree query). A camera
  inside a footprint, or broken, sees nothing; a PTZ dome sees a full disc.
* :mod:`.targets` — street space cut into (250 m tile, district) pieces; weights per m² =
  ``base + population·p + pois·q + appeals·a`` where p, q, a are densities around the tile
  divided by their city-wide means.
* :mod:`.model` — per-camera polygons and per-tile coverage, so an edit recomputes only the
  tiles the camera left or entered (milliseconds, whatever the scope).
* :mod:`.candidates` — sites every N metres along the streets and at intersections (or
  given points), one candidate camera per street direction there.
* :mod:`.placement` — uncovered street space as weighted 5 m cells; lazy greedy (CELF) whose
  initial gains are cheap upper bounds, so only candidates that reach the top of the queue
  get a visibility polygon.
* :mod:`.analysis` — the two analyses end to end on a :class:`PreparedScope`; :mod:`.inputs`
  reads a store, :mod:`.cli` and ``twin.api.coverage`` are the shells.

Known limits: the line of sight is 2-D (mount height and building height are not used); the
street widths are typical values per OSM class, not surveyed kerbs.
"""

from twin.analyses.coverage.analysis import CoverageResult, PlacementResult, PreparedScope
from twin.analyses.coverage.cameras import CameraEdits
from twin.analyses.coverage.placement import Template
from twin.analyses.coverage.scope import Scope
from twin.analyses.coverage.targets import Weights

__all__ = [
    "CameraEdits",
    "CoverageResult",
    "PlacementResult",
    "PreparedScope",
    "Scope",
    "Template",
    "Weights",
]
