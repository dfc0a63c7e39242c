"""City analyses: pure functions over GeoDataFrames and arrays, one subpackage per analysis.

The core never imports FastAPI; routers in ``twin/api`` and commands in
``twin/analyses/cli.py`` are thin shells over these functions.
"""
