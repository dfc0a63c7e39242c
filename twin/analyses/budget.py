"""What one analysis may cost, checked before the work starts and while it runs.

One request once took 34 s and 8.7 GB (placement with 1 m demand cells over the city) and
another ran 432 s (500 cameras with 1 km / 360° from 5 m spaced candidates) and went on after
the client had left. An analysis now states its cost in *cells* before it runs — demand cells
(street area / cell²), and visibility cells (for every camera whose view is computed, its
view sector's area / 25 m²) — and is refused with :class:`~twin.core.errors.TooLarge` (413)
naming the limit when the estimate is over it. While it runs, :meth:`Budget.check` is called
between steps: past the time limit, or once the client has gone (``cancelled``), the work
stops with an error instead of running to the end for nobody.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from twin.core.errors import TooLarge

#: One visibility cell is 5 m × 5 m (the coverage raster's resolution).
VIS_CELL_M2 = 25.0


def sector_cells(range_m: float, fov_deg: float) -> float:
    """Return the visibility cells of one view sector (``range_m``, ``fov_deg``)."""
    return math.pi * range_m * range_m * min(fov_deg, 360.0) / 360.0 / VIS_CELL_M2


class Cancelled(TooLarge):
    """The analysis was stopped: over its time limit, or its client went away."""

    code = "too_long"


class OverMemory(TooLarge):
    """The analysis needed more memory than one analysis may use."""

    code = "too_much_memory"


@dataclass
class Budget:
    """The limits of one analysis run, in estimated cells and in seconds.

    ``max_cells``: grid cells built (demand cells of a placement, ~430 bytes each);
    ``max_edit_cells``: view cells of the cameras a what-if edit recomputes (every one is
    computed); ``max_candidate_cells``: view cells of all placement candidates (the lazy greedy
    computes only the promising ones, so this limit is looser). ``cancelled`` is set by whoever
    serves the request when its client disconnects.
    """

    max_cells: float = 4e6
    max_edit_cells: float = 50e6
    max_candidate_cells: float = 500e6
    seconds: float = 60.0
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def unlimited(cls) -> Budget:
        """Return a budget that refuses nothing (the command line, tests of the cores)."""
        return cls(math.inf, math.inf, math.inf, math.inf)

    def limits(self) -> dict[str, float]:
        """Return the limits as plain values (to send to a worker process; the event does not
        pickle)."""
        return {
            "max_cells": self.max_cells,
            "max_edit_cells": self.max_edit_cells,
            "max_candidate_cells": self.max_candidate_cells,
            "seconds": self.seconds,
        }

    @classmethod
    def from_limits(cls, limits: dict[str, float]) -> Budget:
        """Return a budget with ``limits`` (from :meth:`limits`), its clock started now."""
        return cls(
            max_cells=limits["max_cells"],
            max_edit_cells=limits["max_edit_cells"],
            max_candidate_cells=limits["max_candidate_cells"],
            seconds=limits["seconds"],
        )

    def charge(self, what: str, cells: float, limit: float | None = None) -> None:
        """Refuse (413) an estimated cost of ``cells`` over ``limit`` (:attr:`max_cells`)."""
        limit = self.max_cells if limit is None else limit
        if cells > limit:
            raise TooLarge(
                f"{what} would need about {cells:,.0f} cells, over the limit of "
                f"{limit:,.0f} per analysis; use a smaller scope, coarser cells, "
                "wider candidate spacing, a shorter range or fewer cameras"
            )

    def charge_cameras(self, what: str, views: Iterable[tuple[float, float]]) -> None:
        """Refuse (413) edited cameras whose view sectors ((range_m, fov_deg) each) would
        cost more than :attr:`max_edit_cells`."""
        cells = sum(sector_cells(r, f) for r, f in views)
        self.charge(what, cells, self.max_edit_cells)

    def charge_candidates(self, what: str, cells: float) -> None:
        """Refuse (413) placement candidates over :attr:`max_candidate_cells`."""
        self.charge(what, cells, self.max_candidate_cells)

    def check(self) -> None:
        """Stop the run (raise :class:`Cancelled`) past the time limit or once cancelled."""
        if self.cancelled.is_set():
            raise Cancelled("the analysis was stopped: its client went away")
        if time.monotonic() - self.started > self.seconds:
            raise Cancelled(
                f"the analysis ran over the time limit of {self.seconds:g} s and was stopped; "
                "use a smaller scope or fewer candidates"
            )
