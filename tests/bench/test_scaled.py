"""The benchmarks' scaled city: the real buildings once and nine shifted copies, each kept
inside the city boundary as its docstring says."""

from __future__ import annotations

import shapely


def test_scaled_city_is_ten_copies_inside_the_boundary() -> None:
    from bench.scaled import city_boundary, describe, real_buildings, scaled_buildings

    real = real_buildings()
    city = scaled_buildings(3)
    shifted = scaled_buildings(3, original=False)
    assert city["source_id"].is_unique
    assert (~city["synthetic"]).sum() == len(real)  # the originals once
    copies = city[city["synthetic"]]
    assert set(copies["source_id"].str.extract(r"-x(\d+)$")[0]) == {"1", "2"}
    assert shapely.within(copies.geometry.values, city_boundary()).all()
    assert 0 < len(copies) <= 2 * len(real)
    # the shifted-only frame (for stores holding the bundled originals) is the same copies
    assert shifted["source_id"].tolist() == copies["source_id"].tolist()
    assert shapely.equals(shifted.geometry.values, copies.geometry.values).all()
    assert describe(city).startswith(f"{len(city):,} footprints: {len(real):,} real + ")
