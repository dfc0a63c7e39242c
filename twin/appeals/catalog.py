"""Look-ups over the declared appeal catalog (:mod:`layers.appeal_services`), raising the
domain's errors, and the lifecycle's rules: which status may follow which, and what the
public may see of a category."""

from __future__ import annotations

from layers.appeal_services import (
    CATEGORIES,
    SERVICES,
    STATUSES,
    AppealCategory,
    CityService,
)
from twin.core.errors import BadInput

OPEN_STATUSES: tuple[str, ...] = ("received", "assigned", "in_progress")
CLOSED_STATUSES: tuple[str, ...] = ("resolved", "rejected")

#: The lifecycle: the statuses each status may move to. Work may be resolved straight from
#: assignment (a quick fix); a rejection is possible until the appeal is answered.
NEXT: dict[str, tuple[str, ...]] = {
    "received": ("assigned", "rejected"),
    "assigned": ("in_progress", "resolved", "rejected"),
    "in_progress": ("resolved", "rejected"),
    "resolved": (),
    "rejected": (),
}

_CATEGORY = {c.code: c for c in CATEGORIES}
_SERVICE = {s.code: s for s in SERVICES}


def category(code: str) -> AppealCategory:
    """Return the category ``code`` (an Open311 ``service_code``) or raise :class:`BadInput`."""
    found = _CATEGORY.get(code)
    if found is None:
        raise BadInput(
            f"unknown service_code {code[:40]!r}; services.json lists them: {', '.join(_CATEGORY)}"
        )
    return found


def service(code: str) -> CityService:
    """Return the city service ``code`` or raise :class:`BadInput`."""
    found = _SERVICE.get(code)
    if found is None:
        raise BadInput(f"unknown city service {code[:40]!r}; known: {', '.join(_SERVICE)}")
    return found


#: the categories whose appeals' points are never public
SENSITIVE_CODES: tuple[str, ...] = tuple(c for c, cat in _CATEGORY.items() if cat.sensitive)


def is_sensitive(code: str) -> bool:
    """Return whether appeals of category ``code`` are public only as aggregated counts."""
    found = _CATEGORY.get(code)
    return found is not None and found.sensitive


def open311_status(status: str) -> str:
    """Return the GeoReport v2 status (``open`` or ``closed``) of a lifecycle status."""
    return "closed" if status in CLOSED_STATUSES else "open"


def check_transition(current: str, new: str, reason: str | None) -> None:
    """Raise :class:`BadInput` unless ``current`` → ``new`` is a step of the lifecycle (and a
    rejection gives its reason)."""
    if new not in STATUSES:
        raise BadInput(f"unknown status {new[:40]!r}; statuses: {', '.join(STATUSES)}")
    allowed = NEXT[current]
    if new not in allowed:
        after = ", ".join(allowed) if allowed else "nothing (it is closed)"
        raise BadInput(
            f"an appeal that is {current!r} cannot become {new!r}; it may become {after}"
        )
    if new == "rejected" and not (reason and reason.strip()):
        raise BadInput("a rejection needs a reason")
