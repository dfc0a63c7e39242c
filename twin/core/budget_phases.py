"""The phases of a participatory-budget cycle and what each one allows.

A cycle only moves forward, one phase at a time (staff advance it): applications → technical
review → voting → results → implementation → done. What residents and staff may do is decided
here, in one table, so that no route can forget a rule (no voting outside the voting phase; no
application after the call closed; counts public only once voting is over).
"""

from __future__ import annotations

from enum import StrEnum

from twin.core.errors import BadInput


class Phase(StrEnum):
    """A cycle's phase, in order."""

    APPLICATIONS = "applications"
    REVIEW = "review"
    VOTING = "voting"
    RESULTS = "results"
    IMPLEMENTATION = "implementation"
    DONE = "done"


ORDER: tuple[Phase, ...] = tuple(Phase)

#: action -> the phases in which it is allowed
ALLOWED: dict[str, frozenset[Phase]] = {
    "submit an application": frozenset({Phase.APPLICATIONS}),
    "review an application": frozenset({Phase.APPLICATIONS, Phase.REVIEW}),
    "change the voting rule or budget": frozenset({Phase.APPLICATIONS, Phase.REVIEW, Phase.VOTING}),
    "vote": frozenset({Phase.VOTING}),
    "see the counts": frozenset({Phase.RESULTS, Phase.IMPLEMENTATION, Phase.DONE}),
    "report progress of works": frozenset({Phase.IMPLEMENTATION}),
}


def next_phase(phase: Phase) -> Phase:
    """Return the phase after ``phase``; :class:`BadInput` after the last."""
    i = ORDER.index(phase)
    if i + 1 == len(ORDER):
        raise BadInput("the cycle is done; there is no phase after 'done'")
    return ORDER[i + 1]


def require(phase: str, action: str) -> None:
    """Raise :class:`BadInput` naming the phase when ``action`` is not allowed in ``phase``."""
    allowed = ALLOWED[action]
    if Phase(phase) not in allowed:
        when = " or ".join(f"'{p.value}'" for p in ORDER if p in allowed)
        raise BadInput(f"cannot {action} in the '{phase}' phase (only in {when})")


def at_least(phase: str, other: Phase) -> bool:
    """Return whether ``phase`` is ``other`` or later."""
    return ORDER.index(Phase(phase)) >= ORDER.index(other)
