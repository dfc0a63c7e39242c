"""Residents' appeals as a service: the catalog of categories and the services answering them,
the lifecycle (received → assigned → in progress → resolved / rejected) with a timed history of
who changed what, residents' ratings, the duplicate hint, and the Open311 GeoReport v2 shape.

Every appeal is a row of the ``appeals`` layer (the map's source; see
:mod:`twin.store.tables.appeals` for what is kept beside it). No HTTP here: the routers in
``twin.api.open311`` and ``twin.api.appeals`` are thin.
"""
