"""The participatory budget ("Бюджет народного участия", issue 17) as a real process: cycles
per district and year with phases, residents' applications and staff review, one approval
ballot per resident within the budget, counting with the research community's rules through
``pabutools`` (utilitarian greedy or the Method of Equal Shares, chosen per cycle), open-data
exports (Pabulib ``.pb``, GeoJSON, CSV) and the works winners become.

* :mod:`twin.core.budget_phases` — the phases and what each allows;
* :mod:`twin.core.budget_counting` — the rules (pabutools) and why a project lost;
* :mod:`.service` — the process over the store;
* :mod:`.export` — Pabulib, GeoJSON and CSV;
* :mod:`etl.budget_layer` — the cycles' projects as the map's ``budget_cycle_projects`` layer,
  and counting a cycle into the store.

The rules and the layer sit below this package (in the core and the etl) because a load
through the etl alone writes the generated past cycles and must leave them counted and drawn.

No HTTP here: the router is :mod:`twin.api.budget`.
"""
