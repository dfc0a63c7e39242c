"""The mixed workload of ``bench/scale.py`` for locust: map users looking at cached and cold
tiles, filtering features, searching, asking for isochrones, and planners editing.

Hosts come from ``TWIN_BENCH_HOSTS`` (comma-separated base URLs: every server process of the
cluster; each simulated user keeps to one, as a sticky load balancer would); the planner key
from ``TWIN_BENCH_PLANNER_KEY``. Requests are named by kind, so locust's table is per kind.
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

# The city's box (lon/lat) and the tiles of its centre that stay hot in every cache.
WEST, SOUTH, EAST, NORTH = 76.82, 43.18, 77.02, 43.32
HOT = [(14, 11092, 6008), (14, 11093, 6008), (14, 11092, 6009), (14, 11093, 6009)]
WORDS = ["Абая", "школа", "парк", "Дом", "больница", "Сатпаева", "Толе би", "Достык"]


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


class MapUser(HttpUser):
    """One person on the map (and, one time in twenty, a planner editing)."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        hosts = [h for h in os.environ.get("TWIN_BENCH_HOSTS", "").split(",") if h]
        if hosts:
            self.client.base_url = random.choice(hosts)
        self.key = os.environ.get("TWIN_BENCH_PLANNER_KEY", "")

    @task(10)
    def cached_tile(self) -> None:
        z, x, y = random.choice(HOT)
        self.client.get(f"/tiles/buildings/{z}/{x}/{y}.mvt", name="tile cached")

    @task(5)
    def cold_tile(self) -> None:
        z = random.choice([15, 16])
        x, y = _tile(random.uniform(WEST, EAST), random.uniform(SOUTH, NORTH), z)
        self.client.get(f"/tiles/buildings/{z}/{x}/{y}.mvt", name="tile cold")

    @task(3)
    def features(self) -> None:
        lon, lat = random.uniform(WEST, EAST), random.uniform(SOUTH, NORTH)
        bbox = f"{lon},{lat},{lon + 0.01},{lat + 0.01}"
        self.client.get(
            f"/collections/buildings/items?bbox={bbox}&filter=levels%20%3E%203&limit=50",
            name="features filtered",
        )

    @task(2)
    def search(self) -> None:
        self.client.get("/api/search", params={"q": random.choice(WORDS)}, name="search")

    @task(1)
    def isochrone(self) -> None:
        lon, lat = random.uniform(76.88, 76.96), random.uniform(43.22, 43.27)
        self.client.get(
            "/api/analysis/isochrone",
            params={"lon": lon, "lat": lat, "mode": "walk", "minutes": "10"},
            name="isochrone",
        )

    @task(1)
    def write(self) -> None:
        if not self.key:
            return
        lon, lat = random.uniform(WEST, EAST), random.uniform(SOUTH, NORTH)
        ring = [[lon, lat], [lon + 1e-4, lat], [lon + 1e-4, lat + 1e-4], [lon, lat + 1e-4],
                [lon, lat]]  # fmt: skip
        self.client.post(
            "/collections/buildings/items",
            json={
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {"name": "bench"},
            },
            headers={"Authorization": f"Bearer {self.key}"},
            name="write feature",
        )
