"""``twin serve``: load the bundled data into an empty store, draw the map's tiles ahead on the
embedded store, and serve the HTTP app with uvicorn — in one process, or in ``--workers N``
processes sharing the port (uvicorn's own supervisor, which starts a worker again when one
dies).

Several processes need no coordination of their own: every cache (tiles, analysis models)
is checked against the store's change log, which every write adds to in its own transaction,
so a write through one process is seen by the next request to any other; the embedded store
takes one writer at a time (SQLite WAL, ``BEGIN IMMEDIATE``, a busy timeout); rate limits
and the live stream share Redis when ``TWIN_REDIS_URL`` is set.
"""

from __future__ import annotations

import logging
import os
from typing import Annotated, Any

import typer

from twin.cli.common import console, open_store, user_errors
from twin.cli.data import load_progress
from twin.core.settings import DATA_DIR, Settings


def _warm_map_tiles(store: Any, settings: Settings) -> None:
    """Draw the public map's tiles to z14 ahead (``twin tiles warm``), saying so, where the
    store keeps tiles (the embedded store; PostGIS draws a tile as fast as it would read one)."""
    from tiles.service import TileService
    from twin.cli.tiles import warm_with_bar

    service = TileService(store, settings.tiles)
    try:
        if service.stored is None:  # a store that keeps no tiles, or TWIN_TILES_STORE_MB=0
            return
        summary = warm_with_bar(service, maxzoom=14)
        if summary.drawn:
            console.print(f"drew {summary.drawn:,} map tiles ahead (z0–z14), kept in the store")
    finally:
        service.close()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    load_if_empty: Annotated[
        bool, typer.Option(help="Load the bundled Almaty data first if the store is empty.")
    ] = True,
    warm: Annotated[
        bool,
        typer.Option(
            help="On the embedded store, draw the map's tiles up to z14 ahead and keep them "
            "in the file (tiles kept already are skipped: only the first start takes long).",
        ),
    ] = True,
    prebuild: Annotated[
        bool,
        typer.Option(
            help="Build the search index and the walking graph in the background as each "
            "server process starts (TWIN_PREBUILD), not in the first requests that need them.",
        ),
    ] = True,
    worker_healthcheck: Annotated[
        int,
        typer.Option(
            min=1,
            help="With --workers N: seconds a worker may take to answer the supervisor's "
            "liveness ping before it is killed and started again (uvicorn's default is 5).",
        ),
    ] = 60,
    keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="TWIN_KEEP_ALIVE",
            help="Seconds an idle keep-alive connection stays open (TWIN_KEEP_ALIVE; "
            "uvicorn's default is 5, nginx's 75).",
        ),
    ] = 75,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port (one per core is a good start). Each "
            "keeps its own caches, kept coherent through the store's change log.",
        ),
    ] = 1,
) -> None:
    """Serve the map, tiles, features and analyses over HTTP."""
    import uvicorn

    from etl.load import load_bundled
    from twin.app import create_app

    if prebuild:
        os.environ.setdefault("TWIN_PREBUILD", "1")  # the worker processes read it too
    settings = Settings.from_env()
    with user_errors():
        store = open_store(settings)
        try:
            if load_if_empty and sum(store.counts().values()) == 0:
                console.print("the store is empty: loading the bundled Almaty data first …")
                with load_progress(None) as advance:
                    load_bundled(store, DATA_DIR, progress=advance)
            if warm:
                _warm_map_tiles(store, settings)
        finally:
            store.close()
    logging.basicConfig(level=logging.INFO)
    # Keep-alive 75 s, not uvicorn's 5. The likely cause, not traced: under overload a
    # worker's event loop runs a connection's idle timer before it reads the request the
    # client has just sent on it, and closes it with that request unread (a reset). At the
    # city x 100, 500 locust users, 2 workers: 0.86 % and 2.17 % of requests failed so (all
    # ConnectionResetError, no server error logged); with 75 s, 0.00 % (bench.scale's locust
    # part, TWIN_KEEP_ALIVE=75; 1 worker lost none either way).
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, timeout_keep_alive=keep_alive)
    else:
        # Each worker process builds its app from the same environment (an import string:
        # an app object cannot be handed to another process).
        # The supervisor pings each worker over a pipe, answered by a thread of the worker's
        # that needs the GIL. Under load (the city x 100, 500 locust users, 2 workers) a busy
        # worker missed uvicorn's 5 s: it was killed with every request it held, and its
        # replacement spent 75 s on its start-up builds while the other worker took all the
        # load — 6 % of requests failed, "Child process died" in the log (uvicorn #2506;
        # Airflow raised it to 120 s). A hung worker is still replaced, a minute later.
        uvicorn.run(
            "twin.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_worker_healthcheck=worker_healthcheck,
            timeout_keep_alive=keep_alive,
        )


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``twin`` command."""
    app.command("serve")(serve)
