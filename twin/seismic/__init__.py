"""Seismic risk: Vs30 site classes, the GEM residential exposure by district and the scenario
earthquakes of Amey et al. 2021, for the planner's "if scenario X happened" view."""
