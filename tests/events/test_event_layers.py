"""The event layers follow ``city_events`` on both stores: a file load writes every event into
the layer of its geometry kind in the same transaction, a re-load writes nothing (the change
log does not move), and ``sync_layers`` rebuilds the layers of a store whose events predate
them."""

from __future__ import annotations

import pandas as pd

import layers
from twin.core.settings import DATA_DIR
from twin.events import service
from twin.events.loading import BUNDLED, load_azhk
from twin.store import Store

AZHK = DATA_DIR / BUNDLED[0]


def test_a_file_load_fills_the_area_layer_and_a_reload_writes_nothing(store: Store) -> None:
    load_azhk(store, AZHK)
    areas = store.read_frame(layers.get("city_event_areas"), with_system=True)
    assert len(areas) == 86  # every AZhK outage is an area
    assert set(areas["source"]) == {service.LAYER_SOURCE}
    assert set(areas["provider"]) == {"azhk"}
    row = areas[areas["title"] == "Плановое отключение электроэнергии: Центр"].iloc[0]
    event = service.get(store, int(row["event_id"]))
    assert row["source_id"] == str(event.id)
    assert row["geometry"].equals(event.geometry)
    starts = pd.to_datetime(row["starts_at"], utc=True)  # text on one store, a time on the other
    assert starts.tz_localize(None).to_pydatetime() == event.starts_at
    assert len(store.read_frame(layers.get("city_event_lines"))) == 0
    head = store.last_change_id()
    load_azhk(store, AZHK)
    assert store.last_change_id() == head
    assert service.sync_layers(store) == []  # already in line: nothing written


def test_sync_layers_rebuilds_layers_emptied_behind_the_events(store: Store) -> None:
    load_azhk(store, AZHK)
    layer = layers.get("city_event_areas")
    fids = store.read_frame(layer)["fid"].tolist()
    store.delete_features(layer, fids[:10])
    assert len(store.read_frame(layer)) == 76
    assert service.sync_layers(store) == ["city_event_areas"]
    assert len(store.read_frame(layer)) == 86
