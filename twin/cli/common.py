"""What every ``twin`` command shares: the consoles, one clear line for a domain error, the
progress bar, the store named by the settings, and writing a frame by its file's extension."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from twin.core.errors import BadInput, TwinError
from twin.core.settings import Settings

if TYPE_CHECKING:
    from twin.store import Store

#: Messages, progress and errors (standard error); results go to :data:`out`.
console = Console(stderr=True)
out = Console()


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a domain error as one clear line and exit 1, instead of a traceback."""
    try:
        yield
    except TwinError as exc:
        console.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(1) from None


def progress_bar() -> Progress:
    """Return the command line's progress bar (drawn only on a terminal)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def open_store(settings: Settings | None = None) -> Store:
    """Return the store the settings name (read from the environment when not given)."""
    from twin.store import open_store as _open

    settings = settings or Settings.from_env()
    return _open(settings.store.database_url, replicas=settings.store.replicas())


def connect_cluster(settings: Settings | None = None) -> None:
    """Send the whole-city analyses' heavy steps to ``TWIN_DASK_SCHEDULER`` when it is set."""
    from twin.analyses import cluster

    cluster.connect((settings or Settings.from_env()).dask_scheduler)


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` by its extension (.geojson, .gpkg, .csv); a CSV gets the
    lon/lat of each geometry's representative point."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
        if isinstance(frame, gpd.GeoDataFrame) and len(frame):
            pt = frame.geometry.representative_point()
            table["lon"], table["lat"] = pt.x.round(6), pt.y.round(6)
        table.to_csv(path, index=False)
    elif suffix in (".geojson", ".json", ".gpkg") and isinstance(frame, gpd.GeoDataFrame):
        frame.to_file(path, driver="GPKG" if suffix == ".gpkg" else "GeoJSON", engine="pyogrio")
    else:
        raise BadInput(f"cannot write {path.name}: use .geojson, .gpkg or .csv")
    console.print(f"wrote {len(frame)} rows to {path}")
