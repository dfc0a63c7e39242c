"""Loading city events from files: the AZhK outage schedule (:mod:`etl.azhk`), and the copy of
it bundled under ``data/almaty/events`` that ``twin load`` loads with the rest of the city."""

from __future__ import annotations

from pathlib import Path

from etl.azhk import LICENCE, SOURCE, read_azhk
from twin.events.service import LoadResult, Rejected, file_sha256, load_records
from twin.store import Store

BUNDLED = ("almaty/events/azhk_planned_power_outages_2026-07.geojson",)


def load_azhk(store: Store, path: Path) -> LoadResult:
    """Load an AZhK planned-outage GeoJSON (all good rows in one transaction; bad rows
    quarantined with their reason). Loading the same file again changes nothing."""
    read = read_azhk(path)
    rejected = [Rejected(r.row, r.source_id, r.reason, r.properties) for r in read.rejected]
    return load_records(
        store,
        read.records,
        source=SOURCE,
        file=path.name,
        sha256=file_sha256(read.raw),
        licence=LICENCE,
        rejected=rejected,
    )


def load_bundled_events(store: Store, data_dir: Path) -> list[LoadResult]:
    """Load the bundled event files under ``data_dir``."""
    return [load_azhk(store, data_dir / rel) for rel in BUNDLED]
