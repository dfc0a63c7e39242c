"""Residents take part: ratings and reviews, likes and dislikes on the catalog's ratable
features, initiatives with supports and statuses, reports and moderation, and the limits on
every write.

Why a domain package: this is the service's public write path, so every rule about what a
resident may write (one vote each, lengths, who may change what, hiding after reports) lives
here once, without HTTP; :mod:`twin.api.participation` only translates. New ratings, reactions
and initiatives are announced on the live stream (:func:`twin.live.publish`) by the caller.
"""

from __future__ import annotations

from twin.participation.initiatives import CATEGORIES, STATUSES, Initiatives
from twin.participation.limits import WriteLimits
from twin.participation.moderation import Moderation
from twin.participation.objects import ratable_layer
from twin.participation.ratings import Aggregate, Ratings
from twin.participation.writer import GroupWriter

__all__ = [
    "CATEGORIES",
    "STATUSES",
    "Aggregate",
    "GroupWriter",
    "Initiatives",
    "Moderation",
    "Ratings",
    "WriteLimits",
    "ratable_layer",
]
