"""Site selection for businesses: where demand is high and competitors are few (issue 7).

* :mod:`.categories` — business categories from ``categories.toml`` (data, not code);
* :mod:`.demand` — the population grid spread onto dwellings, gathered into H3 cells;
* :mod:`.cells` — the city's H3 cells with what every category shares;
* :mod:`.reach` — walking times between many points within a few minutes (tiled Dijkstra
  over the access package's street graph and snapping);
* :mod:`.scoring` — demand, Huff competition and access per cell, weighted into a score;
* :mod:`.catchments` — network catchments of existing outlets, niches for new ones;
* :mod:`.model`, :mod:`.service` — the model of one city and its per-store cache;
* :mod:`.validation` — hide outlets, score, measure the lift;
* :mod:`.output`, :mod:`.report`, :mod:`.cli` — GeoJSON with explanations, the pydeck
  report, ``twin analyze site``.
"""
