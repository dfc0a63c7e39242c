"""Open data of a counted cycle: the Pabulib ``.pb`` file (the format of pabulib.org, which
``pabutools`` and the research community read), and the projects as GeoJSON and CSV.

Only once voting is over (the ballots are secret before): a ``.pb`` carries every ballot, but
voters are numbered 1..n in no particular order, never by account. Projects keep their ids, so
a ``.pb`` counted by anyone with pabutools gives the same winners as the twin.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from etl import budget_layer
from twin.budget import service
from twin.core.budget_phases import require
from twin.store import Store

_PB_RULE = {"greedy": "greedy", "mes": "equalshares"}
CSV_COLUMNS = (
    "id", "title", "category", "status", "cost_kzt", "votes", "selected", "progress",
    "lon", "lat", "review_reason",
)  # fmt: skip


def _pb_text(value: Any) -> str:
    # the format is ';'-separated with ',' inside lists: keep free text out of its way
    return str(value).replace(";", ",").replace("\n", " ").strip()


def pabulib(store: Store, cycle_id: int) -> str:
    """Return a counted cycle as a Pabulib ``.pb`` text (approval ballots)."""
    cycle = service.get_cycle(store, cycle_id)
    require(cycle["phase"], "see the counts")
    outcome = service.outcome_of(store, cycle_id)
    projects = service.list_applications(store, cycle_id, status="accepted")
    with store.engine.connect() as conn:
        ballots = budget_layer.ballots_of(conn, store, cycle_id)
    won = set(outcome.winners)
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    meta = [
        ("description", f"Participatory budget of {cycle['district']}, Almaty, {cycle['year']}"),
        ("country", "Kazakhstan"),
        ("unit", "Almaty"),
        ("subunit", cycle["district"]),
        ("instance", str(cycle["year"])),
        ("district", cycle["district"]),
        ("num_projects", str(len(projects))),
        ("num_votes", str(len(ballots))),
        ("budget", str(cycle["budget_kzt"])),
        ("vote_type", "approval"),
        ("rule", _PB_RULE[cycle["rule"]]),
        ("date_begin", cycle["schedule"]["voting"]),
        ("date_end", cycle["schedule"]["results"]),
        ("max_sum_cost", str(cycle["budget_kzt"])),
        ("currency", "KZT"),
        ("language", "ru"),
        ("edition", "1"),
        ("synthetic", "true" if cycle["synthetic"] else "false"),
    ]
    w.writerows((k, _pb_text(v)) for k, v in meta)
    w.writerow(["PROJECTS"])
    w.writerow(
        ["project_id", "cost", "votes", "name", "category", "latitude", "longitude", "selected"]
    )
    for p in projects:
        w.writerow(
            [
                p["id"],
                p["cost_kzt"],
                outcome.votes.get(p["id"], 0),
                _pb_text(p["title"]),
                p["category"],
                f"{p['lat']:.6f}",
                f"{p['lon']:.6f}",
                1 if p["id"] in won else 0,
            ]
        )
    w.writerow(["VOTES"])
    w.writerow(["voter_id", "vote"])
    for n, ballot in enumerate(sorted(ballots, key=sorted), start=1):
        w.writerow([n, ",".join(str(p) for p in sorted(ballot))])
    return out.getvalue()


def geojson(store: Store, cycle_id: int) -> dict[str, Any]:
    """Return a cycle's applications as a GeoJSON FeatureCollection (votes and winners once
    voting is over)."""
    cycle = service.get_cycle(store, cycle_id)
    features = [
        {
            "type": "Feature",
            "id": p["id"],
            "geometry": p["location"],
            "properties": {k: v for k, v in p.items() if k not in ("location", "lon", "lat")}
            | {"district": cycle["district"], "year": cycle["year"], "phase": cycle["phase"]},
        }
        for p in service.list_applications(store, cycle_id)
    ]
    return {"type": "FeatureCollection", "cycle": cycle, "features": features}


def _cell(value: Any) -> Any:
    """Return a CSV cell; text a spreadsheet would run as a formula is quoted with ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_text(store: Store, cycle_id: int) -> str:
    """Return a cycle's applications as CSV (one row per application, centre as lon/lat)."""
    out = io.StringIO()
    w = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for p in service.list_applications(store, cycle_id):
        w.writerow({k: _cell(p.get(k)) for k in CSV_COLUMNS})
    return out.getvalue()


def dumps(value: Any) -> str:
    """Return JSON text of an export (UTF-8, Cyrillic kept readable)."""
    return json.dumps(value, ensure_ascii=False)
