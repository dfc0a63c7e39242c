"""Settings, one small pydantic-settings class per concern, read from ``TWIN_*`` variables.

Nothing reads the environment at import time: the CLI entry point and ``create_app`` build a
:class:`Settings` and pass it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_STORE = DATA_DIR / "twin.gpkg"


class StoreSettings(BaseSettings):
    """Where the city is stored: a GeoPackage path (embedded, default) or a PostGIS URL."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    database_url: str = Field(default=f"gpkg:///{DEFAULT_STORE}")
    #: ``TWIN_DATABASE_REPLICA_URLS``: comma-separated ``postgresql://`` URLs of streaming
    #: replicas of the PostGIS primary; reads of the layers go there when fresh enough.
    database_replica_urls: str = ""

    def replicas(self) -> list[str]:
        """Return the replica URLs, in order."""
        return [u.strip() for u in self.database_replica_urls.split(",") if u.strip()]


class AuthSettings(BaseSettings):
    """API keys as comma-separated ``role:key`` pairs (roles: resident, planner, admin)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    api_keys: str = ""
    #: the keys hashed for checking (:func:`twin.core.access.key_ring`), made on first use
    _ring: Any = PrivateAttr(default=None)

    @field_validator("api_keys")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            role, sep, key = pair.partition(":")
            if not sep or not key or role not in {"resident", "planner", "admin", "moderator"}:
                raise ValueError(
                    f"TWIN_API_KEYS entry {pair.split(':')[0]!r}… is not 'role:key' with role "
                    "resident, planner, admin or moderator"
                )
        return value

    def keys(self) -> dict[str, str]:
        """Return ``{key: role}`` for every configured API key."""
        out: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.api_keys.split(","))):
            role, _, key = pair.partition(":")
            out[key] = role
        return out


class TileSettings(BaseSettings):
    """How tiles are encoded, cached and told to HTTP caches."""

    model_config = SettingsConfigDict(env_prefix="TWIN_TILES_", extra="ignore")

    #: "auto": the database's own encoder where the store has one (PostGIS ``ST_AsMVT``), the
    #: in-process encoder otherwise (the GeoPackage store); "database" insists on the first,
    #: "embedded" on the second.
    encoder: Literal["auto", "database", "embedded"] = "auto"
    #: Budget of the in-process LRU of gzip-compressed tiles.
    cache_mb: float = Field(default=256.0, ge=0)
    #: Budget of the tiles kept in the embedded store's file (:mod:`tiles.stored`) by tiles
    #: drawn on demand; ``twin tiles warm`` keeps what it is asked for. 0 keeps and reads none.
    store_mb: float = Field(default=1024.0, ge=0)
    #: Seconds between two looks at the store's change log. 0 looks before every tile, so a
    #: tile is never served from cache after a write committed; raise it to trade that for
    #: one query less per request.
    poll_interval: float = Field(default=0.0, ge=0)
    #: ``Cache-Control: max-age`` of tiles. 0 makes clients revalidate every time (a cheap
    #: 304 thanks to the ETag), so an edit shows on the next map move.
    max_age: int = Field(default=0, ge=0)
    #: MapLibre ``glyphs`` URL template (``…/{fontstack}/{range}.pbf``). Without it the style
    #: has no label layers, because MapLibre cannot draw text without glyphs.
    glyphs_url: str | None = None
    #: Font stack the label layers ask the glyphs server for.
    font: str = "Noto Sans Regular"
    #: Where a layer is public only as H3 counts (appeals), no hexagon shows fewer than this
    #: many points: smaller ones are merged into coarser cells or left out (k-anonymity).
    public_min_count: int = Field(default=5, ge=1)


class LimitSettings(BaseSettings):
    """What one request may cost: body size, analysis size and time, concurrent analyses, and
    the smallest count a public aggregate shows (``TWIN_LIMITS_*``)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_LIMITS_", extra="ignore")

    #: Bytes a request body may carry unless its route declares more (``twin.api.limits``).
    body_bytes: int = Field(default=1_000_000, ge=1)
    #: Longest wait (seconds) for the next piece of a request body, and the slowest average
    #: rate (bytes/s) a body may arrive at once that wait has passed; a slower body is
    #: answered 408 and its connection closed (a client trickling an upload held its bytes
    #: and its connection for as long as it liked).
    body_idle_seconds: float = Field(default=20.0, gt=0)
    body_min_bytes_per_s: int = Field(default=8_000, ge=0)
    #: Bytes of request bodies one server process reads or holds at once (a body's declared
    #: length is reserved when its endpoint starts reading it); a body that would pass it is
    #: answered 503 with ``Retry-After``.
    body_inflight_bytes: int = Field(default=200_000_000, ge=1)
    #: Heavy analyses running at once; one more is answered 429 with ``Retry-After``.
    analyses: int = Field(default=2, ge=1)
    #: Seconds an analysis may run before it is stopped (answered 413 naming the limit).
    analysis_seconds: float = Field(default=60.0, gt=0)
    #: Largest estimated analysis costs (:class:`twin.analyses.budget.Budget`): grid cells
    #: built (~430 bytes each: 4 M is ~1.7 GB; the whole city at 5 m is 1.0 M, at 1 m 25.6 M),
    #: view cells (5 m) of the cameras a what-if edit recomputes, and of all placement
    #: candidates (the default placement over the city is ~32 M).
    analysis_cells: int = Field(default=4_000_000, ge=1)
    analysis_edit_cells: int = Field(default=50_000_000, ge=1)
    analysis_candidate_cells: int = Field(default=500_000_000, ge=1)
    #: Memory (MiB) one analysis' worker process may hold (``twin.analyses.workers``): its
    #: address space is capped at its size after start-up plus this, and its resident set is
    #: watched against it; past it the run is stopped (413) and the worker replaced.
    analysis_memory_mb: int = Field(default=1536, ge=64)
    #: Public aggregates outside the tiles hide counts below this (k-anonymity); the tiles'
    #: own is ``TWIN_TILES_PUBLIC_MIN_COUNT``.
    min_count: int = Field(default=5, ge=1)


class AccountSettings(BaseSettings):
    """Resident accounts (:mod:`twin.accounts`): lifetimes, lockout and the code sender."""

    model_config = SettingsConfigDict(env_prefix="TWIN_ACCOUNTS_", extra="ignore")

    #: days a browser session or an API token stays valid
    session_days: float = Field(default=30.0, gt=0)
    #: minutes a verification code stays valid
    code_minutes: float = Field(default=15.0, gt=0)
    #: wrong codes accepted before the code is void and a new sign-up must ask for another
    code_attempts: int = Field(default=5, ge=1)
    #: failed sign-ins in a row that lock an account, and for how long
    lockout_failures: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    #: who delivers verification codes: "log" (the server log, the default) or
    #: "package.module:Class" of a :class:`twin.accounts.senders.CodeSender`
    sender: str = "log"


class LiveSettings(BaseSettings):
    """The live stream (``/api/events``, :mod:`twin.live`): how much each open map may lag and
    how much history a reconnecting map may resume from."""

    model_config = SettingsConfigDict(env_prefix="TWIN_LIVE_", extra="ignore")

    #: Events one subscriber may have waiting; a client that falls further behind is dropped
    #: (its browser reconnects and resumes from the history), so a slow phone costs the server
    #: at most this many events of memory.
    queue_size: int = Field(default=256, ge=1, le=100_000)
    #: Recent events kept per process for ``Last-Event-ID`` resume after a reconnect.
    history: int = Field(default=1000, ge=0, le=1_000_000)
    #: Seconds between heartbeat comments on an idle stream (keeps proxies from closing it).
    heartbeat: float = Field(default=15.0, gt=0)
    #: Seconds one write to a client may take before the client is dropped.
    send_timeout: float = Field(default=10.0, gt=0)
    #: Redis pub/sub channel (and prefix of the id counter) when ``TWIN_REDIS_URL`` is set;
    #: processes sharing it share one stream.
    channel: str = Field(default="twin:live", min_length=1, max_length=100)


class ParticipationSettings(BaseSettings):
    """Residents' writes (:mod:`twin.participation`)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_PARTICIPATION_", extra="ignore")

    #: multiplies every write limit (``twin.participation.limits.DEFAULT_LIMITS``): a load
    #: test or a trusted deployment raises it; 1 is the public default
    limit_scale: float = Field(default=1.0, gt=0, le=1_000_000)
    #: ``TWIN_PARTICIPATION_PHOTO_HOURS``: an uploaded photo nothing names within this many
    #: hours is deleted, file and row (:mod:`twin.photos.sweep`)
    photo_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    #: ``TWIN_PARTICIPATION_PHOTO_SWEEP_S``: how often the server sweeps such photos (0: never;
    #: ``twin photos sweep`` then does it)
    photo_sweep_s: float = Field(default=3600.0, ge=0, le=7 * 86400)
    #: ``TWIN_PARTICIPATION_GROUP_MAX``: at most this many ratings and likes are committed in
    #: one transaction by the group writer (:mod:`twin.participation.writer`)
    group_max: int = Field(default=64, ge=1, le=1024)
    #: ``TWIN_PARTICIPATION_GROUP_WAIT_MS``: how long the group writer waits for more writes
    #: after the first of a group (0: it takes what is queued, which under load is plenty)
    group_wait_ms: float = Field(default=0.0, ge=0, le=100)
    #: ``TWIN_PARTICIPATION_GROUP_THREADS``: threads of each group writer (0: on GeoPackage
    #: 1, ratings and likes together, since SQLite's writers take turns anyway; on PostGIS 2
    #: for ratings and 4 for likes, where a group's time is round trips)
    group_threads: int = Field(default=0, ge=0, le=64)


class BusinessSettings(BaseSettings):
    """Business customers' plans and metering (:mod:`twin.business`)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_BUSINESS_", extra="ignore")

    #: ``TWIN_BUSINESS_PLANS``: a TOML file of plans and weights replacing the bundled
    #: ``twin/business/plans.toml``
    plans: str | None = None
    #: ``TWIN_BUSINESS_METERING``: 0 turns plans, quotas and usage off (a private deployment;
    #: the benchmark's floor)
    metering: bool = True


class Settings(BaseSettings):
    """All settings of one twin process."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    store: StoreSettings = Field(default_factory=StoreSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    tiles: TileSettings = Field(default_factory=TileSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)
    participation: ParticipationSettings = Field(default_factory=ParticipationSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    business: BusinessSettings = Field(default_factory=BusinessSettings)
    #: ``TWIN_PUBLIC_URL``: the public base URL of links (style, TileJSON, OGC API links),
    #: e.g. ``https://twin.almaty.kz``; unset: the address the connection reached (never the
    #: ``Host`` header, which a client chooses).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    #: ``TWIN_CORS_ORIGINS``: origins (comma-separated, ``*`` for any) that may GET the open
    #: data (features, tiles, style, catalog) from a browser page of theirs; empty: none.
    cors_origins: str = "*"
    #: ``TWIN_REDIS_URL``: shared state of several server processes (rate limits, quotas, the
    #: live events fan-out). Unset: one process keeps them in memory.
    redis_url: str | None = None
    #: ``TWIN_PHOTOS_DIR``: where residents' photos are kept (:mod:`twin.photos`); unset: a
    #: ``photos`` folder beside an embedded store's file, else ``data/photos``.
    photos_dir: Path | None = None
    #: ``TWIN_DASK_SCHEDULER``: ``tcp://host:8786`` of a Dask cluster that runs the whole-city
    #: analyses' heavy steps (every camera's visibility, every building's nearest facility,
    #: the walking times behind site scores); unset: in this process.
    dask_scheduler: str | None = None
    #: ``TWIN_PREBUILD``: build the search index and the walking graph in the background as
    #: the server starts, rather than in the first search's and isochrone's requests (``twin
    #: serve`` does unless ``--no-prebuild``). On the city x 10, those first requests waited
    #: 20-30 s behind one another for these builds while locust's users arrived.
    prebuild: bool = False

    def photo_root(self) -> Path:
        """Return the folder residents' photos are kept in."""
        if self.photos_dir is not None:
            return self.photos_dir
        url = self.store.database_url
        if url.startswith("gpkg:///"):
            return Path(url.removeprefix("gpkg://")).parent / "photos"
        return DATA_DIR / "photos"

    @classmethod
    def from_env(cls) -> Settings:
        """Return settings read from the environment now (call it at an entry point)."""
        return cls(
            store=StoreSettings(),
            auth=AuthSettings(),
            tiles=TileSettings(),
            live=LiveSettings(),
            limits=LimitSettings(),
            business=BusinessSettings(),
        )
