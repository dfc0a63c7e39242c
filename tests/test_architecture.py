"""The house's rules (import contracts in ``pyproject.toml``, checked by ``lint-imports`` in
scripts/test) hold, and they are real: a copy of the code with one deliberately wrong import
breaks them, each with the contract that names the rule."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "twin", "tiles", "etl")
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the four packages and the contracts."""
    root = tmp_path_factory.mktemp("house")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_code_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("tiles/_probe.py", "import twin.api.tiles\n", "One way down"),
        ("layers/_probe.py", "import twin.core.errors\n", "One way down"),
        ("twin/store/_probe.py", "import tiles.grid\n", "One way down"),
        ("twin/core/_probe.py", "import fastapi\n", "Only the HTTP edge"),
        ("twin/analyses/_probe.py", "import typer\n", "Only the command line"),
        ("twin/features/_probe.py", "import tiles.grid\n", None),  # siblings of one layer
    ],
)
def test_a_wrong_import_breaks_its_contract(
    copy: Path, module: str, line: str, contract: str | None
) -> None:
    probe = copy / module
    probe.write_text(line)
    try:
        result = _lint(copy)
    finally:
        probe.unlink()
    if contract is None:
        assert result.returncode == 0, result.stdout[-3000:]
        return
    assert result.returncode != 0, f"{module}: {line!r} was not caught"
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout[-3000:]


def test_a_cycle_between_packages_breaks_the_acyclic_contract(copy: Path) -> None:
    # twin.analyses.site imports twin.analyses.access; the other way round makes a cycle.
    probe = copy / "twin" / "analyses" / "access" / "_probe.py"
    probe.write_text("import twin.analyses.site.model\n")
    try:
        result = _lint(copy)
    finally:
        probe.unlink()
    assert result.returncode != 0
    assert "No cycles between the packages" in result.stdout.split("Broken contracts", 1)[-1]


def test_only_the_store_knows_which_backend_it_has() -> None:
    """Outside ``twin/store`` no code names a backend or asks a store which one it is: what
    differs is a method of the store (its dialect ``store.sql`` or a capability)."""
    import re

    asks = re.compile(
        r"""store\.kind|\.kind\s*[!=]=\s*["'](?:postgis|geopackage)|"""
        r"""["'](?:postgis|geopackage)["']|GeoPackageStore|PostGISStore"""
    )
    found = []
    for name in PACKAGES:
        for path in (ROOT / name).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("twin/store/"):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if asks.search(code):
                    found.append(f"{rel}:{n}: {line.strip()}")
    # /healthz reports which store it serves: naming it is not branching on it.
    found = [f for f in found if not f.startswith("twin/api/catalog.py") or "kind" not in f]
    assert not found, "\n".join(found)


def test_no_shared_geometry_is_prepared_in_place() -> None:
    """GEOS prepared geometries are not thread-safe: only ``twin.core.geometry`` prepares,
    and always a private copy (``shapely.contains_xy`` / ``intersects_xy`` prepare their
    polygon in place, so they go through it too). Eight threads preparing the cached city
    boundary at once crashed the server (``tests/core/test_geometry_threads.py``). The ETL
    runs in one thread and may prepare what it builds."""
    import re

    prepares = re.compile(r"shapely\.(prepare|contains_xy|intersects_xy)\(")
    allowed = {
        "twin/core/geometry.py",
        "tiles/embedded.py",  # prepares a box made for the call, which no other thread holds
    }
    found = []
    for name in ("twin", "tiles"):
        for path in (ROOT / name).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel in allowed:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if prepares.search(line.split("#", 1)[0]):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
