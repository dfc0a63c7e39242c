"""Businesses as customers (issue 21): their own candidate sites scored, market reports.

* :mod:`.candidates` — a business's file of candidate sites (CSV or GeoJSON) read as
  hostile input: bounded, every bad row named;
* :mod:`.sites` — candidates' addresses resolved with the twin's own search (what could not
  be resolved is reported, never guessed) and scored with
  :func:`twin.analyses.site.batch.score_points`;
* :mod:`.plans` — the plans (``plans.toml``): quotas, batch rows, analyses, weights;
* :mod:`.orgs` — organisations, their members, keys (hashed) and recorded usage;
* :mod:`.metering` — each call charged against the day's and month's quota (memory or
  Redis), refunded when it fails.

No HTTP here: the router is :mod:`twin.api.business`.
"""
