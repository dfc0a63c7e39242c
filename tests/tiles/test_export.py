"""PMTiles export, read back with the ``pmtiles`` package, and the ``twin tiles export`` command."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from typer.testing import CliRunner

import layers
from tests.tiles.mvtcheck import decode, expected_ids, ids
from tiles.export import export_pmtiles
from tiles.grid import lonlat_to_tile_xy
from tiles.service import TileService
from twin.cli import app
from twin.core.errors import BadInput
from twin.store import open_store


@pytest.fixture(scope="module")
def service(almaty_url: str) -> Iterator[TileService]:
    store = open_store(almaty_url, create=False)
    yield TileService(store)
    store.close()


@pytest.fixture(scope="module")
def archive(service: TileService, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pmtiles") / "city.pmtiles"
    calls: list[tuple[int, int]] = []
    summary = export_pmtiles(
        service,
        path,
        layer_ids=["districts", "buildings", "appeals"],
        minzoom=10,
        maxzoom=13,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert summary.tiles > 50 and summary.largest_tile <= 500_000
    assert calls[-1][0] == calls[-1][1] and len(calls) >= summary.tiles
    return path


def test_header_and_metadata(archive: Path) -> None:
    with archive.open("rb") as f:
        reader = Reader(MmapSource(f))
        header, meta = reader.header(), reader.metadata()
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (10, 13)
    assert 76.5e7 < header["min_lon_e7"] < header["max_lon_e7"] < 77.5e7
    assert 42.9e7 < header["min_lat_e7"] < header["max_lat_e7"] < 43.7e7
    assert [v["id"] for v in meta["vector_layers"]] == ["districts", "buildings", "appeals"]
    assert "OpenStreetMap" in meta["attribution"]


def test_a_tile_reads_back_with_the_right_features(archive: Path, service: TileService) -> None:
    z = 13
    x, y = lonlat_to_tile_xy(76.93, 43.24, z)
    with archive.open("rb") as f:
        raw = Reader(MmapSource(f)).get(z, x, y)
    assert raw is not None
    tile = decode(gzip.decompress(raw))
    assert set(tile) == {"districts", "buildings", "appeals"}
    # the archive's last zoom keeps every feature (clients overzoom it)
    want, dropped = expected_ids(service.store, layers.get("buildings"), z, x, y, min_px2=0.0)
    assert ids(gzip.decompress(raw), "buildings") == want and dropped == 0
    assert {f["geometry"]["type"] for f in tile["appeals"]["features"]} == {"Polygon"}


def test_no_empty_tiles_are_stored(archive: Path) -> None:
    with archive.open("rb") as f:
        reader = Reader(MmapSource(f))
        sizes = [len(data) for _, data in all_tiles(reader.get_bytes)]
    assert sizes and min(sizes) > 20


def test_planner_only_layers_are_refused(service: TileService, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cameras"):
        export_pmtiles(service, tmp_path / "x.pmtiles", layer_ids=["cameras"], maxzoom=10)


def test_the_command(almaty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_DATABASE_URL", almaty_url)
    out = tmp_path / "d.pmtiles"
    runner = CliRunner()
    ok = runner.invoke(
        app, ["tiles", "export", "--pmtiles", str(out), "--layers", "districts", "--maxzoom", "6"]
    )
    assert ok.exit_code == 0, ok.output
    assert "wrote" in ok.output and out.stat().st_size > 1000
    bad = runner.invoke(app, ["tiles", "export", "--pmtiles", str(out), "--layers", "cameras"])
    assert bad.exit_code == 1 and "not a public layer" in bad.output
