"""City events (issue 19): emergencies, utility outages (electricity, water, heating, gas), road
closures and planned works — one model of time-bounded events with a kind, a severity, an
area or a line, a start and an end (or none yet), a source, a status and updates.

* :mod:`.model` — the event and the checks every event passes (file or API alike);
* :mod:`.service` — post and change (staff), list by time and place, "what affects this
  address on this day", the road closures in force (for the access analyses), file loads;
  every change is published on the live stream (:mod:`twin.live`, topic ``events``);
* :mod:`.loading` — the AZhK outage schedule (read by :mod:`etl.azhk`) and the bundled copy.

No HTTP here: the routers are :mod:`twin.api.city_events` (and :mod:`twin.api.events`, the
stream).
"""
