"""The FastAPI application: built by :func:`create_app` from explicit settings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import Message, Scope

from tiles.service import TileService
from twin import search as search_index
from twin.accounts import Accounts, sender_from_setting
from twin.analyses import cluster
from twin.analyses.budget import Budget
from twin.analyses.coverage import jobs as coverage_jobs
from twin.analyses.coverage.estimate import StreetCells
from twin.analyses.coverage.session import ScopeCache
from twin.analyses.memo import StoreMemo
from twin.api import access as access_routes
from twin.api import accounts as account_routes
from twin.api import air as air_routes
from twin.api import (
    appeal_analysis,
    catalog,
    districts,
    errors,
    events,
    features,
    headers,
    limits,
    openapi,
    results,
    search,
    web,
)
from twin.api import appeals as appeal_routes
from twin.api import budget as budget_routes
from twin.api import business as business_routes
from twin.api import city_events as city_event_routes
from twin.api import coverage as coverage_routes
from twin.api import open311 as open311_routes
from twin.api import orgs as org_routes
from twin.api import participation as participation_routes
from twin.api import photos as photo_routes
from twin.api import premium as premium_routes
from twin.api import seismic as seismic_routes
from twin.api import site as site_routes
from twin.api import tiles as tile_routes
from twin.api.access import prepare as access_prepare
from twin.budget.service import sync_layer as sync_budget_layer
from twin.business.metering import Meter, QuotaCounter
from twin.business.orgs import Organisations
from twin.business.plans import load_plans
from twin.core.access import key_ring, role_for
from twin.core.settings import Settings
from twin.events.service import sync_layers as sync_event_layers
from twin.live import Broker, install, uninstall
from twin.participation import GroupWriter, Initiatives, Moderation, Ratings, WriteLimits
from twin.photos import PhotoStore
from twin.photos import sweep as photo_sweep
from twin.store import Store, open_store
from twin.store.tables import api_keys

log = logging.getLogger(__name__)


async def _sweep_photos(app: FastAPI, settings: Settings) -> None:
    """Delete uploaded photos nothing named in time, now and then (twin.photos.sweep), in a
    worker thread; a failed sweep is logged and the next one tries again."""
    every = settings.participation.photo_sweep_s
    while True:
        try:
            await anyio.to_thread.run_sync(
                partial(
                    photo_sweep.sweep,
                    app.state.store,
                    app.state.photos,
                    hours=settings.participation.photo_hours,
                )
            )
        except Exception:
            log.exception("photo sweep failed")
        await asyncio.sleep(every)


def _prebuild(store: Store, done: threading.Event) -> None:
    """Build the search index and the walking graph (see ``Settings.prebuild``); a failure
    is logged, and the first request that needs them builds them instead. ``done`` is set
    at the end either way."""
    log = logging.getLogger("twin.api")
    for what, build in (("search index", search_index.prepare), ("walking graph", access_prepare)):
        t0 = time.perf_counter()
        try:
            build(store)
        except Exception as exc:  # any store or data failure: the first request builds
            log.warning("%s not built ahead: %r", what, exc)
        else:
            log.info("%s built ahead in %.1f s", what, time.perf_counter() - t0)
    done.set()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the twin's HTTP app; the store is opened in the lifespan and kept on app.state."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = open_store(
            settings.store.database_url, replicas=settings.store.replicas()
        )
        app.state.tiles = TileService(app.state.store, settings.tiles)
        # The event layers mirror city_events (a store whose events predate the layers gets
        # them now; one read when they are in line). The service starts without it if the
        # database is away: the next post or load writes them anyway.
        try:
            await anyio.to_thread.run_sync(sync_event_layers, app.state.store)
        except Exception as exc:  # any store failure: start regardless
            logging.getLogger("twin.api").warning("event layers not synced: %r", exc)
        # The budget cycles' projects layer likewise (and a generated cycle loaded uncounted is
        # counted now, so the map shows who won from the first start).
        try:
            await anyio.to_thread.run_sync(sync_budget_layer, app.state.store)
        except Exception as exc:  # any store failure: start regardless
            logging.getLogger("twin.api").warning("budget layer not synced: %r", exc)
        # Keys made by `twin keys create` are checked against the store (hashed, revocable).
        store = app.state.store
        key_ring(settings.auth).lookup = lambda key_id: api_keys.find_key(store, key_id)
        cluster.connect(settings.dask_scheduler)
        app.state.accounts = Accounts(
            app.state.store, settings.accounts, sender_from_setting(settings.accounts.sender)
        )
        # Business customers: organisations, their keys and plans, metered analyses
        app.state.orgs = Organisations(app.state.store, plans)
        app.state.meter = Meter(
            app.state.orgs,
            plans,
            QuotaCounter(settings.redis_url),
            enabled=settings.business.metering,
        )
        app.state.meter.start_flushing()
        app.state.ratings = Ratings(app.state.store)
        app.state.photos = PhotoStore(settings.photo_root())
        app.state.initiatives = Initiatives(app.state.store, photo_store=app.state.photos)
        app.state.moderation = Moderation(app.state.store)
        # Ratings and likes are committed in groups (twin.participation.writer): on GeoPackage
        # by one thread (SQLite has one writer at a time); on PostGIS, where a group's time is
        # round trips, ratings by one writer (its groups hold the change log's lock, so they
        # take turns anyway) and likes by another of 4 threads, side by side. Both announce
        # under one lock, so the live stream keeps the commit order.
        parallel = app.state.store.parallel_writers
        order = threading.Lock()
        group = partial(
            GroupWriter,
            app.state.store,
            max_batch=settings.participation.group_max,
            max_wait_s=settings.participation.group_wait_ms / 1000,
            order_lock=order,
        )
        app.state.group_writer = group(
            prepare=app.state.ratings.prepare_group,
            threads=settings.participation.group_threads or (2 if parallel else 1),
            name="rating-writer",
        )
        app.state.reaction_writer = (
            group(threads=settings.participation.group_threads or 4, name="reaction-writer")
            if parallel
            else app.state.group_writer
        )
        app.state.write_limits = WriteLimits(
            settings.redis_url, scale=settings.participation.limit_scale
        )
        # Analyses' kept models and results (twin.analyses.coverage.session, twin.api.results)
        app.state.coverage_scopes = ScopeCache()
        app.state.coverage_public = {}
        # Street length per cell, for refusing an over-limit analysis before it takes a
        # worker (twin.analyses.coverage.estimate)
        app.state.street_cells = StoreMemo(StreetCells, size=2)
        app.state.results = results.ResultStore()
        # Threads of the tile fast path's own (see twin.api.tiles.TileFastPath).
        app.state.tile_threads = ThreadPoolExecutor(
            max_workers=tile_routes.TILE_THREADS, thread_name_prefix="tiles"
        )
        # The live stream's broker (twin.live): domain services publish through it.
        app.state.live = Broker(settings.live, settings.redis_url)
        await app.state.live.start()
        install(app.state.live)
        await warm_routes(app)
        if settings.prebuild:
            app.state.prebuilt = threading.Event()  # said in /healthz
            threading.Thread(
                target=_prebuild,
                args=(app.state.store, app.state.prebuilt),
                name="prebuild",
                daemon=True,
            ).start()
        sweeper = (
            asyncio.create_task(_sweep_photos(app, settings))
            if settings.participation.photo_sweep_s > 0
            else None
        )
        # What start-up made (modules, layers, routes, the store's metadata: ~320,000
        # objects) lives as long as the server. Left to the collector, every full collection
        # walked it all: 0.2 s of CPU each, run by whichever request's garbage triggered it
        # (the corpus' 2,999-camera bodies did, several times a second), with the event
        # loop stopped meanwhile (measured under bench/abuse.py: 0.7-0.9 s of wall time at
        # load ~13). Frozen, it is left out of every collection; given back at shutdown.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if sweeper is not None:
                sweeper.cancel()
            app.state.meter.stop()
            await anyio.to_thread.run_sync(app.state.group_writer.close)
            await anyio.to_thread.run_sync(app.state.reaction_writer.close)
            uninstall(app.state.live)
            await app.state.live.aclose()
            app.state.tile_threads.shutdown(wait=False, cancel_futures=True)
            await app.state.tiles.aclose()
            app.state.store.close()
            cluster.connect(None)
            await anyio.to_thread.run_sync(app.state.analysis_gate.close)

    app = FastAPI(
        title="Almaty City Twin",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's Swagger UI and ReDoc pages load their scripts from a CDN: off. The map
        # promises nothing loads from another host, so /docs and /redoc are our own pages,
        # built with the map (twin.api.web).
        docs_url=None,
        redoc_url=None,
        description="A geospatial digital twin of Almaty: layers, vector tiles, "
        "open-data features and city analyses.",
    )
    app.state.settings = settings
    # read and checked now: a wrong plans file stops the server before it bills anyone
    plans = load_plans(settings.business.plans)
    app.state.plans = plans
    app.state.analysis_gate = limits.AnalysisGate(
        settings.limits.analyses,
        Budget(
            max_cells=settings.limits.analysis_cells,
            max_edit_cells=settings.limits.analysis_edit_cells,
            max_candidate_cells=settings.limits.analysis_candidate_cells,
            seconds=settings.limits.analysis_seconds,
        ),
        memory_bytes=settings.limits.analysis_memory_mb * 2**20,
        setup=coverage_jobs.setup,
        setup_args=(
            settings.store.database_url,
            settings.store.replicas(),
            settings.dask_scheduler,
        ),
    )
    errors.install(app)
    openapi.install(app)
    app.include_router(catalog.router)
    app.include_router(account_routes.router)
    app.include_router(participation_routes.router)
    app.include_router(photo_routes.router)
    app.include_router(events.router)
    app.include_router(city_event_routes.router)
    app.include_router(search.router)
    app.include_router(districts.router)
    app.include_router(air_routes.router)
    app.include_router(seismic_routes.router)
    app.include_router(access_routes.router)
    app.include_router(coverage_routes.router)
    app.include_router(results.router)
    app.include_router(site_routes.router)
    app.include_router(business_routes.router)
    app.include_router(premium_routes.router)
    app.include_router(org_routes.router)
    app.include_router(budget_routes.router)
    app.include_router(open311_routes.router)
    app.include_router(appeal_analysis.router)
    app.include_router(appeal_routes.router)
    app.include_router(features.router)
    app.include_router(tile_routes.router)
    app.add_middleware(tile_routes.TileFastPath)
    web.install(app)
    # Outermost: NUL characters and over-limit bodies are refused before anything runs.
    app.add_middleware(
        limits.RequestGuard,
        default_bytes=settings.limits.body_bytes,
        role_of=lambda authorization: role_for(authorization, settings.auth),
        idle_seconds=settings.limits.body_idle_seconds,
        min_bytes_per_s=settings.limits.body_min_bytes_per_s,
        inflight_bytes=settings.limits.body_inflight_bytes,
    )
    app.add_middleware(headers.OpenDataCORS, origins=settings.cors_origins)
    app.add_middleware(
        headers.SecurityHeaders,
        csp=headers.content_security_policy(settings.tiles.glyphs_url),
    )
    return app


async def warm_routes(app: FastAPI) -> None:
    """Build every route's request handling now, not on the event loop under load.

    FastAPI builds the routes of each included router (their dependants and validators) the
    first time a request walks that router. Measured under bench/abuse.py (a per-step timer
    around the app, load ~12 on 2 cores): the first coverage and placement requests each
    spent 0.23-0.27 s of CPU in one step on the event loop doing so, 1.8 s of wall time in
    which no tile and no ``/healthz`` was answered. A request for a path that no route
    matches walks every router, so one is sent through the router at start-up.
    """
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": "/.warm-routes",
        "raw_path": b"/.warm-routes",
        "query_string": b"",
        "headers": [],
        "root_path": "",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 0),
        "app": app,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    with contextlib.suppress(HTTPException):  # the expected 404
        await app.router(scope, receive, send)
