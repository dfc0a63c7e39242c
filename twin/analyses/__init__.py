"""City analyses, one subpackage per analysis: a pure core over GeoDataFrames and arrays
(frames and values in, frames and values out), an ``inputs``/``service`` module that reads
what it needs from the store, and :mod:`twin.analyses.memo` to keep a model until the store
changes. No HTTP and no command line here: routers in ``twin/api`` and commands in
``twin/cli/analyze`` are thin shells, and results are kept for the map by the API
(:mod:`twin.api.results`).
"""
